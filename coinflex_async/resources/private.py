"""``client.private``: the account of the API key. Every call is signed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import msgspec
from msgspec.json import Decoder

from .._errors import APIError, NotFoundError, OrderRejectedError, ValidationError
from .._orders import CANCEL, MODIFY, PLACE, OrderBatchSender
from .._ratelimit import DELIVERY, MINT_REDEEM, REST
from .._transport import Route, Transport
from .._validation import (
    check_choice,
    check_decimal,
    check_int,
    check_numeric_id,
    check_path_arg,
    choices,
    format_decimal,
    history_query,
    query_string,
)
from ..models import (
    AccountInfo,
    Balance,
    Borrow,
    BorrowingSummary,
    CancelAllResult,
    DeliverAuction,
    DeliveryOrder,
    DeliveryRequest,
    FundingPayment,
    Mint,
    MintRecord,
    OpenOrder,
    OrderResult,
    OrderStatus,
    Position,
    Redeem,
    RedeemRecord,
    Repay,
    Trade,
)
from ..models._base import Envelope, decoder_for, envelope_decoder, envelope_list_decoder
from ..models.requests import (
    CancelOrder,
    ClientOrderIds,
    ModifyOrder,
    NewOrder,
    RedeemType,
    to_wire_cancel,
    to_wire_modify,
    to_wire_new,
)
from ..models.stream import AccountSnapshot

__all__ = ["FLEX_ASSETS", "Private"]

FLEX_ASSETS = ("flexUSD", "flexBTC", "flexETH", "flexFLEX")
_FLEX_ASSETS = choices(FLEX_ASSETS)
_RESPONSE_TYPES = choices(("FULL", "ACK"))
_REDEEM_TYPES = choices(t.value for t in RedeemType)


def _signed(method: str, path: str, buckets: tuple[str, ...] = (REST,)) -> Route:
    return Route(method, path, signed=True, buckets=buckets)


_ACCOUNT_INFO = _signed("GET", "/v2/accountinfo")
_BALANCES = _signed("GET", "/v2/balances")
_BALANCE = _signed("GET", "/v2/balances/{}")
_POSITIONS = _signed("GET", "/v2/positions")
_POSITION = _signed("GET", "/v2/positions/{}")
_TRADES = _signed("GET", "/v2/trades/{}")
_OPEN_ORDERS = _signed("GET", "/v2/orders")
_ORDERS = _signed("GET", "/v2.1/orders")
_CANCEL_ALL = _signed("DELETE", "/v2/cancel/orders")
_CANCEL_ALL_MARKET = _signed("DELETE", "/v2/cancel/orders/{}")
_DELIVERY_ORDERS = _signed("GET", "/v2.1/delivery/orders")
_REQUEST_DELIVERY = _signed("POST", "/v2.1/delivery/orders", (REST, DELIVERY))
_CANCEL_DELIVERY = _signed("DELETE", "/v2.1/delivery/orders/{}")
_DELIVER_AUCTION = _signed("GET", "/v2.1/deliver-auction/{}")
_PLACE = _signed("POST", "/v2/orders/place")
_MODIFY = _signed("POST", "/v2/orders/modify")
_CANCEL = _signed("DELETE", "/v2/orders/cancel")
_MINT = _signed("POST", "/v2/mint", (REST, MINT_REDEEM))
_MINT_HISTORY = _signed("GET", "/v2/mint/{}")
_REDEEM = _signed("POST", "/v2/redeem", (REST, MINT_REDEEM))
_REDEEM_HISTORY = _signed("GET", "/v2/redeem/{}")
_BORROW = _signed("POST", "/v2/borrow")
_REPAY = _signed("POST", "/v2/repay")
_BORROW_HISTORY = _signed("GET", "/v2/borrow/{}")
_REPAY_HISTORY = _signed("GET", "/v2/repay/{}")
_BORROWING_SUMMARY = _signed("GET", "/v2/borrowingSummary")
_CLOSE_BORROW = _signed("POST", "/v2/borrow/close")
_FUNDING_PAYMENTS = _signed("GET", "/v2/funding-payments")

_account_info = envelope_list_decoder(AccountInfo)
_balances = envelope_list_decoder(Balance)
# A position call may answer ``"data": null`` when there is none.
_positions: Decoder[Envelope[list[Position] | None]] = decoder_for(Envelope[list[Position] | None])
_trades = envelope_list_decoder(Trade)
_open_orders = envelope_list_decoder(OpenOrder)
_orders = envelope_list_decoder(OrderStatus)
_cancel_all = envelope_decoder(CancelAllResult)
_delivery_orders = envelope_list_decoder(DeliveryOrder)
_delivery_requests = envelope_list_decoder(DeliveryRequest)
_strings = envelope_list_decoder(str)
_deliver_auction = envelope_list_decoder(DeliverAuction)
_mint = envelope_decoder(Mint)
_mint_history = envelope_list_decoder(MintRecord)
_redeem = envelope_decoder(Redeem)
_redeem_history = envelope_list_decoder(RedeemRecord)
_borrow = envelope_decoder(Borrow)
_repay = envelope_decoder(Repay)
_borrow_history = envelope_list_decoder(Borrow)
_repay_history = envelope_list_decoder(Repay)
_borrowing_summary = envelope_list_decoder(BorrowingSummary)
_order_result = envelope_decoder(OrderResult)
_funding_payments = envelope_list_decoder(FundingPayment)

_encode = msgspec.json.Encoder().encode

# The success text of DELETE /v2.1/delivery/orders/{id}; the docs' failure answer is also HTTP 200
# with a one-string list ("Cancel exception please try again").
_DELIVERY_CANCELLED = "successful"


class Private:
    """The account of the API key. Every method is signed; GETs are retried, nothing else is.

    Order methods accept any number of orders: lists longer than 8 are split into requests of 8,
    sent concurrently within the rate limits, and answered in input order. A request that fails
    ambiguously is settled by looking its orders up by ``client_order_id`` before anything is
    sent again (see ``coinflex_async._orders``).
    """

    __slots__ = ("_ids", "_orders", "_recv_window", "_transport")

    def __init__(self, transport: Transport, *, recv_window: int) -> None:
        self._transport = transport
        self._recv_window = recv_window
        self._ids = ClientOrderIds()
        self._orders = OrderBatchSender(transport, history_route=_ORDERS, retry=transport.retry)

    # -- account -----------------------------------------------------------------------------

    async def account_info(self) -> list[AccountInfo]:
        """GET /v2/accountinfo: the account's margin and risk summary."""
        return (await self._transport.request(_ACCOUNT_INFO, _account_info)).data

    async def balances(self) -> list[Balance]:
        """GET /v2/balances: every coin balance of the account."""
        return (await self._transport.request(_BALANCES, _balances)).data

    async def balance(self, instrument_id: str) -> Balance:
        """GET /v2/balances/{instrumentId}: one coin's balance (NotFoundError if it has none)."""
        coin = check_path_arg("instrument_id", instrument_id)
        path = _BALANCE.path.format(coin)
        items = (await self._transport.request(_BALANCE, _balances, path=path)).data
        if not items:
            raise NotFoundError(f"no balance of {coin}", status=200, endpoint=_BALANCE.name)
        return items[0]

    async def positions(self) -> list[Position]:
        """GET /v2/positions: every open position of the account."""
        return (await self._transport.request(_POSITIONS, _positions)).data or []

    async def position(self, instrument_id: str) -> Position | None:
        """GET /v2/positions/{instrumentId}: one position, or None when there is none."""
        path = _POSITION.path.format(check_path_arg("instrument_id", instrument_id))
        items = (await self._transport.request(_POSITION, _positions, path=path)).data
        return items[0] if items else None

    async def snapshot(self) -> AccountSnapshot:
        """The account's balances, positions and open orders, fetched concurrently (what a bot
        rebuilds its state from on start or after a lost connection). ``taken_at`` is the time
        (ms) the first of the three requests left."""
        taken_at = time.time_ns() // 1_000_000
        balances, positions, open_orders = await asyncio.gather(
            self.balances(), self.positions(), self.open_orders()
        )
        return AccountSnapshot(
            balances=balances, positions=positions, open_orders=open_orders, taken_at=taken_at
        )

    async def trades(
        self,
        market_code: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Trade]:
        """GET /v2/trades/{marketCode}: the account's fills; ``limit`` 1-1000, 7-day windows."""
        path = _TRADES.path.format(check_path_arg("market_code", market_code))
        query = history_query(limit, 1000, start_time, end_time)
        return (await self._transport.request(_TRADES, _trades, path=path, query=query)).data

    async def open_orders(self) -> list[OpenOrder]:
        """GET /v2/orders: the account's working orders."""
        return (await self._transport.request(_OPEN_ORDERS, _open_orders)).data

    async def orders(
        self,
        *,
        market_code: str | None = None,
        order_id: str | int | None = None,
        client_order_id: str | int | None = None,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[OrderStatus]:
        """GET /v2.1/orders: order history in every status; ``limit`` 1-100, 7-day windows."""
        pairs: list[tuple[str, object]] = [
            (
                "marketCode",
                None if market_code is None else check_path_arg("market_code", market_code),
            ),
            ("orderId", None if order_id is None else check_numeric_id("order_id", order_id)),
            (
                "clientOrderId",
                None
                if client_order_id is None
                else check_numeric_id("client_order_id", client_order_id),
            ),
        ]
        query = query_string(pairs)
        rest = history_query(limit, 100, start_time, end_time)
        query = "&".join(q for q in (query, rest) if q)
        return (await self._transport.request(_ORDERS, _orders, query=query)).data

    async def funding_payments(
        self,
        market_code: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[FundingPayment]:
        """GET /v2/funding-payments: the account's funding payments; ``limit`` 1-50."""
        query = query_string([("marketCode", check_path_arg("market_code", market_code))])
        rest = history_query(limit, 50, start_time, end_time)
        query = "&".join(q for q in (query, rest) if q)
        return (
            await self._transport.request(_FUNDING_PAYMENTS, _funding_payments, query=query)
        ).data

    # -- orders ------------------------------------------------------------------------------

    async def place_orders(
        self,
        orders: Iterable[NewOrder | dict[str, Any]],
        *,
        recv_window: int | None = None,
        response_type: str = "FULL",
    ) -> list[OrderResult]:
        """POST /v2/orders/place: place orders; one result per order, failures included.

        Each order is a :class:`NewOrder` or a dict with its snake_case keys. Orders without a
        ``client_order_id`` get a generated one (read it back from the results).
        """
        wire = [to_wire_new(order, i, self._ids) for i, order in enumerate(_listed(orders))]
        return await self._orders.send(
            _PLACE,
            PLACE,
            wire,
            recv_window=self._window(recv_window),
            response_type=_response_type(response_type),
        )

    async def place_order(
        self, *, recv_window: int | None = None, response_type: str = "FULL", **order: Any
    ) -> OrderResult:
        """POST /v2/orders/place: place one order; OrderRejectedError if the exchange says no.

        ::

            await client.private.place_order(market_code="BTC-USD-SWAP-LIN", side=cf.Side.BUY,
                quantity="0.001", order_type=cf.OrderType.LIMIT, price="54900")
        """
        (result,) = await self._orders.send(
            _PLACE,
            PLACE,
            [to_wire_new(order, 0, self._ids)],
            recv_window=self._window(recv_window),
            response_type=_response_type(response_type),
        )
        return _accepted(result, _PLACE)

    async def modify_orders(
        self,
        orders: Iterable[ModifyOrder | dict[str, Any]],
        *,
        recv_window: int | None = None,
        response_type: str = "FULL",
    ) -> list[OrderResult]:
        """POST /v2/orders/modify: change price or quantity of working orders, by ``order_id``."""
        wire = [to_wire_modify(order, i) for i, order in enumerate(_listed(orders))]
        return await self._orders.send(
            _MODIFY,
            MODIFY,
            wire,
            recv_window=self._window(recv_window),
            response_type=_response_type(response_type),
        )

    async def modify_order(
        self, *, recv_window: int | None = None, response_type: str = "FULL", **order: Any
    ) -> OrderResult:
        """POST /v2/orders/modify: modify one order; OrderRejectedError if the exchange says no."""
        (result,) = await self._orders.send(
            _MODIFY,
            MODIFY,
            [to_wire_modify(order, 0)],
            recv_window=self._window(recv_window),
            response_type=_response_type(response_type),
        )
        return _accepted(result, _MODIFY)

    async def cancel_orders(
        self,
        orders: Iterable[CancelOrder | dict[str, Any]],
        *,
        recv_window: int | None = None,
        response_type: str = "FULL",
    ) -> list[OrderResult]:
        """DELETE /v2/orders/cancel: cancel orders by ``order_id`` or ``client_order_id``."""
        wire = [to_wire_cancel(order, i) for i, order in enumerate(_listed(orders))]
        return await self._orders.send(
            _CANCEL,
            CANCEL,
            wire,
            recv_window=self._window(recv_window),
            response_type=_response_type(response_type),
        )

    async def cancel_order(
        self, *, recv_window: int | None = None, response_type: str = "FULL", **order: Any
    ) -> OrderResult:
        """DELETE /v2/orders/cancel: cancel one order; OrderRejectedError if it is refused."""
        (result,) = await self._orders.send(
            _CANCEL,
            CANCEL,
            [to_wire_cancel(order, 0)],
            recv_window=self._window(recv_window),
            response_type=_response_type(response_type),
        )
        return _accepted(result, _CANCEL)

    async def cancel_all_orders(self, market_code: str | None = None) -> CancelAllResult:
        """DELETE /v2/cancel/orders[/{marketCode}]: cancel every open order (of one market)."""
        if market_code is None:
            return (await self._transport.request(_CANCEL_ALL, _cancel_all)).data
        path = _CANCEL_ALL_MARKET.path.format(check_path_arg("market_code", market_code))
        return (await self._transport.request(_CANCEL_ALL_MARKET, _cancel_all, path=path)).data

    # -- delivery ----------------------------------------------------------------------------

    async def delivery_orders(self) -> list[DeliveryOrder]:
        """GET /v2.1/delivery/orders: the account's delivery history."""
        return (await self._transport.request(_DELIVERY_ORDERS, _delivery_orders)).data

    async def request_delivery(self, instrument_id: str, quantity: Any) -> list[DeliveryRequest]:
        """POST /v2.1/delivery/orders: ask for physical delivery of a perpetual swap position.

        Sent as the docs' example does: the parameters in the query string and in the JSON body.
        """
        instrument = check_path_arg("instrument_id", instrument_id)
        qty = format_decimal(check_decimal("quantity", quantity))
        query = query_string([("instrumentId", instrument), ("qtyDeliver", qty)])
        body = _encode({"instrumentId": instrument, "qtyDeliver": qty})
        return (
            await self._transport.request(
                _REQUEST_DELIVERY, _delivery_requests, query=query, body=body
            )
        ).data

    async def cancel_delivery(self, delivery_order_id: str | int) -> str:
        """DELETE /v2.1/delivery/orders/{deliveryOrderId}: cancel a pending delivery.

        Returns the exchange's confirmation; its documented failure answer (HTTP 200,
        "Cancel exception please try again") raises APIError.
        """
        path = _CANCEL_DELIVERY.path.format(
            check_numeric_id("delivery_order_id", delivery_order_id)
        )
        texts = (await self._transport.request(_CANCEL_DELIVERY, _strings, path=path)).data
        text = " ".join(texts)
        if _DELIVERY_CANCELLED not in text.lower():
            raise APIError(text or "empty answer", status=200, endpoint=_CANCEL_DELIVERY.name)
        return text

    async def deliver_auction(self, instrument_id: str) -> list[DeliverAuction]:
        """GET /v2.1/deliver-auction/{instrumentId}: the next delivery auction of a swap."""
        path = _DELIVER_AUCTION.path.format(check_path_arg("instrument_id", instrument_id))
        return (await self._transport.request(_DELIVER_AUCTION, _deliver_auction, path=path)).data

    # -- mint, redeem, borrow, repay ---------------------------------------------------------

    async def mint(self, asset: str, quantity: Any) -> Mint:
        """POST /v2/mint: mint a flex asset (flexUSD, flexBTC, flexETH, flexFLEX)."""
        body = _encode(
            {
                "asset": check_choice("asset", asset, _FLEX_ASSETS),
                "quantity": format_decimal(check_decimal("quantity", quantity)),
            }
        )
        return (await self._transport.request(_MINT, _mint, body=body)).data

    async def mint_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[MintRecord]:
        """GET /v2/mint/{asset}: mint history, newest first; ``limit`` 1-100."""
        path = _MINT_HISTORY.path.format(check_choice("asset", asset, _FLEX_ASSETS))
        query = history_query(limit, 100, start_time, end_time)
        return (
            await self._transport.request(_MINT_HISTORY, _mint_history, path=path, query=query)
        ).data

    async def redeem(
        self, asset: str, quantity: Any, type: RedeemType | str = RedeemType.NORMAL
    ) -> Redeem:
        """POST /v2/redeem: redeem a flex asset, ``type`` Normal (next cycle) or Instant."""
        body = _encode(
            {
                "asset": check_choice("asset", asset, _FLEX_ASSETS),
                "quantity": format_decimal(check_decimal("quantity", quantity)),
                "type": check_choice("type", type, _REDEEM_TYPES),
            }
        )
        return (await self._transport.request(_REDEEM, _redeem, body=body)).data

    async def redeem_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[RedeemRecord]:
        """GET /v2/redeem/{asset}: redemption history, newest first; ``limit`` 1-100."""
        path = _REDEEM_HISTORY.path.format(check_choice("asset", asset, _FLEX_ASSETS))
        query = history_query(limit, 100, start_time, end_time)
        return (
            await self._transport.request(_REDEEM_HISTORY, _redeem_history, path=path, query=query)
        ).data

    async def borrow(
        self, borrow_asset: str, collateral_asset: str, collateral_amount: Any
    ) -> Borrow:
        """POST /v2/borrow: borrow ``borrow_asset`` (USD) against collateral."""
        body = _encode(
            {
                "borrowAsset": check_path_arg("borrow_asset", borrow_asset),
                "collateralAsset": check_path_arg("collateral_asset", collateral_asset),
                "collateralAmount": format_decimal(
                    check_decimal("collateral_amount", collateral_amount)
                ),
            }
        )
        return (await self._transport.request(_BORROW, _borrow, body=body)).data

    async def repay(self, repay_asset: str, regain_asset: str, regain_amount: Any) -> Repay:
        """POST /v2/repay: repay a loan in ``repay_asset`` (USD), regaining collateral."""
        body = _encode(
            {
                "repayAsset": check_path_arg("repay_asset", repay_asset),
                "regainAsset": check_path_arg("regain_asset", regain_asset),
                "regainAmount": format_decimal(check_decimal("regain_amount", regain_amount)),
            }
        )
        return (await self._transport.request(_REPAY, _repay, body=body)).data

    async def borrow_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Borrow]:
        """GET /v2/borrow/{asset}: borrow history by collateral asset; ``limit`` 1-100."""
        path = _BORROW_HISTORY.path.format(check_path_arg("asset", asset))
        query = history_query(limit, 100, start_time, end_time)
        return (
            await self._transport.request(_BORROW_HISTORY, _borrow_history, path=path, query=query)
        ).data

    async def repay_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Repay]:
        """GET /v2/repay/{asset}: repay history by regained asset; ``limit`` 1-100."""
        path = _REPAY_HISTORY.path.format(check_path_arg("asset", asset))
        query = history_query(limit, 100, start_time, end_time)
        return (
            await self._transport.request(_REPAY_HISTORY, _repay_history, path=path, query=query)
        ).data

    async def borrowing_summary(self) -> list[BorrowingSummary]:
        """GET /v2/borrowingSummary: what the account owes, by asset."""
        return (await self._transport.request(_BORROWING_SUMMARY, _borrowing_summary)).data

    async def close_borrow(
        self, market_code: str, *, price: Any = None, quantity: Any = None
    ) -> OrderResult:
        """POST /v2/borrow/close: close a borrow (at market price, in full, by default)."""
        payload: dict[str, str] = {"marketCode": check_path_arg("market_code", market_code)}
        if price is not None:
            payload["price"] = format_decimal(check_decimal("price", price))
        if quantity is not None:
            payload["quantity"] = format_decimal(check_decimal("quantity", quantity))
        return (
            await self._transport.request(_CLOSE_BORROW, _order_result, body=_encode(payload))
        ).data

    def _window(self, recv_window: int | None) -> int:
        if recv_window is None:
            return self._recv_window
        return check_int("recv_window", recv_window, low=1, high=3_600_000)


def _listed(orders: Iterable[Any]) -> list[Any]:
    if isinstance(orders, (str, bytes, dict)) or not isinstance(orders, Iterable):
        raise ValidationError("orders must be a list of orders")
    items = list(orders)
    if not items:
        raise ValidationError("orders must not be empty")
    return items


def _response_type(value: object) -> str:
    return check_choice("response_type", value, _RESPONSE_TYPES)


def _accepted(result: OrderResult, route: Route) -> OrderResult:
    if not result.success:
        raise OrderRejectedError(
            result.message,
            status=200,
            code=result.code,
            endpoint=route.name,
            client_order_id=result.client_order_id,
            result=result,
        )
    return result
