"""``client.private``: the account of the API key. Every call is signed."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable

from msgspec.json import Decoder

from .. import _endpoints as ep
from .._batches import recv_window_or
from .._endpoints import FLEX_ASSETS, call, iterate
from .._errors import APIError, NotFoundError
from .._order_results import accepted_order
from .._orders import CANCEL, MODIFY, PLACE, OrderBatchSender
from .._ratelimit import REST
from .._transport import Route, Transport
from .._validation import (
    check_response_type,
)
from ..models import (
    AcceptedOrder,
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
from ..models._base import Envelope, decoder_for
from ..models._values import RedeemTypeValue, ResponseTypeValue
from ..models.requests import (
    CancelOrder,
    CancelOrderDict,
    ClientOrderIds,
    DecimalInput,
    ModifyOrder,
    ModifyOrderDict,
    NewOrder,
    NewOrderDict,
    RedeemType,
    listed_orders,
    to_wire_cancel,
    to_wire_modify,
    to_wire_new,
)
from ..models.stream import AccountSnapshot

if sys.version_info >= (3, 11):
    from typing import Unpack
else:
    from typing_extensions import Unpack

__all__ = ["FLEX_ASSETS", "Private"]


Progress = Callable[[int], None]


def _signed(method: str, path: str, buckets: tuple[str, ...] = (REST,)) -> Route:
    return Route(method, path, signed=True, buckets=buckets)


_ORDERS = ep.ORDERS.route  # order recovery looks orders up here
_PLACE = _signed("POST", "/v2/orders/place")
_MODIFY = _signed("POST", "/v2/orders/modify")
_CANCEL = _signed("DELETE", "/v2/orders/cancel")

# A single order's answer decodes straight into AcceptedOrder (the same fields as OrderResult at
# run time), so narrowing it after the success check costs no copy.
# (Typed as OrderResult's decoder: what the batch sender takes; every item is an OrderResult.)
_accepted_results: Decoder[Envelope[list[OrderResult]]] = decoder_for(Envelope[list[AcceptedOrder]])

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

    def __init__(
        self, transport: Transport, *, recv_window: int, ids: ClientOrderIds | None = None
    ) -> None:
        self._transport = transport
        self._recv_window = recv_window
        # The client's one source of client order IDs, shared with its streams: one counter
        # never repeats an ID, two random starts only very likely do not.
        self._ids = ClientOrderIds() if ids is None else ids
        self._orders = OrderBatchSender(transport, history_route=_ORDERS, retry=transport.retry)

    # -- account -----------------------------------------------------------------------------

    async def account_info(self) -> list[AccountInfo]:
        """GET /v2/accountinfo: the account's margin and risk summary."""
        return await call(self._transport, ep.ACCOUNT_INFO)

    async def balances(self) -> list[Balance]:
        """GET /v2/balances: every coin balance of the account."""
        return await call(self._transport, ep.BALANCES)

    async def balance(self, instrument_id: str) -> Balance:
        """GET /v2/balances/{instrumentId}: one coin's balance (NotFoundError if it has none)."""
        items: list[Balance] = await call(self._transport, ep.BALANCE, instrument_id=instrument_id)
        if not items:
            raise NotFoundError(
                f"no balance of {instrument_id}", status=200, endpoint=ep.BALANCE.route.name
            )
        return items[0]

    async def positions(self) -> list[Position]:
        """GET /v2/positions: every open position of the account."""
        return await call(self._transport, ep.POSITIONS)

    async def position(self, instrument_id: str) -> Position | None:
        """GET /v2/positions/{instrumentId}: one position, or None when there is none."""
        items = await call(self._transport, ep.POSITION, instrument_id=instrument_id)
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
        return await call(
            self._transport,
            ep.PRIVATE_TRADES,
            market_code=market_code,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_trades(
        self,
        market_code: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[Trade]:
        """Every fill of the account in a market from ``start_time`` to ``end_time`` (ms, inclusive;
        default now), oldest first, in 7-day windows and pages of ``page_size`` (default 1000)."""
        return iterate(
            self._transport,
            ep.PRIVATE_TRADES,
            market_code=market_code,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def open_orders(self) -> list[OpenOrder]:
        """GET /v2/orders: the account's working orders."""
        return await call(self._transport, ep.OPEN_ORDERS)

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
        return await call(
            self._transport,
            ep.ORDERS,
            market_code=market_code,
            order_id=order_id,
            client_order_id=client_order_id,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_orders(
        self,
        *,
        market_code: str | None = None,
        order_id: str | int | None = None,
        client_order_id: str | int | None = None,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[OrderStatus]:
        """Every order of the account created from ``start_time`` to ``end_time`` (ms, inclusive;
        default now), oldest first, in 7-day windows and pages of ``page_size`` (default 100)."""
        return iterate(
            self._transport,
            ep.ORDERS,
            market_code=market_code,
            order_id=order_id,
            client_order_id=client_order_id,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def funding_payments(
        self,
        market_code: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[FundingPayment]:
        """GET /v2/funding-payments: the account's funding payments; ``limit`` 1-500."""
        return await call(
            self._transport,
            ep.FUNDING_PAYMENTS,
            market_code=market_code,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_funding_payments(
        self,
        market_code: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[FundingPayment]:
        """Every funding payment of the account in a market from ``start_time`` to ``end_time``
        (ms, inclusive; default now), oldest first, in 7-day windows and pages of
        ``page_size`` (default 500)."""
        return iterate(
            self._transport,
            ep.FUNDING_PAYMENTS,
            market_code=market_code,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    # -- orders ------------------------------------------------------------------------------

    async def place_orders(
        self,
        orders: Iterable[NewOrder | NewOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """POST /v2/orders/place: place orders; one result per order, failures included.

        Each order is a :class:`NewOrder` or a dict with its snake_case keys
        (:class:`NewOrderDict`). Orders without a ``client_order_id`` get a generated one (read
        it back from the results). A result's fields are optional: check ``success`` first.
        """
        wire = [to_wire_new(order, i, self._ids) for i, order in enumerate(listed_orders(orders))]
        return await self._orders.send(
            _PLACE,
            PLACE,
            wire,
            recv_window=self._window(recv_window),
            response_type=check_response_type(response_type),
        )

    async def place_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[NewOrderDict],
    ) -> AcceptedOrder:
        """POST /v2/orders/place: place one order; OrderRejectedError if the exchange says no.

        ::

            await client.private.place_order(market_code="BTC-USD-SWAP-LIN", side=cf.Side.BUY,
                quantity="0.001", order_type=cf.OrderType.LIMIT, price="54900")

        Keywords (:class:`NewOrderDict`): ``market_code``, ``side`` (``Side`` or "BUY"/"SELL"),
        ``quantity``, ``order_type`` (``OrderType`` or "LIMIT"/"MARKET"/"STOP"), ``price``
        (LIMIT), ``stop_price`` and ``limit_price`` (STOP), ``time_in_force`` (``TimeInForce``
        or "GTC"/"IOC"/"FOK"/"MAKER_ONLY"), ``client_order_id`` (generated when absent).
        Decimals are ``Decimal``, ``str`` or ``int``. Returns an :class:`AcceptedOrder`, whose
        ``order_id``, ``client_order_id``, ``side``... need no ``None`` check.
        """
        wire = to_wire_new(order, 0, self._ids)
        (result,) = await self._orders.send(
            _PLACE,
            PLACE,
            [wire],
            recv_window=self._window(recv_window),
            response_type=check_response_type(response_type),
            answers=_accepted_results,
        )
        return accepted_order(result, wire, _PLACE.name, status=200)

    async def modify_orders(
        self,
        orders: Iterable[ModifyOrder | ModifyOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """POST /v2/orders/modify: change price or quantity of working orders, by ``order_id``."""
        wire = [to_wire_modify(order, i) for i, order in enumerate(listed_orders(orders))]
        return await self._orders.send(
            _MODIFY,
            MODIFY,
            wire,
            recv_window=self._window(recv_window),
            response_type=check_response_type(response_type),
        )

    async def modify_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[ModifyOrderDict],
    ) -> AcceptedOrder:
        """POST /v2/orders/modify: modify one order; OrderRejectedError if the exchange says no.

        Keywords (:class:`ModifyOrderDict`): ``order_id``, ``market_code``, and what changes:
        ``quantity``, ``price`` (or ``stop_price``, ``limit_price``), ``side``,
        ``client_order_id``.
        """
        wire = to_wire_modify(order, 0)
        (result,) = await self._orders.send(
            _MODIFY,
            MODIFY,
            [wire],
            recv_window=self._window(recv_window),
            response_type=check_response_type(response_type),
            answers=_accepted_results,
        )
        return accepted_order(result, wire, _MODIFY.name, status=200)

    async def cancel_orders(
        self,
        orders: Iterable[CancelOrder | CancelOrderDict],
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
    ) -> list[OrderResult]:
        """DELETE /v2/orders/cancel: cancel orders by ``order_id`` or ``client_order_id``."""
        wire = [to_wire_cancel(order, i) for i, order in enumerate(listed_orders(orders))]
        return await self._orders.send(
            _CANCEL,
            CANCEL,
            wire,
            recv_window=self._window(recv_window),
            response_type=check_response_type(response_type),
        )

    async def cancel_order(
        self,
        *,
        recv_window: int | None = None,
        response_type: ResponseTypeValue = "FULL",
        **order: Unpack[CancelOrderDict],
    ) -> AcceptedOrder:
        """DELETE /v2/orders/cancel: cancel one order; OrderRejectedError if it is refused.

        Keywords (:class:`CancelOrderDict`): ``market_code`` and ``order_id`` or
        ``client_order_id``.
        """
        wire = to_wire_cancel(order, 0)
        (result,) = await self._orders.send(
            _CANCEL,
            CANCEL,
            [wire],
            recv_window=self._window(recv_window),
            response_type=check_response_type(response_type),
            answers=_accepted_results,
        )
        return accepted_order(result, wire, _CANCEL.name, status=200)

    async def cancel_all_orders(self, market_code: str | None = None) -> CancelAllResult:
        """DELETE /v2/cancel/orders[/{marketCode}]: cancel every open order (of one market)."""
        if market_code is None:
            return await call(self._transport, ep.CANCEL_ALL)
        return await call(self._transport, ep.CANCEL_ALL_MARKET, market_code=market_code)

    # -- delivery ----------------------------------------------------------------------------

    async def delivery_orders(self) -> list[DeliveryOrder]:
        """GET /v2.1/delivery/orders: the account's delivery history."""
        return await call(self._transport, ep.DELIVERY_ORDERS)

    async def request_delivery(
        self, instrument_id: str, quantity: DecimalInput
    ) -> list[DeliveryRequest]:
        """POST /v2.1/delivery/orders: ask for physical delivery of a perpetual swap position.

        Sent as the docs' example does: the parameters in the query string and in the JSON body.
        """
        return await call(
            self._transport, ep.REQUEST_DELIVERY, instrument_id=instrument_id, quantity=quantity
        )

    async def cancel_delivery(self, delivery_order_id: str | int) -> str:
        """DELETE /v2.1/delivery/orders/{deliveryOrderId}: cancel a pending delivery.

        Returns the exchange's confirmation; its documented failure answer (HTTP 200,
        "Cancel exception please try again") raises APIError.
        """
        texts = await call(self._transport, ep.CANCEL_DELIVERY, delivery_order_id=delivery_order_id)
        text = " ".join(texts)
        if _DELIVERY_CANCELLED not in text.lower():
            route = ep.CANCEL_DELIVERY.route
            raise APIError(text or "empty answer", status=200, endpoint=route.name)
        return text

    async def deliver_auction(self, instrument_id: str) -> list[DeliverAuction]:
        """GET /v2.1/deliver-auction/{instrumentId}: the next delivery auction of a swap."""
        return await call(self._transport, ep.DELIVER_AUCTION, instrument_id=instrument_id)

    # -- mint, redeem, borrow, repay ---------------------------------------------------------

    async def mint(self, asset: str, quantity: DecimalInput) -> Mint:
        """POST /v2/mint: mint a flex asset (flexUSD, flexBTC, flexETH, flexFLEX)."""
        return await call(self._transport, ep.MINT, asset=asset, quantity=quantity)

    async def mint_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[MintRecord]:
        """GET /v2/mint/{asset}: mint history, newest first; ``limit`` 1-100."""
        return await call(
            self._transport,
            ep.MINT_HISTORY,
            asset=asset,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_mint_history(
        self,
        asset: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[MintRecord]:
        """Every mint of a flex asset from ``start_time`` to ``end_time`` (ms, inclusive;
        default now), oldest first, in 7-day windows and pages of ``page_size`` (default 100)."""
        return iterate(
            self._transport,
            ep.MINT_HISTORY,
            asset=asset,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def redeem(
        self,
        asset: str,
        quantity: DecimalInput,
        type: RedeemType | RedeemTypeValue = RedeemType.NORMAL,
    ) -> Redeem:
        """POST /v2/redeem: redeem a flex asset, ``type`` Normal (next cycle) or Instant."""
        return await call(self._transport, ep.REDEEM, asset=asset, quantity=quantity, type=type)

    async def redeem_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[RedeemRecord]:
        """GET /v2/redeem/{asset}: redemption history, newest first; ``limit`` 1-100."""
        return await call(
            self._transport,
            ep.REDEEM_HISTORY,
            asset=asset,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_redeem_history(
        self,
        asset: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[RedeemRecord]:
        """Every redemption of a flex asset requested from ``start_time`` to ``end_time`` (ms,
        inclusive; default now), oldest first, in 7-day windows and pages of ``page_size``
        (default 100)."""
        return iterate(
            self._transport,
            ep.REDEEM_HISTORY,
            asset=asset,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def borrow(
        self, borrow_asset: str, collateral_asset: str, collateral_amount: DecimalInput
    ) -> Borrow:
        """POST /v2/borrow: borrow ``borrow_asset`` (USD) against collateral."""
        return await call(
            self._transport,
            ep.BORROW,
            borrow_asset=borrow_asset,
            collateral_asset=collateral_asset,
            collateral_amount=collateral_amount,
        )

    async def repay(
        self, repay_asset: str, regain_asset: str, regain_amount: DecimalInput
    ) -> Repay:
        """POST /v2/repay: repay a loan in ``repay_asset`` (USD), regaining collateral."""
        return await call(
            self._transport,
            ep.REPAY,
            repay_asset=repay_asset,
            regain_asset=regain_asset,
            regain_amount=regain_amount,
        )

    async def borrow_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Borrow]:
        """GET /v2/borrow/{asset}: borrow history by collateral asset; ``limit`` 1-100."""
        return await call(
            self._transport,
            ep.BORROW_HISTORY,
            asset=asset,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_borrow_history(
        self,
        asset: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[Borrow]:
        """Every borrow against a collateral asset from ``start_time`` to ``end_time`` (ms,
        inclusive; default now), oldest first, in 7-day windows and pages of ``page_size``
        (default 100)."""
        return iterate(
            self._transport,
            ep.BORROW_HISTORY,
            asset=asset,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def repay_history(
        self,
        asset: str,
        *,
        limit: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Repay]:
        """GET /v2/repay/{asset}: repay history by regained asset; ``limit`` 1-100."""
        return await call(
            self._transport,
            ep.REPAY_HISTORY,
            asset=asset,
            limit=limit,
            start_time=start_time,
            end_time=end_time,
        )

    def iter_repay_history(
        self,
        asset: str,
        *,
        start_time: int,
        end_time: int | None = None,
        page_size: int | None = None,
        prefetch: bool = False,
        progress: Progress | None = None,
    ) -> AsyncIterator[Repay]:
        """Every repayment regaining an asset from ``start_time`` to ``end_time`` (ms, inclusive;
        default now), oldest first, in 7-day windows and pages of ``page_size`` (default 100)."""
        return iterate(
            self._transport,
            ep.REPAY_HISTORY,
            asset=asset,
            start_time=start_time,
            end_time=end_time,
            page_size=page_size,
            prefetch=prefetch,
            progress=progress,
        )

    async def borrowing_summary(self) -> list[BorrowingSummary]:
        """GET /v2/borrowingSummary: what the account owes, by asset."""
        return await call(self._transport, ep.BORROWING_SUMMARY)

    async def close_borrow(
        self,
        market_code: str,
        *,
        price: DecimalInput | None = None,
        quantity: DecimalInput | None = None,
    ) -> OrderResult:
        """POST /v2/borrow/close: close a borrow (at market price, in full, by default)."""
        return await call(
            self._transport,
            ep.CLOSE_BORROW,
            market_code=market_code,
            price=price,
            quantity=quantity,
        )

    def _window(self, recv_window: int | None) -> int:
        return recv_window_or(recv_window, self._recv_window)
