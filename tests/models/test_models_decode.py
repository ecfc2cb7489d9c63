"""Every docs example response decodes into its models, with the documented values and types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from coinflex_async.models import (
    AccountInfo,
    Asset,
    Balance,
    Borrow,
    BorrowingSummary,
    CancelAllResult,
    Candle,
    DeliverAuction,
    DeliveryFunding,
    DeliveryOrder,
    DeliveryRequest,
    FundingPayment,
    FundingRate,
    Level,
    Market,
    MatchInfo,
    Mint,
    MintRecord,
    OpenOrder,
    OrderBook,
    OrderResult,
    OrderStatus,
    Ping,
    Position,
    PublicTrade,
    Redeem,
    RedeemRecord,
    Repay,
    Ticker,
    Trade,
)
from coinflex_async.models._base import Envelope, decoder_for
from tests.models import docs_examples as docs


def decode(shape: Any, body: bytes) -> Any:
    return decoder_for(shape).decode(body)


def data_of(shape: Any, body: bytes) -> Any:
    envelope = decode(Envelope[shape], body)
    return envelope.data


def assert_decoded(actual: Any, expected: Any, path: str = "$") -> None:
    """``actual == expected``, with the same type at every level and Decimals digit for digit.

    Plain ``==`` is not enough: ``Decimal("1") == 1 == True`` and ``Decimal("1.0") == 1``.
    """
    assert type(actual) is type(expected), f"{path}: {actual!r} is not a {type(expected)}"
    if isinstance(expected, msgspec.Struct):
        for field in msgspec.structs.fields(expected):
            assert_decoded(
                getattr(actual, field.name), getattr(expected, field.name), f"{path}.{field.name}"
            )
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{path}: {len(actual)} items, not {len(expected)}"
        for index, (actual_item, expected_item) in enumerate(zip(actual, expected, strict=True)):
            assert_decoded(actual_item, expected_item, f"{path}[{index}]")
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), f"{path}: keys {list(actual)}"
        for key, expected_value in expected.items():
            assert_decoded(actual[key], expected_value, f"{path}[{key!r}]")
    elif isinstance(expected, Decimal):
        assert actual.as_tuple() == expected.as_tuple(), f"{path}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (1, Decimal("1")),
        (True, 1),
        ("1", 1),
        (Decimal("1.0"), Decimal("1")),
        ([1], [1, 1]),
        ({"a": 1}, {"b": 1}),
        (Mint(asset="USD", quantity=Decimal("1")), Mint(asset="USD", quantity=Decimal("2"))),
    ],
)
def test_assert_decoded_tells_types_and_decimal_digits_apart(actual: Any, expected: Any) -> None:
    with pytest.raises(AssertionError):
        assert_decoded(actual, expected)


# Public endpoints


def test_ping() -> None:
    assert_decoded(decode(Ping, docs.PING), Ping(success=True))
    assert_decoded(decode(Ping, b'{"success": "false"}'), Ping(success=False))


def test_markets() -> None:
    expected = Market(
        market_id="2001000000000",
        market_code="BTC-USD",
        name="BTC/USD",
        reference_pair="BTC/USD",
        base="BTC",
        counter="USD",
        type="SPOT",
        tick_size=Decimal("0.1"),
        qty_increment=Decimal("0.001"),
        listing_date=2208988800000,
        end_date=0,
        margin_currency="USD",
        contract_val_currency="BTC",
        upper_price_bound=Decimal("11000.00"),
        lower_price_bound=Decimal("9000.00"),
        market_price=Decimal("10000.00"),
        market_price_last_updated=1620810131131,
    )
    assert_decoded(data_of(list[Market], docs.MARKETS), [expected])


def test_assets() -> None:
    expected = [
        Asset(
            instrument_id="BTC-USD-200626-LIN",
            name="BTC/USD 20-06-26 Future (Linear)",
            base="BTC",
            counter="USD",
            type="FUTURE",
            margin_currency="USD",
            contract_val_currency="BTC",
            delivery_date=None,
            delivery_instrument=None,
        ),
        Asset(
            instrument_id="BTC",
            name="Bitcoin",
            base=None,
            counter=None,
            type="SPOT",
            margin_currency=None,
            contract_val_currency=None,
            delivery_date=None,
            delivery_instrument=None,
        ),
    ]
    assert_decoded(data_of(list[Asset], docs.ASSETS), expected)


def test_public_trades() -> None:
    expected = PublicTrade(
        match_id="160070803925856675",
        match_quantity=Decimal("0.100000000"),
        match_price=Decimal("9600.000000000"),
        side="BUY",
        match_timestamp=1595585860254,
    )
    assert_decoded(data_of(list[PublicTrade], docs.PUBLIC_TRADES), [expected])


def test_ticker() -> None:
    expected = Ticker(
        market_code="BTC-USD-SWAP-LIN",
        last=Decimal("43.259"),
        mark_price=Decimal("11012.80409769"),
        open24h=Decimal("49.375"),
        volume24h=Decimal("11295421"),
        currency_volume24h=Decimal("1025.7"),
        high24h=Decimal("49.488"),
        low24h=Decimal("41.649"),
        open_interest=Decimal("1726003"),
        last_qty=Decimal("1"),
    )
    assert_decoded(data_of(list[Ticker], docs.TICKER), [expected])


def test_delivery_funding_is_a_bare_list_with_date_time_strings() -> None:
    expected = [
        DeliveryFunding(
            timestamp="2020-12-08 04:00:00",
            instrument_id="COMP-USD-SWAP-LIN",
            funding_rate=Decimal("0.000000000"),
        ),
        DeliveryFunding(
            timestamp="2020-12-08 04:00:00",
            instrument_id="CRV-USD-SWAP-LIN",
            funding_rate=Decimal("0.000000000"),
        ),
    ]
    assert_decoded(decode(list[DeliveryFunding], docs.DELIVERY_FUNDING), expected)


def test_candles() -> None:
    expected = [
        Candle(
            timestamp=1616713140000,
            open=Decimal("51706.50000000"),
            high=Decimal("51758.50000000"),
            low=Decimal("51705.50000000"),
            close=Decimal("51754.00000000"),
            volume24h=Decimal("0"),
            currency_volume24h=Decimal("0"),
        ),
        Candle(
            timestamp=1616713200000,
            open=Decimal("51755.50000000"),
            high=Decimal("51833.00000000"),
            low=Decimal("51748.00000000"),
            close=Decimal("51815.00000000"),
            volume24h=Decimal("0"),
            currency_volume24h=Decimal("0"),
        ),
    ]
    assert_decoded(data_of(list[Candle], docs.CANDLES), expected)


def test_funding_rates() -> None:
    expected = FundingRate(
        funding_rate=Decimal("0.00008"),
        index=Decimal("2.78222423"),
        mark_price=Decimal("33937.2848"),
        market_code="BTC-USD-REPO-LIN",
        timestamp=1606461774458,
    )
    assert_decoded(data_of(list[FundingRate], docs.FUNDING_RATES), [expected])


def test_depth_levels_are_exact_decimals_from_json_numbers() -> None:
    def level(price: str, quantity: str) -> Level:
        return Level(price=Decimal(price), quantity=Decimal(quantity))

    expected = OrderBook(
        asks=[
            level("54792", "0.001"),
            level("54802.5", "0.366"),
            level("54803", "0.75"),
            level("54806", "1.5"),
            level("54830.5", "0.687"),
        ],
        bids=[
            level("54786.5", "0.1"),
            level("54754.5", "0.375"),
            level("54752", "0.394"),
            level("54749.5", "0.001"),
            level("54745.5", "0.339"),
        ],
        market_code="BTC-USD-SWAP-LIN",
        timestamp=1615457834388,
    )
    assert_decoded(data_of(list[OrderBook], docs.DEPTH), [expected])


# Private endpoints: account


def test_account_info() -> None:
    expected = AccountInfo(
        account_id="<Your Account ID>",
        trade_type="LINEAR",
        margin_currency="USD",
        total_balance=Decimal("10000"),
        available_balance=Decimal("10000"),
        collateral_balance=Decimal("10000"),
        portfolio_var_margin=Decimal("500"),
        risk_ratio=Decimal("20.0000"),
        timestamp=1611665624601,
    )
    assert_decoded(data_of(list[AccountInfo], docs.ACCOUNT_INFO), [expected])


def test_balances() -> None:
    expected = [
        Balance(
            instrument_id="BTC",
            total=Decimal("4468.823"),
            available=Decimal("4468.823"),
            reserved=Decimal("0"),
            quantity_last_updated=1593627415234,
        ),
        Balance(
            instrument_id="FLEX",
            total=Decimal("1585.890"),
            available=Decimal("325.890"),
            reserved=Decimal("1260"),
            quantity_last_updated=1593627415123,
        ),
    ]
    assert_decoded(data_of(list[Balance], docs.BALANCES), expected)


def test_balance_by_id() -> None:
    expected = Balance(
        instrument_id="FLEX",
        total=Decimal("4468.823"),
        available=Decimal("4468.823"),
        reserved=Decimal("0"),
        quantity_last_updated=1593627415001,
    )
    assert_decoded(data_of(list[Balance], docs.BALANCE_BY_ID), [expected])


def test_positions() -> None:
    expected = Position(
        instrument_id="BTC-USD-SWAP-LIN",
        quantity=Decimal("0.542000000"),
        last_updated=1617099855966,
        contract_val_currency="BTC",
        entry_price=Decimal("56934.8258"),
        position_pnl=Decimal("1212.0065"),
        est_liquidation_price=Decimal("52454.3592"),
    )
    assert_decoded(data_of(list[Position], docs.POSITIONS), [expected])


def test_position_by_id() -> None:
    expected = Position(
        instrument_id="BTC-USD-SWAP-LIN",
        quantity=Decimal("0.542000000"),
        last_updated=1617099855966,
        contract_val_currency="BTC",
        entry_price=Decimal("56934.8258"),
        position_pnl=Decimal("1216.6135"),
        est_liquidation_price=Decimal("53171.16"),
    )
    assert_decoded(data_of(list[Position], docs.POSITION_BY_ID), [expected])


def test_trades() -> None:
    expected = Trade(
        match_id="160067484555913077",
        match_timestamp=1595514663626,
        market_code="FLEX-USD",
        match_quantity=Decimal("0.1"),
        match_price=Decimal("0.065"),
        total=Decimal("0.0065"),
        order_match_type="TAKER",
        fees=Decimal("0.0096"),
        fee_instrument_id="FLEX",
        order_id="160067484555913076",
        side="SELL",
        client_order_id="123",
    )
    assert_decoded(data_of(list[Trade], docs.TRADES), [expected])


def test_funding_payments() -> None:
    expected = [
        FundingPayment(
            market_code="BTC-USD-SWAP-LIN",
            payment=Decimal("-122.17530872"),
            rate=Decimal("-0.00005"),
            position=Decimal("-61.093"),
            mark_price=Decimal("39996.5"),
            timestamp=1627617632190,
        ),
        FundingPayment(
            market_code="BTC-USD-SWAP-LIN",
            payment=Decimal("98.71895684"),
            rate=Decimal("0.00005"),
            position=Decimal("-61.093"),
            mark_price=Decimal("32317.6"),
            timestamp=1627041622046,
        ),
    ]
    assert_decoded(data_of(list[FundingPayment], docs.FUNDING_PAYMENTS), expected)


# Private endpoints: orders


def test_open_orders_limit_and_stop() -> None:
    common: dict[str, Any] = {
        "order_id": "160039151345856176",
        "market_code": "BTC-USD-SWAP-LIN",
        "side": "BUY",
        "quantity": Decimal("1.00"),
        "remaining_quantity": Decimal("1.00"),
        "order_created": 1593617008698,
        "last_modified": 1593617008698,
        "last_trade_timestamp": 1593617008698,
        "time_in_force": "GTC",
    }
    expected = [
        OpenOrder(
            **common,
            client_order_id=None,
            order_type="LIMIT",
            price=Decimal("1.00"),
            stop_price=None,
            limit_price=None,
        ),
        OpenOrder(
            **common,
            client_order_id="<clientOrderId>",
            order_type="STOP",
            price=None,
            stop_price=Decimal("1.10"),
            limit_price=Decimal("1.20"),
        ),
    ]
    assert_decoded(data_of(list[OpenOrder], docs.OPEN_ORDERS), expected)


def test_orders_v21_every_status() -> None:
    expected = [
        OrderStatus(
            status="OrderClosed",
            order_id="304408197314577142",
            client_order_id="1",
            market_code="BTC-USD-SWAP-LIN",
            side="BUY",
            order_type="LIMIT",
            price=Decimal("10006.0"),
            quantity=Decimal("0.001"),
            remain_quantity=Decimal("0.001"),
            time_in_force="GTC",
            order_closed_timestamp=1619131050779,
        ),
        OrderStatus(
            status="OrderOpened",
            order_id="304408197314577143",
            client_order_id="2",
            market_code="BTC-USD-SWAP-LIN",
            side="SELL",
            order_type="LIMIT",
            price=Decimal("60006.0"),
            quantity=Decimal("0.001"),
            remain_quantity=Decimal("0.001"),
            time_in_force="GTC",
            order_opened_timestamp=1619131049574,
        ),
        OrderStatus(
            status="OrderMatched",
            order_id="448528458527567629",
            client_order_id="1618870087524",
            market_code="FLEX-USD-SWAP-LIN",
            side="BUY",
            order_type="MARKET",
            price=Decimal("0.194"),
            last_traded_price=Decimal("0.170"),
            avg_fill_price=Decimal("0.170"),
            quantity=Decimal("12.1"),
            filled_quantity=Decimal("12.1"),
            remain_quantity=Decimal("0"),
            match_ids=[
                {
                    "448528458527567630": MatchInfo(
                        match_quantity=Decimal("12.1"),
                        match_price=Decimal("0.170"),
                        timestamp=1618870088471,
                        order_match_type="TAKER",
                    )
                }
            ],
            fees={"FLEX": Decimal("-0.00440786")},
            time_in_force="IOC",
            is_triggered=False,
        ),
    ]
    assert_decoded(data_of(list[OrderStatus], docs.ORDERS_V21), expected)


def test_cancel_all_orders() -> None:
    assert_decoded(
        data_of(CancelAllResult, docs.CANCEL_ALL),
        CancelAllResult(msg="All open orders for the account have been queued for cancellation"),
    )
    assert_decoded(
        data_of(CancelAllResult, docs.CANCEL_ALL_MARKET),
        CancelAllResult(
            msg="All open orders for the specified market have been queued for cancellation",
            market_code="FLEX-USD",
        ),
    )


def test_place_orders_with_a_rejection() -> None:
    expected = [
        OrderResult(
            success=False,
            timestamp=1615430915596,
            code="710002",
            message="FAILED sanity bound check as price (50007.0) <  lower bound (54767.0)",
            client_order_id="1612249737724",
            order_id="0",
            price=Decimal("50007.0"),
            quantity=Decimal("0.001"),
            side="SELL",
            market_code="BTC-USD-SWAP-LIN",
            time_in_force="GTC",
            order_type="LIMIT",
        ),
        OrderResult(
            success=True,
            timestamp=1615430915602,
            client_order_id="1612249737724",
            order_id="0",
            price=Decimal("54900.0"),
            quantity=Decimal("0.002"),
            side="BUY",
            market_code="BTC-USD-SWAP-LIN",
            time_in_force="GTC",
            order_type="LIMIT",
        ),
        OrderResult(
            success=True,
            timestamp=1615430915625,
            client_order_id="1612249737723",
            order_id="0",
            price=Decimal("54901.0"),
            quantity=Decimal("0.003"),
            side="SELL",
            market_code="BTC-USD-SWAP-LIN",
            time_in_force="GTC",
            order_type="LIMIT",
        ),
    ]
    assert_decoded(data_of(list[OrderResult], docs.PLACE_ORDERS), expected)


def test_modify_orders_with_rejections() -> None:
    expected = [
        OrderResult(
            success=False,
            timestamp=1614331651174,
            code="40032",
            message="Invalid request data",
            client_order_id="161224973777800",
            price=Decimal("40003.0"),
            quantity=Decimal("0.002"),
            side="SELL",
            market_code="BTC-USD-SWAP-LIN",
        ),
        OrderResult(
            success=False,
            timestamp=1614331651174,
            code="40032",
            message="Invalid request data",
            client_order_id="161224973777900",
            price=Decimal("40004.0"),
            quantity=Decimal("0.003"),
            side="SELL",
            market_code="BTC-USD-SWAP-LIN",
        ),
        OrderResult(
            success=True,
            timestamp=1614331651196,
            client_order_id="1614330009059",
            order_id="304369975621712263",
            price=Decimal("40001.0"),
            quantity=Decimal("0.007"),
            side="BUY",
            status="OPEN",
            market_code="BTC-USD-SWAP-LIN",
            time_in_force="GTC",
            notice="OrderOpened",
            order_type="LIMIT",
            is_triggered=False,
        ),
    ]
    assert_decoded(data_of(list[OrderResult], docs.MODIFY_ORDERS), expected)


def test_cancel_orders_with_a_rejection() -> None:
    expected = [
        OrderResult(
            success=True,
            timestamp=1615454881383,
            client_order_id="1615453494726",
            order_id="304384250571714215",
            price=Decimal("55006.0"),
            quantity=Decimal("0.006"),
            side="SELL",
            status="CANCELED_BY_USER",
            market_code="BTC-USD-SWAP-LIN",
            time_in_force="GTC",
            remain_quantity=Decimal("0.006"),
            notice="OrderClosed",
            order_type="LIMIT",
            is_triggered=False,
        ),
        OrderResult(
            success=False,
            timestamp=1615454881433,
            code="40035",
            message="Open order not found with id",
            client_order_id="1612249737724",
            market_code="BTC-USD-SWAP-LIN",
        ),
    ]
    assert_decoded(data_of(list[OrderResult], docs.CANCEL_ORDERS), expected)


def test_close_borrow_is_one_order_result() -> None:
    expected = OrderResult(
        success=True,
        timestamp=1626434069461,
        client_order_id="1626434069478",
        order_id="1000018496331",
        price=Decimal("29633.5"),
        quantity=Decimal("1.0"),
        side="SELL",
        status="CANCELED_BY_FOK",
        market_code="BTC-USD-SWAP-LIN",
        time_in_force="FOK",
        notice="OrderClosed",
        order_type="MARKET",
        is_triggered=False,
    )
    assert_decoded(data_of(OrderResult, docs.CLOSE_BORROW), expected)


# Private endpoints: delivery


def test_delivery_orders() -> None:
    expected = [
        DeliveryOrder(
            timestamp=1595781719394,
            instrument_id="BTC-USD-SWAP-LIN",
            status="DELIVERED",
            quantity=None,
            deliver_price=Decimal("9938.480000000"),
            transfer_asset="USD",
            transfer_qty=Decimal("993.848000000"),
            instrument_id_deliver="BTC",
            deliver_qty=Decimal("0.100000000"),
            deliver_order_id="575770851486007299",
            client_order_id=None,
        ),
        DeliveryOrder(
            timestamp=1595786511155,
            instrument_id="BTC-USD-SWAP-LIN",
            status="CANCELLED",
            quantity=None,
            deliver_price=Decimal("9911.470000000"),
            transfer_asset="USD",
            transfer_qty=Decimal("0.000000000"),
            instrument_id_deliver="BTC",
            deliver_qty=Decimal("0.000000000"),
            deliver_order_id="575786553086246913",
            client_order_id=None,
        ),
    ]
    assert_decoded(data_of(list[DeliveryOrder], docs.DELIVERY_ORDERS), expected)


def test_request_delivery() -> None:
    expected = DeliveryRequest(
        deliver_order_id="586985384617312258",
        account_id="164",
        client_order_id=None,
        instrument_id="BTC-USD-SWAP-LIN",
        deliver_price=Decimal("10000.000000000"),
        deliver_position=Decimal("1.000"),
        deliver_type="NEXT_CYCLE",
        instrument_id_deliver="BTC",
        deliver_qty=Decimal("1.000"),
        remaining_qty=Decimal("1.000"),
        remaining_position=Decimal("1.000"),
        transfer_asset="USD",
        transfer_qty=Decimal("1"),
        auction_time=1599204122693,
        created=1599204122693,
        last_updated=1599204122693,
        status="PENDING",
    )
    assert_decoded(data_of(list[DeliveryRequest], docs.REQUEST_DELIVERY), [expected])


def test_cancel_delivery_success_and_failure_are_lists_of_str() -> None:
    assert_decoded(
        data_of(list[str], docs.CANCEL_DELIVERY_OK), ["Cancel of user order was successful"]
    )
    assert_decoded(
        data_of(list[str], docs.CANCEL_DELIVERY_FAILED), ["Cancel exception please try again"]
    )


def test_deliver_auction() -> None:
    expected = DeliverAuction(
        instrument_id="BTC-USD-SWAP-LIN",
        auction_time=1596620805000,
        net_deliver=Decimal("-5.100000000"),
        est_funding_rate=Decimal("0.0001"),
    )
    assert_decoded(data_of(list[DeliverAuction], docs.DELIVER_AUCTION), [expected])


# Private endpoints: mint, redeem, borrow, repay


def test_mint() -> None:
    assert_decoded(data_of(Mint, docs.MINT), Mint(asset="flexUSD", quantity=Decimal("10")))


def test_mint_history() -> None:
    expected = [
        MintRecord(asset="flexETH", quantity=Decimal("0.100000000"), minted_at=1619779905495),
        MintRecord(asset="flexETH", quantity=Decimal("97.800000000"), minted_at=1619779812468),
        MintRecord(asset="flexETH", quantity=Decimal("0.100000000"), minted_at=1619779696705),
    ]
    assert_decoded(data_of(list[MintRecord], docs.MINT_HISTORY), expected)


def test_redeem() -> None:
    expected = Redeem(
        asset="flexUSD", quantity=Decimal("10"), redeem_at=1620964800000, type="NORMAL"
    )
    assert_decoded(data_of(Redeem, docs.REDEEM), expected)


def test_redeem_history() -> None:
    expected = [
        RedeemRecord(
            asset="ETH",
            quantity=Decimal("0.001000000"),
            requested_at=1619788358578,
            redeemed_at=1619788860219,
        ),
        RedeemRecord(
            asset="ETH",
            quantity=Decimal("0.001000000"),
            requested_at=1619788328760,
            redeemed_at=1619788328963,
        ),
    ]
    assert_decoded(data_of(list[RedeemRecord], docs.REDEEM_HISTORY), expected)


def test_borrow() -> None:
    expected = Borrow(
        borrow_asset="USD",
        borrowed_amount=Decimal("296.21588287"),
        collateral_asset="BTC",
        collateralized_amount=Decimal("0.01"),
        non_collateralized_amount=Decimal("0"),
        rate_type="FLOATING_RATE",
        status="COMPLETED",
        borrowed_at=1626433827616,
    )
    assert_decoded(data_of(Borrow, docs.BORROW), expected)


def test_borrow_history() -> None:
    expected = [
        Borrow(
            borrow_asset="USD",
            borrowed_amount=Decimal("296.2158828"),
            collateral_asset="BTC",
            collateralized_amount=Decimal("0.01000000"),
            non_collateralized_amount=Decimal("0"),
            rate_type="FLOATING_RATE",
            status="COMPLETED",
            borrowed_at=1626433827613,
        ),
        Borrow(
            borrow_asset="USD",
            borrowed_amount=Decimal("0.0000000"),
            collateral_asset="BTC",
            collateralized_amount=Decimal("0.00000000"),
            non_collateralized_amount=Decimal("1"),
            rate_type="FLOATING_RATE",
            status="CANCELED",
            borrowed_at=1626432797124,
        ),
    ]
    assert_decoded(data_of(list[Borrow], docs.BORROW_HISTORY), expected)


def test_repay() -> None:
    expected = Repay(
        repay_asset="USD",
        repaid_amount=Decimal("31.33109616"),
        regain_asset="BTC",
        regained_amount=Decimal("0.001"),
        non_regained_amount=Decimal("0"),
        status="COMPLETED",
        repaid_at=1626433876398,
    )
    assert_decoded(data_of(Repay, docs.REPAY), expected)


def test_repay_history() -> None:
    expected = [
        Repay(
            repay_asset="USD",
            repaid_amount=Decimal("0"),
            regain_asset="BTC",
            regained_amount=Decimal("0"),
            non_regained_amount=Decimal("0.001"),
            status="CANCELLED",
            repaid_at=1626747403329,
        ),
        Repay(
            repay_asset="USD",
            repaid_amount=Decimal("31863.01677"),
            regain_asset="BTC",
            regained_amount=Decimal("1"),
            non_regained_amount=Decimal("0"),
            status="COMPLETED",
            repaid_at=1626676776330,
        ),
    ]
    assert_decoded(data_of(list[Repay], docs.REPAY_HISTORY), expected)


def test_borrowing_summary() -> None:
    expected = BorrowingSummary(
        borrow_asset="USD",
        borrowed_amount=Decimal("109031.8252978"),
        collateral_asset="BTC",
        collateralized_amount=Decimal("3.65800000"),
        rate_type="FLOATING_RATE",
        status="To be repaid",
    )
    assert_decoded(data_of(list[BorrowingSummary], docs.BORROWING_SUMMARY), [expected])


# flex-protocol endpoints: the same models as their private counterparts


def test_flex_balances() -> None:
    expected = [
        Balance(
            instrument_id="BTC",
            total=Decimal("168.515000000"),
            available=Decimal("0.000000000"),
            reserved=Decimal("168.515"),
            quantity_last_updated=1621582933075,
        ),
        Balance(
            instrument_id="DOT",
            total=Decimal("1923.80"),
            available=Decimal("0.00"),
            reserved=Decimal("1923.8"),
            quantity_last_updated=1621569724731,
        ),
        Balance(
            instrument_id="REVV",
            total=Decimal("336.0"),
            available=Decimal("0.0"),
            reserved=Decimal("336.0"),
            quantity_last_updated=1621569725061,
        ),
    ]
    assert_decoded(data_of(list[Balance], docs.FLEX_BALANCES), expected)


def test_flex_positions_have_no_liquidation_price() -> None:
    expected = [
        Position(
            instrument_id="BTC-USD-SWAP-LIN",
            quantity=Decimal("-169.048"),
            last_updated=1621590364988,
            contract_val_currency="BTC",
            entry_price=Decimal("40766.3490"),
            position_pnl=Decimal("-23506.2934480"),
            est_liquidation_price=None,
        ),
        Position(
            instrument_id="ETH-USD-SWAP-LIN",
            quantity=Decimal("-1279.83"),
            last_updated=1621587180441,
            contract_val_currency="ETH",
            entry_price=Decimal("2798.5100"),
            position_pnl=Decimal("53420.104200"),
            est_liquidation_price=None,
        ),
        Position(
            instrument_id="LTC-USD-SWAP-LIN",
            quantity=Decimal("-299.49"),
            last_updated=1621585374591,
            contract_val_currency="LTC",
            entry_price=Decimal("207.9500"),
            position_pnl=Decimal("503.143200"),
            est_liquidation_price=None,
        ),
    ]
    assert_decoded(data_of(list[Position], docs.FLEX_POSITIONS), expected)


def test_flex_orders() -> None:
    def repo_order(
        order_id: str, client_order_id: str, quantity: str, price: str, times: tuple[int, ...]
    ) -> OpenOrder:
        created, modified, traded = times
        return OpenOrder(
            order_id=order_id,
            market_code="COMP-USD-REPO-LIN",
            client_order_id=client_order_id,
            side="BUY",
            order_type="LIMIT",
            quantity=Decimal(quantity),
            remaining_quantity=Decimal(quantity),
            price=Decimal(price),
            stop_price=None,
            limit_price=Decimal(price),
            order_created=created,
            last_modified=modified,
            last_trade_timestamp=traded,
            time_in_force="GTC",
        )

    expected = [
        repo_order(
            "1000085820424", "20", "0.26", "-0.0002", (1621590951780, 1621590951903, 1621590951828)
        ),
        repo_order(
            "1000085820409", "5", "0.21", "-0.00005", (1621590951510, 1621590951608, 1621590951543)
        ),
        repo_order(
            "1000085820408", "4", "5.2", "-0.00004", (1621590951381, 1621590951394, 1621590951392)
        ),
    ]
    assert_decoded(data_of(list[OpenOrder], docs.FLEX_ORDERS), expected)


def test_flex_trades() -> None:
    def maker_buy(total: str, match_timestamp: int) -> Trade:
        return Trade(
            match_id="2001011000000",
            match_timestamp=match_timestamp,
            market_code="BTC-USD-SWAP-LIN",
            match_quantity=Decimal("0.4"),
            match_price=Decimal("39400"),
            total=Decimal(total),
            order_match_type="MAKER",
            fees=Decimal("0.788"),
            fee_instrument_id="USD",
            order_id="1000009522024",
            side="BUY",
            client_order_id="1621483945643",
        )

    expected = [
        maker_buy("4.000000000", 1621483974496),
        maker_buy("4.400000000", 1621483973636),
        maker_buy("4.800000000", 1621483973476),
    ]
    assert_decoded(data_of(list[Trade], docs.FLEX_TRADES), expected)


def test_flex_delivery_orders() -> None:
    def delivered(timestamp: int, price: str, deliver_qty: str, order_id: str) -> DeliveryOrder:
        return DeliveryOrder(
            timestamp=timestamp,
            instrument_id="BTC-USD-SWAP-LIN",
            status="DELIVERED",
            quantity=None,
            deliver_price=Decimal(price),
            transfer_asset="BTC",
            transfer_qty=Decimal("0.001"),
            instrument_id_deliver="USD",
            deliver_qty=Decimal(deliver_qty),
            deliver_order_id=order_id,
            client_order_id=None,
        )

    expected = [
        delivered(1621411380000, "40225.4", "40.2254", "659754125496582148"),
        delivered(1621411378000, "40217.8", "40.2178", "659754119608827908"),
        delivered(1621411376000, "40226.5", "40.2265", "659754113236107267"),
    ]
    assert_decoded(data_of(list[DeliveryOrder], docs.FLEX_DELIVERY_ORDERS), expected)


@pytest.mark.parametrize(
    ("model", "body"),
    [(OrderResult, docs.CANCEL_ORDERS), (OrderStatus, docs.ORDERS_V21)],
    ids=["OrderResult", "OrderStatus"],
)
def test_values_the_docs_do_not_list_still_decode(model: type[Any], body: bytes) -> None:
    # status, side, ... are typed with the docs' values (Literal) for type checkers only: a new
    # value from the exchange must not make a whole order answer undecodable.
    document = msgspec.json.decode(body)
    item = document["data"][0]
    item.update(status="CANCELED_BY_SOMETHING_NEW", side="SHORT", orderType="ICEBERG")
    item.update(timeInForce="GTD")
    (decoded, *_) = data_of(list[model], msgspec.json.encode(document))
    assert (decoded.status, decoded.side) == ("CANCELED_BY_SOMETHING_NEW", "SHORT")
    assert (decoded.order_type, decoded.time_in_force) == ("ICEBERG", "GTD")
