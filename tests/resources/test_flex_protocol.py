"""client.flex_protocol: each method against the docs' example response, over a real socket.

Checked: the request as it arrives (verb, path, exact query string, unsigned even though the
client has credentials) and the decoded values and types, copied by hand from the docs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

import coinflex_async as cf
from tests.loopback import RecordingServer
from tests.models import docs_examples as docs
from tests.resources._support import assert_struct, assert_unsigned_get, only_request

KEY = "flex-test-key"
SECRET = "flex-test-secret"
PROTOCOLS = ["flexUSD", "flexBTC", "flexETH", "flexFLEX"]


@pytest.fixture
async def flex(
    recorder: tuple[RecordingServer, str],
) -> AsyncIterator[tuple[RecordingServer, cf.Client]]:
    server, url = recorder
    async with cf.Client(KEY, SECRET, base_url=url, rate_limits=None, retry=None) as client:
        yield server, client


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_balances(flex: tuple[RecordingServer, cf.Client], protocol: str) -> None:
    server, client = flex
    server.reply("GET", f"/v2/flex-protocol/balances/{protocol}", (200, docs.FLEX_BALANCES, {}))
    btc, dot, revv = await client.flex_protocol.balances(protocol)
    assert_unsigned_get(only_request(server), f"/v2/flex-protocol/balances/{protocol}")
    assert type(btc) is cf.Balance
    assert_struct(
        btc,
        instrument_id="BTC",
        total=Decimal("168.515000000"),
        available=Decimal("0.000000000"),
        reserved=Decimal("168.515"),
        quantity_last_updated=1621582933075,
    )
    assert_struct(
        dot,
        instrument_id="DOT",
        total=Decimal("1923.80"),
        available=Decimal("0.00"),
        reserved=Decimal("1923.8"),
        quantity_last_updated=1621569724731,
    )
    assert_struct(
        revv,
        instrument_id="REVV",
        total=Decimal("336.0"),
        available=Decimal("0.0"),
        reserved=Decimal("336.0"),
        quantity_last_updated=1621569725061,
    )


async def test_positions(flex: tuple[RecordingServer, cf.Client]) -> None:
    server, client = flex
    server.reply("GET", "/v2/flex-protocol/positions/flexUSD", (200, docs.FLEX_POSITIONS, {}))
    btc, eth, ltc = await client.flex_protocol.positions("flexUSD")
    assert_unsigned_get(only_request(server), "/v2/flex-protocol/positions/flexUSD")
    assert type(btc) is cf.Position
    assert_struct(
        btc,
        instrument_id="BTC-USD-SWAP-LIN",
        quantity=Decimal("-169.048"),
        last_updated=1621590364988,
        contract_val_currency="BTC",
        entry_price=Decimal("40766.3490"),
        position_pnl=Decimal("-23506.2934480"),
        est_liquidation_price=None,
    )
    assert_struct(
        eth,
        instrument_id="ETH-USD-SWAP-LIN",
        quantity=Decimal("-1279.83"),
        last_updated=1621587180441,
        contract_val_currency="ETH",
        entry_price=Decimal("2798.5100"),
        position_pnl=Decimal("53420.104200"),
        est_liquidation_price=None,
    )
    assert (ltc.instrument_id, ltc.position_pnl) == ("LTC-USD-SWAP-LIN", Decimal("503.143200"))


async def test_orders(flex: tuple[RecordingServer, cf.Client]) -> None:
    server, client = flex
    server.reply("GET", "/v2/flex-protocol/orders/flexUSD", (200, docs.FLEX_ORDERS, {}))
    orders = await client.flex_protocol.orders("flexUSD")
    assert_unsigned_get(only_request(server), "/v2/flex-protocol/orders/flexUSD")
    assert [type(o) for o in orders] == [cf.OpenOrder] * 3
    assert_struct(
        orders[0],
        order_id="1000085820424",
        market_code="COMP-USD-REPO-LIN",
        client_order_id="20",
        side="BUY",
        order_type="LIMIT",
        quantity=Decimal("0.26"),
        remaining_quantity=Decimal("0.26"),
        price=Decimal("-0.0002"),
        stop_price=None,
        limit_price=Decimal("-0.0002"),
        order_created=1621590951780,
        last_modified=1621590951903,
        last_trade_timestamp=1621590951828,
        time_in_force="GTC",
    )
    assert [o.client_order_id for o in orders] == ["20", "5", "4"]
    assert [o.price for o in orders] == [
        Decimal("-0.0002"),
        Decimal("-0.00005"),
        Decimal("-0.00004"),
    ]


async def test_trades(flex: tuple[RecordingServer, cf.Client]) -> None:
    server, client = flex
    path = "/v2/flex-protocol/trades/flexBTC/BTC-USD-SWAP-LIN"
    server.reply("GET", path, (200, docs.FLEX_TRADES, {}))
    trades = await client.flex_protocol.trades(
        "flexBTC", "BTC-USD-SWAP-LIN", limit=3, start_time=1621483000000, end_time=1621483974496
    )
    assert_unsigned_get(
        only_request(server), path, "limit=3&startTime=1621483000000&endTime=1621483974496"
    )
    assert [type(t) for t in trades] == [cf.Trade] * 3
    assert_struct(
        trades[0],
        match_id="2001011000000",
        match_timestamp=1621483974496,
        market_code="BTC-USD-SWAP-LIN",
        match_quantity=Decimal("0.4"),
        match_price=Decimal("39400"),
        total=Decimal("4.000000000"),
        order_match_type="MAKER",
        fees=Decimal("0.788"),
        fee_instrument_id="USD",
        order_id="1000009522024",
        side="BUY",
        client_order_id="1621483945643",
    )
    assert [t.total for t in trades] == [
        Decimal("4.000000000"),
        Decimal("4.400000000"),
        Decimal("4.800000000"),
    ]


async def test_trades_without_options_sends_no_query(
    flex: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = flex
    path = "/v2/flex-protocol/trades/flexETH/ETH-USD-SWAP-LIN"
    server.reply("GET", path, (200, docs.FLEX_TRADES, {}))
    await client.flex_protocol.trades("flexETH", "ETH-USD-SWAP-LIN")
    assert_unsigned_get(only_request(server), path)


async def test_delivery_orders(flex: tuple[RecordingServer, cf.Client]) -> None:
    server, client = flex
    path = "/v2/flex-protocol/delivery/orders/flexBTC"
    server.reply("GET", path, (200, docs.FLEX_DELIVERY_ORDERS, {}))
    deliveries = await client.flex_protocol.delivery_orders(
        "flexBTC", limit=3, start_time=1621411376000, end_time=1621411380000
    )
    assert_unsigned_get(
        only_request(server), path, "limit=3&startTime=1621411376000&endTime=1621411380000"
    )
    assert [type(d) for d in deliveries] == [cf.DeliveryOrder] * 3
    assert_struct(
        deliveries[0],
        timestamp=1621411380000,
        instrument_id="BTC-USD-SWAP-LIN",
        status="DELIVERED",
        quantity=None,
        deliver_price=Decimal("40225.4"),
        transfer_asset="BTC",
        transfer_qty=Decimal("0.001"),
        instrument_id_deliver="USD",
        deliver_qty=Decimal("40.2254"),
        deliver_order_id="659754125496582148",
        client_order_id=None,
    )
    assert [d.deliver_order_id for d in deliveries] == [
        "659754125496582148",
        "659754119608827908",
        "659754113236107267",
    ]


async def test_delivery_orders_without_options_sends_no_query(
    flex: tuple[RecordingServer, cf.Client],
) -> None:
    server, client = flex
    path = "/v2/flex-protocol/delivery/orders/flexFLEX"
    server.reply("GET", path, (200, docs.FLEX_DELIVERY_ORDERS, {}))
    await client.flex_protocol.delivery_orders("flexFLEX")
    assert_unsigned_get(only_request(server), path)


async def test_flex_methods_need_no_credentials(recorder: tuple[RecordingServer, str]) -> None:
    server, url = recorder
    server.reply("GET", "/v2/flex-protocol/orders/flexETH", (200, docs.FLEX_ORDERS, {}))
    async with cf.Client(base_url=url, rate_limits=None) as client:
        orders = await client.flex_protocol.orders("flexETH")
    assert len(orders) == 3
    assert_unsigned_get(only_request(server), "/v2/flex-protocol/orders/flexETH")
