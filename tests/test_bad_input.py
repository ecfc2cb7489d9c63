"""Property-based: every public method, given bad parameters, raises ValidationError and sends
nothing.

The client points at a loopback port where nothing listens, with retries and rate limits off: had
any request been attempted, the call would fail with TransportError instead (checked below), so a
ValidationError proves the input was refused before the wire.
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coinflex_async as cf
from coinflex_async._endpoints import ENDPOINTS
from coinflex_async.resources.flex_protocol import FLEX_PROTOCOLS as FLEX
from coinflex_async.resources.public import TIMEFRAMES


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


DEAD_URL = f"http://127.0.0.1:{_dead_port()}"


def call(group: str, method: str, *args: Any, **kwargs: Any) -> BaseException | None:
    async def run() -> BaseException | None:
        async with cf.Client("key", "secret", base_url=DEAD_URL, retry=None, rate_limits=None) as c:
            try:
                await getattr(getattr(c, group), method)(*args, **kwargs)
            except BaseException as exc:
                return exc
        return None

    return asyncio.run(run())


def test_a_valid_call_does_reach_the_wire() -> None:
    """The proof above depends on this: a valid call to the dead port is a TransportError."""
    error = call("public", "trades", "BTC-USD-SWAP-LIN", limit=10)
    assert type(error) is cf.TransportError
    assert error.request_sent is False


# -- strategies of bad values ------------------------------------------------------------------

not_int = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=2),
)


def bad_int(low: int, high: int | None) -> st.SearchStrategy[Any]:
    """Not an int, or an int out of ``low``-``high`` (``high`` None: no upper bound)."""
    if high is None:
        return st.one_of(not_int, st.integers(max_value=low - 1))
    return st.one_of(
        not_int,
        st.integers(max_value=low - 1),
        st.integers(min_value=high + 1),
        st.just(10**30),
    )


bad_time = st.one_of(not_int, st.integers(max_value=-1), st.integers(min_value=10**16))

# Strings that must never reach a URL path: separators, traversal, queries, encodings, unicode,
# empty, too long, and non-strings.
path_breakers = st.one_of(
    st.sampled_from(
        [
            "",
            "..",
            ".",
            "BTC/../../v2/balances",
            "BTC?x=1",
            "BTC#frag",
            "BTC%2F..",
            "BTC USD",
            "BTC\r\nX-Injected: 1",
            "\uff22\uff34\uff23",  # fullwidth BTC
            "BTC-USD\x00",
            "A" * 65,
        ]
    ),
    st.text(min_size=1, max_size=20).filter(
        lambda s: not all(c.isascii() and (c.isalnum() or c in "-_") for c in s)
    ),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)

# Numeric IDs (order, delivery order) may also be given as non-negative ints.
id_breakers = path_breakers.filter(lambda v: v is not None and not (type(v) is int and v >= 0))


def _given(value: object) -> bool:
    return value is not None


bad_decimal = st.one_of(
    st.sampled_from(
        [
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            "NaN",
            "inf",
            "-1",
            "0",
            "1e",
            "",
            "abc",
            0.1,
            math.nan,
            math.inf,
            -math.inf,
            True,
            None,
        ]
    ),
    st.decimals(max_value=Decimal(0), allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-6, max_value=1e6).filter(lambda f: Decimal(f) != Decimal(repr(f))),
    st.lists(st.integers(), max_size=1),
)


def bad_choice(options: tuple[str, ...]) -> st.SearchStrategy[Any]:
    near_misses = [v for o in options for v in (o.lower(), o.upper(), f" {o}") if v not in options]
    return st.one_of(
        st.text(max_size=12).filter(lambda s: s not in options),
        st.integers(),
        st.none(),
        st.sampled_from(near_misses),
    )


MARKET = "BTC-USD-SWAP-LIN"
WEEK = 7 * 24 * 3600 * 1000

# (group, method, positional args, keyword args, name of the parameter to break, strategy,
#  whether the parameter is positional)
Case = tuple[str, str, tuple[Any, ...], dict[str, Any], str, st.SearchStrategy[Any]]


def history_cases(group: str, method: str, args: tuple[Any, ...], max_limit: int) -> list[Case]:
    return [
        (group, method, args, {}, "limit", bad_int(1, max_limit)),
        (group, method, args, {}, "start_time", bad_time),
        (group, method, args, {}, "end_time", bad_time),
    ]


# A valid value for each positional parameter of a history method.
SAMPLE = {"market_code": MARKET, "flex_protocol": "flexUSD", "asset": "flexUSD"}

# limit, start_time and end_time of every history endpoint, bounds from its declaration.
HISTORY_CASES: list[Case] = [
    case
    for endpoint in ENDPOINTS
    if endpoint.history is not None
    for case in history_cases(
        endpoint.group,
        endpoint.method,
        tuple(SAMPLE[p.name] for p in endpoint.params if p.required and p.name in SAMPLE),
        endpoint.history.max_limit,
    )
]

CASES: list[Case] = [
    *HISTORY_CASES,
    ("public", "trades", (), {}, "market_code", path_breakers),
    ("public", "candles", (), {}, "market_code", path_breakers),
    ("public", "candles", (MARKET,), {}, "timeframe", bad_choice(TIMEFRAMES)),
    ("public", "funding_rates", (), {}, "market_code", path_breakers),
    ("public", "depth", (), {}, "market_code", path_breakers),
    # Any positive level (live clients asked for 1,000; docs/guide/live-exchange.md).
    ("public", "depth", (MARKET,), {}, "level", bad_int(1, None)),
    ("public", "delivery_funding", (), {}, "limit", bad_int(1, 1000)),
    ("public", "delivery_funding", (), {}, "start_time", bad_time),
    (
        "public",
        "delivery_funding",
        (),
        {},
        "instrument_id",
        path_breakers.filter(lambda v: v is not None),
    ),
    ("flex_protocol", "balances", (), {}, "flex_protocol", bad_choice(FLEX)),
    ("flex_protocol", "positions", (), {}, "flex_protocol", bad_choice(FLEX)),
    ("flex_protocol", "orders", (), {}, "flex_protocol", bad_choice(FLEX)),
    ("flex_protocol", "trades", ("flexUSD",), {}, "market_code", path_breakers),
    ("private", "balance", (), {}, "instrument_id", path_breakers),
    ("private", "position", (), {}, "instrument_id", path_breakers),
    ("private", "trades", (), {}, "market_code", path_breakers),
    ("private", "orders", (), {}, "order_id", id_breakers),
    ("private", "funding_payments", (), {}, "market_code", path_breakers),
    ("private", "cancel_all_orders", (), {}, "market_code", id_breakers),
    ("private", "cancel_delivery", (), {}, "delivery_order_id", id_breakers),
    ("private", "deliver_auction", (), {}, "instrument_id", path_breakers),
    ("private", "request_delivery", (MARKET,), {}, "quantity", bad_decimal),
    ("private", "mint", ("flexUSD",), {}, "quantity", bad_decimal),
    ("private", "mint", (), {"quantity": "1"}, "asset", bad_choice(FLEX)),
    ("private", "redeem", ("flexUSD",), {}, "quantity", bad_decimal),
    ("private", "redeem", ("flexUSD", "1"), {}, "type", bad_choice(("Normal", "Instant"))),
    ("private", "borrow", ("USD", "BTC"), {}, "collateral_amount", bad_decimal),
    ("private", "repay", ("USD", "BTC"), {}, "regain_amount", bad_decimal),
    ("private", "borrow_history", (), {}, "asset", path_breakers),
    ("private", "repay_history", (), {}, "asset", path_breakers),
    (
        "private",
        "close_borrow",
        (MARKET,),
        {},
        "price",
        bad_decimal.filter(lambda v: v is not None),
    ),
]

NEW_ORDER = {
    "market_code": MARKET,
    "side": "BUY",
    "quantity": "0.001",
    "order_type": "LIMIT",
    "price": "50000",
}
ORDER_CASES: list[tuple[str, dict[str, Any], str, st.SearchStrategy[Any]]] = [
    ("place_order", NEW_ORDER, "market_code", path_breakers),
    ("place_order", NEW_ORDER, "side", bad_choice(("BUY", "SELL"))),
    ("place_order", NEW_ORDER, "quantity", bad_decimal),
    ("place_order", NEW_ORDER, "price", bad_decimal),
    ("place_order", NEW_ORDER, "order_type", bad_choice(("LIMIT", "MARKET", "STOP"))),
    ("place_order", NEW_ORDER, "time_in_force", bad_choice(("GTC", "IOC", "FOK", "MAKER_ONLY"))),
    (
        "place_order",
        NEW_ORDER,
        "client_order_id",
        st.one_of(
            st.just(0),
            st.just(-1),
            st.just(2**63),
            st.text(min_size=1, max_size=5).filter(lambda s: not s.isdigit()),
            st.booleans(),
            st.floats(),
        ),
    ),
    ("place_order", NEW_ORDER, "recv_window", st.one_of(bad_int(1, 3_600_000))),
    (
        "modify_order",
        {"order_id": "1", "market_code": MARKET, "price": "1"},
        "order_id",
        id_breakers,
    ),
    ("modify_order", {"order_id": "1", "market_code": MARKET}, "price", bad_decimal),
    (
        "cancel_order",
        {"order_id": "1", "market_code": MARKET},
        "order_id",
        id_breakers,
    ),
    ("cancel_order", {"order_id": "1"}, "market_code", path_breakers),
]

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assert_refused(error: BaseException | None, described: Callable[[], str]) -> None:
    assert isinstance(error, cf.ValidationError), described()
    assert isinstance(error, ValueError)
    assert str(error)


@pytest.mark.parametrize(
    ("group", "method", "args", "kwargs", "param", "strategy"),
    CASES,
    ids=[f"{c[1]}-{c[4]}-{i}" for i, c in enumerate(CASES)],
)
def test_bad_parameter_is_refused_before_sending(
    group: str,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    param: str,
    strategy: st.SearchStrategy[Any],
) -> None:
    @SETTINGS
    @given(value=strategy)
    def check(value: Any) -> None:
        error = call(group, method, *args, **{**kwargs, param: value})
        _assert_refused(error, lambda: f"{group}.{method}({param}={value!r}) -> {error!r}")

    check()


@pytest.mark.parametrize(
    ("method", "base", "param", "strategy"),
    ORDER_CASES,
    ids=[f"{c[0]}-{c[2]}" for c in ORDER_CASES],
)
def test_bad_order_field_is_refused_before_sending(
    method: str, base: dict[str, Any], param: str, strategy: st.SearchStrategy[Any]
) -> None:
    @SETTINGS
    @given(value=strategy)
    def check(value: Any) -> None:
        kwargs = {**base, param: value}
        if value is None and param in ("time_in_force", "client_order_id", "recv_window"):
            return  # None means "not given" for optional fields
        error = call("private", method, **kwargs)
        _assert_refused(error, lambda: f"{method}({param}={value!r}) -> {error!r}")

    check()


@SETTINGS
@given(
    start=st.integers(min_value=0, max_value=10**13),
    gap=st.one_of(st.integers(min_value=WEEK + 1, max_value=10**12), st.integers(max_value=-1)),
)
def test_time_windows_longer_than_7_days_or_reversed_are_refused(start: int, gap: int) -> None:
    if start + gap < 0:
        return
    error = call("public", "trades", MARKET, start_time=start, end_time=start + gap)
    _assert_refused(error, lambda: f"{start=} {gap=} -> {error!r}")


def test_empty_order_lists_are_refused() -> None:
    error = call("private", "place_orders", [])
    _assert_refused(error, lambda: repr(error))


def test_unknown_order_field_is_refused() -> None:
    error = call("private", "place_orders", [{**NEW_ORDER, "prize": "1"}])
    _assert_refused(error, lambda: repr(error))
    assert "prize" in str(error)
