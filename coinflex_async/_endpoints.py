"""Every endpoint of the client but the order requests, declared once.

A declaration says what the exchange expects and answers: verb and path (a :class:`Route`),
the parameters (path segments in order, query keys, JSON body keys, each with its check), the
response decoder and how the payload is taken out of it, and for history endpoints the largest
``limit`` and the item fields the whole-history walk pages by. From it come the resource
methods' plumbing (:func:`call`), their ``iter_*`` twins (:func:`iterate`), the ``coinflex``
command line's ``history`` kinds and the tests' tables. The methods themselves stay written
out in ``resources/`` so their signatures and docstrings read well in an IDE and in ``help()``.

Adding an endpoint: its model in ``models/``, a declaration here, a one-line method (and an
``iter_`` twin for a history endpoint) in its resource; the tests check them against
:data:`ENDPOINTS` and the API table (``tests/api_table.py``) and want a docs example with its
expected value (``tests/models/docs_examples.py``, ``tests/models/expected.py``).
``docs/guide/development.md`` lists the rest.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from msgspec.json import Decoder

from ._errors import ValidationError
from ._history import Walk, walk
from ._ratelimit import DELIVERY, MINT_REDEEM, REST
from ._transport import Route, Transport
from ._validation import (
    check_choice,
    check_decimal,
    check_int,
    check_numeric_id,
    check_path_arg,
    check_time,
    choices,
    format_decimal,
    history_query,
    ms_to_datetime_text,
    query_string,
)
from .models import (
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
    Market,
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
from .models._base import Envelope, decoder_for, envelope_decoder, envelope_list_decoder
from .models.requests import RedeemType

__all__ = [
    "ENDPOINTS",
    "FLEX_PROTOCOLS",
    "TIMEFRAMES",
    "Endpoint",
    "History",
    "Param",
    "call",
    "iterate",
]

R = TypeVar("R")

# The candle timeframes the docs list.
TIMEFRAMES = ("60s", "300s", "900s", "1800s", "3600s", "7200s", "14400s", "86400s")
FLEX_PROTOCOLS = ("flexUSD", "flexBTC", "flexETH", "flexFLEX")
FLEX_ASSETS = FLEX_PROTOCOLS
_TIMEFRAMES = choices(TIMEFRAMES)
_FLEX_PROTOCOLS = choices(FLEX_PROTOCOLS)
_FLEX_ASSETS = choices(FLEX_ASSETS)
_REDEEM_TYPES = choices(t.value for t in RedeemType)
_encode = msgspec.json.Encoder().encode


# -- parameters --------------------------------------------------------------------------------

Check = Callable[[str, object], str]  # (parameter name, value) -> the text sent, or raise


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: ``wire`` is its query key (or its JSON body key when ``body``; with
    ``also_query`` in both, as the docs' delivery example sends it), or ``None`` for the next
    path segment."""

    name: str
    wire: str | None
    check: Check
    required: bool = False  # path segments are always required
    body: bool = False
    also_query: bool = False


def _text(check: Callable[[str, object], object]) -> Check:
    return lambda name, value: str(check(name, value))


def _protocol(name: str, value: object) -> str:
    return check_choice(name, value, _FLEX_PROTOCOLS)


def _flex_asset(name: str, value: object) -> str:
    return check_choice(name, value, _FLEX_ASSETS)


def _timeframe(name: str, value: object) -> str:
    return check_choice(name, value, _TIMEFRAMES)


def _column(name: str, value: object) -> str:
    return str(check_int(name, value, low=1, high=1000))


def _datetime_text(name: str, value: object) -> str:
    return ms_to_datetime_text(check_time(name, value))


def _path(name: str, check: Check = check_path_arg) -> Param:
    return Param(name, None, check, required=True)


MARKET_CODE = _path("market_code")
INSTRUMENT_ID = _path("instrument_id")
FLEX_PROTOCOL = _path("flex_protocol", _protocol)


# -- how a payload is taken out of its response -----------------------------------------------


def data(body: Envelope[Any]) -> Any:
    """``{"data": ...}`` -> its ``data``."""
    return body.data


def data_or_empty(body: Envelope[Any]) -> Any:
    """``{"data": null}`` (no positions) -> ``[]``."""
    return body.data or []


def whole(body: Any) -> Any:
    """The answer is the payload (no envelope)."""
    return body


def success(body: Ping) -> bool:
    return body.success


def data_or_bare(body: Envelope[Any] | list[Any]) -> Any:
    """``{"data": [...]}`` (the docs) or the bare list (what the live exchange sent) -> the list."""
    return body.data if isinstance(body, Envelope) else body


# -- the declaration ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """A history endpoint: the largest ``limit`` it takes, and the fields of one item that the
    whole-history walk reads: ``time`` is the time the exchange filters by (``None`` when the
    items do not show it), ``id`` orders items sharing a millisecond (``None``: there is none,
    the exchange's order is kept)."""

    max_limit: int
    time: str | None
    id: str | None
    cli: str | None = None  # the ``coinflex history KIND`` that walks it


@dataclass(frozen=True, slots=True)
class Endpoint(Generic[R]):
    """One endpoint: ``name`` is ``group.method``; ``item`` the model of one item (or of the
    answer), ``unwrap`` turns the decoded body into what the method returns."""

    name: str
    route: Route
    item: type
    decoder: Decoder[Any]
    unwrap: Callable[[Any], R] = data
    params: tuple[Param, ...] = ()
    history: History | None = None

    @property
    def group(self) -> str:
        return self.name.partition(".")[0]

    @property
    def method(self) -> str:
        return self.name.partition(".")[2]

    def param_names(self) -> tuple[str, ...]:
        extra = ("limit", "start_time", "end_time") if self.history else ()
        return tuple(p.name for p in self.params) + extra


def _list(
    name: str,
    route: Route,
    item: type,
    *params: Param,
    history: History | None = None,
) -> Endpoint[Any]:
    return Endpoint(
        name, route, item, envelope_list_decoder(item), data, params=params, history=history
    )


def _get(path: str) -> Route:
    return Route("GET", path)


def _signed(path: str) -> Route:
    return Route("GET", path, signed=True, buckets=(REST,))


# The docs say both "max 100" and "max 500" for the flex-protocol limits; 500 is the later one.
_FLEX_MAX = 500

# -- client.public
PING: Endpoint[bool] = Endpoint("public.ping", _get("/v2/ping"), Ping, decoder_for(Ping), success)
MARKETS = _list("public.markets", _get("/v2/all/markets"), Market)
ASSETS = _list("public.assets", _get("/v2/all/assets"), Asset)
PUBLIC_TRADES = _list(
    "public.trades",
    _get("/v2/publictrades/{}"),
    PublicTrade,
    MARKET_CODE,
    history=History(300, "match_timestamp", "match_id", cli="public-trades"),
)
# The docs wrap the tickers in {event, timestamp, data}; the live exchange answered a bare list
# (hummingbot's connectors iterated it as one; docs/guide/live-exchange.md): both decode.
TICKER: Endpoint[list[Ticker]] = Endpoint(
    "public.ticker",
    _get("/v2/ticker"),
    Ticker,
    decoder_for(Envelope[list[Ticker]] | list[Ticker]),
    data_or_bare,
)
# The docs show a bare list here, no envelope; ``limit`` is sent as ``column`` and
# ``start_time`` in the docs' ``YYYY-MM-DD hh:mm:ss`` UTC form, the only endpoint that does.
DELIVERY_FUNDING: Endpoint[list[DeliveryFunding]] = Endpoint(
    "public.delivery_funding",
    _get("/v2/delivery/public/funding"),
    DeliveryFunding,
    decoder_for(list[DeliveryFunding]),
    whole,
    params=(
        Param("instrument_id", "instrumentId", check_path_arg),
        Param("limit", "column", _column),
        Param("start_time", "startTime", _datetime_text),
    ),
)
CANDLES = _list(
    "public.candles",
    _get("/v2/candles/{}"),
    Candle,
    MARKET_CODE,
    Param("timeframe", "timeframe", _timeframe, required=True),
    history=History(5000, "timestamp", None, cli="candles"),
)
# The docs give no maximum: the largest the other history endpoints take.
FUNDING_RATES = _list(
    "public.funding_rates",
    _get("/v2/funding-rates/{}"),
    FundingRate,
    MARKET_CODE,
    history=History(500, "timestamp", None, cli="funding-rates"),
)
DEPTH = _list(
    "public.depth",
    _get("/v2/depth/{}/{}"),
    OrderBook,
    MARKET_CODE,
    # Any positive level: the docs give no maximum, and the live exchange's clients asked for
    # 1,000 (hummingbot's connectors, for every book); it answers at most the whole book.
    _path("level", _text(lambda name, v: check_int(name, v, low=1))),
)

# -- client.private (the GETs; orders, mint, redeem, borrow, repay are in resources/private.py)
ACCOUNT_INFO = _list("private.account_info", _signed("/v2/accountinfo"), AccountInfo)
BALANCES = _list("private.balances", _signed("/v2/balances"), Balance)
BALANCE = _list("private.balance", _signed("/v2/balances/{}"), Balance, INSTRUMENT_ID)
# A position call may answer ``"data": null`` when there is none.
_positions: Decoder[Any] = decoder_for(Envelope[list[Position] | None])
POSITIONS: Endpoint[list[Position]] = Endpoint(
    "private.positions", _signed("/v2/positions"), Position, _positions, data_or_empty
)
POSITION: Endpoint[list[Position]] = Endpoint(
    "private.position",
    _signed("/v2/positions/{}"),
    Position,
    _positions,
    data_or_empty,
    params=(INSTRUMENT_ID,),
)
PRIVATE_TRADES = _list(
    "private.trades",
    _signed("/v2/trades/{}"),
    Trade,
    MARKET_CODE,
    history=History(1000, "match_timestamp", "match_id", cli="trades"),
)
OPEN_ORDERS = _list("private.open_orders", _signed("/v2/orders"), OpenOrder)
# Filtered and sorted by creation time, which the items do not carry: the walk halves ranges.
ORDERS = _list(
    "private.orders",
    _signed("/v2.1/orders"),
    OrderStatus,
    Param("market_code", "marketCode", check_path_arg),
    Param("order_id", "orderId", check_numeric_id),
    Param("client_order_id", "clientOrderId", check_numeric_id),
    history=History(100, None, "order_id", cli="orders"),
)
# The changelog (2021-10-26) raised this limit's maximum from 50 to 500.
FUNDING_PAYMENTS = _list(
    "private.funding_payments",
    _signed("/v2/funding-payments"),
    FundingPayment,
    Param("market_code", "marketCode", check_path_arg, required=True),
    history=History(500, "timestamp", None, cli="funding-payments"),
)
DELIVERY_ORDERS = _list("private.delivery_orders", _signed("/v2.1/delivery/orders"), DeliveryOrder)
DELIVER_AUCTION = _list(
    "private.deliver_auction", _signed("/v2.1/deliver-auction/{}"), DeliverAuction, INSTRUMENT_ID
)
MINT_HISTORY = _list(
    "private.mint_history",
    _signed("/v2/mint/{}"),
    MintRecord,
    _path("asset", _flex_asset),
    history=History(100, "minted_at", None, cli="mint"),
)
REDEEM_HISTORY = _list(
    "private.redeem_history",
    _signed("/v2/redeem/{}"),
    RedeemRecord,
    _path("asset", _flex_asset),
    history=History(100, "requested_at", None, cli="redeem"),
)
BORROW_HISTORY = _list(
    "private.borrow_history",
    _signed("/v2/borrow/{}"),
    Borrow,
    _path("asset"),
    history=History(100, "borrowed_at", None, cli="borrow"),
)
REPAY_HISTORY = _list(
    "private.repay_history",
    _signed("/v2/repay/{}"),
    Repay,
    _path("asset"),
    history=History(100, "repaid_at", None, cli="repay"),
)
BORROWING_SUMMARY = _list(
    "private.borrowing_summary", _signed("/v2/borrowingSummary"), BorrowingSummary
)

# -- client.private, the requests that change something (not the orders: resources/private.py)


def _action(method: str, path: str, *buckets: str) -> Route:
    return Route(method, path, signed=True, buckets=(REST, *buckets))


def _amount(name: str, value: object) -> str:
    return format_decimal(check_decimal(name, value))


def _redeem_type(name: str, value: object) -> str:
    return check_choice(name, value, _REDEEM_TYPES)


def _body(name: str, wire: str, check: Check = check_path_arg, required: bool = True) -> Param:
    return Param(name, wire, check, required=required, body=True)


CANCEL_ALL: Endpoint[CancelAllResult] = Endpoint(
    "private.cancel_all_orders",
    _action("DELETE", "/v2/cancel/orders"),
    CancelAllResult,
    envelope_decoder(CancelAllResult),
)
CANCEL_ALL_MARKET: Endpoint[CancelAllResult] = Endpoint(
    "private.cancel_all_orders",
    _action("DELETE", "/v2/cancel/orders/{}"),
    CancelAllResult,
    envelope_decoder(CancelAllResult),
    params=(MARKET_CODE,),
)
# Sent as the docs' example does: the parameters in the query string and in the JSON body.
REQUEST_DELIVERY = _list(
    "private.request_delivery",
    _action("POST", "/v2.1/delivery/orders", DELIVERY),
    DeliveryRequest,
    Param("instrument_id", "instrumentId", check_path_arg, True, body=True, also_query=True),
    Param("quantity", "qtyDeliver", _amount, True, body=True, also_query=True),
)
# The answer is a list of strings; the method reads success or failure from it.
CANCEL_DELIVERY: Endpoint[list[str]] = Endpoint(
    "private.cancel_delivery",
    _action("DELETE", "/v2.1/delivery/orders/{}"),
    str,
    envelope_list_decoder(str),
    params=(_path("delivery_order_id", _text(check_numeric_id)),),
)
MINT: Endpoint[Mint] = Endpoint(
    "private.mint",
    _action("POST", "/v2/mint", MINT_REDEEM),
    Mint,
    envelope_decoder(Mint),
    params=(_body("asset", "asset", _flex_asset), _body("quantity", "quantity", _amount)),
)
REDEEM: Endpoint[Redeem] = Endpoint(
    "private.redeem",
    _action("POST", "/v2/redeem", MINT_REDEEM),
    Redeem,
    envelope_decoder(Redeem),
    params=(
        _body("asset", "asset", _flex_asset),
        _body("quantity", "quantity", _amount),
        _body("type", "type", _redeem_type),
    ),
)
BORROW: Endpoint[Borrow] = Endpoint(
    "private.borrow",
    _action("POST", "/v2/borrow"),
    Borrow,
    envelope_decoder(Borrow),
    params=(
        _body("borrow_asset", "borrowAsset"),
        _body("collateral_asset", "collateralAsset"),
        _body("collateral_amount", "collateralAmount", _amount),
    ),
)
REPAY: Endpoint[Repay] = Endpoint(
    "private.repay",
    _action("POST", "/v2/repay"),
    Repay,
    envelope_decoder(Repay),
    params=(
        _body("repay_asset", "repayAsset"),
        _body("regain_asset", "regainAsset"),
        _body("regain_amount", "regainAmount", _amount),
    ),
)
CLOSE_BORROW: Endpoint[OrderResult] = Endpoint(
    "private.close_borrow",
    _action("POST", "/v2/borrow/close"),
    OrderResult,
    envelope_decoder(OrderResult),
    params=(
        _body("market_code", "marketCode"),
        _body("price", "price", _amount, required=False),
        _body("quantity", "quantity", _amount, required=False),
    ),
)

# -- client.flex_protocol
FLEX_BALANCES = _list(
    "flex_protocol.balances", _get("/v2/flex-protocol/balances/{}"), Balance, FLEX_PROTOCOL
)
FLEX_POSITIONS = _list(
    "flex_protocol.positions", _get("/v2/flex-protocol/positions/{}"), Position, FLEX_PROTOCOL
)
FLEX_ORDERS = _list(
    "flex_protocol.orders", _get("/v2/flex-protocol/orders/{}"), OpenOrder, FLEX_PROTOCOL
)
FLEX_TRADES = _list(
    "flex_protocol.trades",
    _get("/v2/flex-protocol/trades/{}/{}"),
    Trade,
    FLEX_PROTOCOL,
    MARKET_CODE,
    history=History(_FLEX_MAX, "match_timestamp", "match_id"),
)
FLEX_DELIVERY_ORDERS = _list(
    "flex_protocol.delivery_orders",
    _get("/v2/flex-protocol/delivery/orders/{}"),
    DeliveryOrder,
    FLEX_PROTOCOL,
    history=History(_FLEX_MAX, "timestamp", "deliver_order_id"),
)

ENDPOINTS: tuple[Endpoint[Any], ...] = tuple(
    value for value in list(globals().values()) if isinstance(value, Endpoint)
)


# -- the plumbing ------------------------------------------------------------------------------


def request_parts(endpoint: Endpoint[Any], values: dict[str, Any]) -> tuple[str, str, bytes | None]:
    """The checked, encoded path, query string and JSON body of one call (ValidationError if
    bad)."""
    if not endpoint.params and endpoint.history is None:  # most polled endpoints: nothing to do
        return endpoint.route.path, "", None
    segments: list[str] = []
    pairs: list[tuple[str, str]] = []
    fields: dict[str, str] | None = None
    for param in endpoint.params:
        value = values.get(param.name)
        if param.wire is None:
            segments.append(param.check(param.name, value))
        elif value is not None or param.required:
            text = param.check(param.name, value)
            if param.body:
                fields = {} if fields is None else fields
                fields[param.wire] = text
            if not param.body or param.also_query:
                pairs.append((param.wire, text))
    query = query_string(pairs)
    history = endpoint.history
    if history is not None:
        rest = history_query(
            values.get("limit"), history.max_limit, values.get("start_time"), values.get("end_time")
        )
        query = f"{query}&{rest}" if query and rest else query or rest
    path = endpoint.route.path.format(*segments) if segments else endpoint.route.path
    return path, query, None if fields is None else _encode(fields)


async def call(transport: Transport, endpoint: Endpoint[R], **values: Any) -> R:
    """Send one call of ``endpoint`` with the method's arguments; return its payload."""
    path, query, body = request_parts(endpoint, values)
    answer = await transport.request(
        endpoint.route, endpoint.decoder, path=path, query=query, body=body
    )
    return endpoint.unwrap(answer)


def iterate(
    transport: Transport,
    endpoint: Endpoint[Any],
    *,
    start_time: int,
    end_time: int | None,
    page_size: int | None,
    prefetch: bool,
    progress: Callable[[int], None] | None,
    **filters: Any,
) -> AsyncIterator[Any]:
    """The whole history of ``endpoint`` over ``[start_time, end_time]`` (see ``_history``).

    Checks every argument now, so bad input raises here, before anything is sent.
    """
    history = endpoint.history
    assert history is not None, endpoint.name
    if end_time is None:
        end_time = time.time_ns() // 1_000_000
    start = check_time("start_time", start_time)
    end = check_time("end_time", end_time)
    if end < start:
        raise ValidationError(f"end_time ({end}) is before start_time ({start})")
    limit = history.max_limit
    if page_size is not None:
        limit = check_int("page_size", page_size, low=1, high=history.max_limit)
    if not isinstance(prefetch, bool):
        raise ValidationError(f"prefetch must be a bool (got {prefetch!r})")
    request_parts(endpoint, filters)  # the filters, checked once here

    async def fetch(lo: int, hi: int, size: int) -> list[Any]:
        items: list[Any] = await call(
            transport, endpoint, **filters, limit=size, start_time=lo, end_time=hi
        )
        return items

    time_of = None if history.time is None else _getter(history.time)
    return walk(
        Walk(
            fetch=fetch,
            start=start,
            end=end,
            limit=limit,
            max_limit=history.max_limit,
            time_of=time_of,
            order=_orderer(history),
            name=endpoint.name,
            progress=progress,
            prefetch=prefetch,
        )
    )


def _getter(name: str) -> Callable[[Any], int]:
    def get(item: Any) -> int:
        value: int = getattr(item, name)
        return value

    return get


def _id_key(value: object) -> tuple[int, str]:
    # Numeric ids compare as numbers ("99" before "100"); others as text.
    text = "" if value is None else str(value)
    return (len(text), text) if text.isdigit() else (0, text)


def _orderer(history: History) -> Callable[[list[Any]], list[Any]]:
    """Oldest first, ties in id order; without a time field the exchange's newest-first
    order is reversed."""
    if history.time is None:
        return lambda items: items[::-1]
    time_name, id_name = history.time, history.id
    if id_name is None:
        # Stable: ties keep the exchange's relative order, reversed with the page.
        return lambda items: sorted(items[::-1], key=lambda item: getattr(item, time_name))
    return lambda items: sorted(
        items, key=lambda item: (getattr(item, time_name), _id_key(getattr(item, id_name)))
    )
