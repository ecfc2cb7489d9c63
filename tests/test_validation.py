"""Bad parameters to every public and flex method raise ValidationError and send nothing.

Each call runs against a recording server, which must see no request at all.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async._validation import (
    check_choice,
    check_decimal,
    check_int,
    check_numeric_id,
    check_path_arg,
    check_time_window,
    choices,
    format_decimal,
    history_query,
    query_string,
)
from tests.loopback import RecordingServer

Call = Callable[[cf.Client], Awaitable[object]]

SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000
START = 1_600_000_000_000

PATH_BREAKERS: list[Any] = [
    "BTC/../../v2/balances",
    "BTC?x=1",
    "",
    "BTC%2F..",
    "..",
    ".",
    "BTC/USD",
    "BTC#x",
    "BTC USD",
    "BTC\nUSD",
    "BTC\x00",
    "BTC\u2013USD",  # en dash
    "\uff22\uff34\uff23-USD",  # fullwidth letters
    "BTC-USD-SWAP-L\u0130N",  # dotted capital I
    "\u20ac",  # euro sign
    "BTC\u200b",  # zero-width space
    "A" * 65,
]
NOT_STRINGS: list[Any] = [None, True, -1, 1.5, b"BTC", ["BTC"]]
BAD_MARKET_CODES = PATH_BREAKERS + NOT_STRINGS

NOT_INTS: list[Any] = [True, False, "10", 10.0, Decimal(10)]
# START // 1000: seconds where milliseconds are due; 946684799999: 1999; 4102444800000: 2100.
BAD_TIMES: list[Any] = [
    -1,
    True,
    "1600000000000",
    1.6e12,
    Decimal(START),
    10**20,
    START // 1000,
    946_684_799_999,
    4_102_444_800_000,
]
BAD_PROTOCOLS: list[Any] = [
    "flexusd",
    "FLEXUSD",
    "flexDOGE",
    "USD",
    "",
    "flexUSD/../balances",
    " flexUSD",
    None,
    1,
]
BAD_TIMEFRAMES: list[Any] = ["1h", "60", 60, "3600S", "", " 3600s", "3600s ", "30s", None]


def bad_limits(maximum: int) -> list[Any]:
    return [0, -1, maximum + 1, 10**9, *NOT_INTS]


def bad_windows() -> list[dict[str, Any]]:
    """start/end combinations that are refused: bad types, reversed, wider than 7 days."""
    windows: list[dict[str, Any]] = [{"start_time": bad} for bad in BAD_TIMES]
    windows += [{"end_time": bad} for bad in BAD_TIMES]
    windows.append({"start_time": START, "end_time": START - 1})
    windows.append({"start_time": START, "end_time": START + SEVEN_DAYS_MS + 1})
    windows.append({"start_time": 0, "end_time": START})
    return windows


def cases() -> Iterator[Any]:
    """(id, call) for every bad call of every public and flex method."""
    history_methods: list[tuple[str, int, Callable[[cf.Client, dict[str, Any]], Awaitable[object]]]]
    history_methods = [
        ("trades", 300, lambda c, kw: c.public.trades("BTC-USD-SWAP-LIN", **kw)),
        ("candles", 5000, lambda c, kw: c.public.candles("BTC-USD-SWAP-LIN", **kw)),
        ("funding_rates", 500, lambda c, kw: c.public.funding_rates("BTC-USD-REPO-LIN", **kw)),
        (
            "flex.trades",
            500,
            lambda c, kw: c.flex_protocol.trades("flexBTC", "BTC-USD-SWAP-LIN", **kw),
        ),
        (
            "flex.delivery_orders",
            500,
            lambda c, kw: c.flex_protocol.delivery_orders("flexBTC", **kw),
        ),
    ]
    for name, maximum, call in history_methods:
        for limit in bad_limits(maximum):
            kwargs = {"limit": limit}
            yield pytest.param(
                lambda c, call=call, kw=kwargs: call(c, kw), id=f"{name}-limit={limit!r}"
            )
        for window in bad_windows():
            yield pytest.param(lambda c, call=call, kw=window: call(c, kw), id=f"{name}-{window!r}")

    market_code_methods: list[tuple[str, Callable[[cf.Client, Any], Awaitable[object]]]] = [
        ("trades", lambda c, code: c.public.trades(code)),
        ("candles", lambda c, code: c.public.candles(code)),
        ("funding_rates", lambda c, code: c.public.funding_rates(code)),
        ("depth", lambda c, code: c.public.depth(code)),
        ("delivery_funding", lambda c, code: c.public.delivery_funding(instrument_id=code)),
        ("flex.trades", lambda c, code: c.flex_protocol.trades("flexUSD", code)),
    ]
    for name, call in market_code_methods:
        for bad in BAD_MARKET_CODES:
            if bad is None and name == "delivery_funding":
                continue  # instrument_id is optional there: None means "every instrument"
            yield pytest.param(lambda c, call=call, bad=bad: call(c, bad), id=f"{name}-{bad!a}")

    for bad in BAD_TIMEFRAMES:
        yield pytest.param(
            lambda c, bad=bad: c.public.candles("BTC-USD-SWAP-LIN", timeframe=bad),
            id=f"candles-timeframe={bad!r}",
        )
    # Any positive level is sent (live clients asked for 1,000; the docs give no maximum).
    for bad in [0, -5, -(10**9), *NOT_INTS, None]:
        yield pytest.param(
            lambda c, bad=bad: c.public.depth("BTC-USD-SWAP-LIN", level=bad),
            id=f"depth-level={bad!r}",
        )
    for bad in bad_limits(1000):
        yield pytest.param(
            lambda c, bad=bad: c.public.delivery_funding(limit=bad),
            id=f"delivery_funding-limit={bad!r}",
        )
    for bad in [*BAD_TIMES, "2020-12-08 20:00:00"]:
        yield pytest.param(
            lambda c, bad=bad: c.public.delivery_funding(start_time=bad),
            id=f"delivery_funding-start_time={bad!r}",
        )

    flex_methods: list[tuple[str, Callable[[cf.Client, Any], Awaitable[object]]]] = [
        ("balances", lambda c, p: c.flex_protocol.balances(p)),
        ("positions", lambda c, p: c.flex_protocol.positions(p)),
        ("orders", lambda c, p: c.flex_protocol.orders(p)),
        ("trades", lambda c, p: c.flex_protocol.trades(p, "BTC-USD-SWAP-LIN")),
        ("delivery_orders", lambda c, p: c.flex_protocol.delivery_orders(p)),
    ]
    for name, call in flex_methods:
        for bad in BAD_PROTOCOLS:
            yield pytest.param(
                lambda c, call=call, bad=bad: call(c, bad), id=f"flex.{name}-{bad!a}"
            )


@pytest.mark.parametrize("call", list(cases()))
async def test_bad_parameters_raise_validation_error_and_send_nothing(
    recorder: tuple[RecordingServer, str], call: Call
) -> None:
    server, url = recorder
    async with cf.Client(base_url=url, rate_limits=None, retry=None) as client:
        with pytest.raises(cf.ValidationError) as caught:
            await call(client)
    assert type(caught.value) is cf.ValidationError
    assert isinstance(caught.value, ValueError)
    assert server.requests == []


# -- the boundaries are accepted and sent --------------------------------------------------


@pytest.mark.parametrize(
    ("call", "path", "query"),
    [
        (
            lambda c: c.public.trades("BTC-USD-SWAP-LIN", limit=1),
            "/v2/publictrades/BTC-USD-SWAP-LIN",
            "limit=1",
        ),
        (
            lambda c: c.public.trades("BTC-USD-SWAP-LIN", limit=300),
            "/v2/publictrades/BTC-USD-SWAP-LIN",
            "limit=300",
        ),
        (
            lambda c: c.public.trades(
                "BTC-USD-SWAP-LIN", start_time=START, end_time=START + SEVEN_DAYS_MS
            ),
            "/v2/publictrades/BTC-USD-SWAP-LIN",
            f"startTime={START}&endTime={START + SEVEN_DAYS_MS}",
        ),
        (
            lambda c: c.public.trades("BTC-USD-SWAP-LIN", start_time=START, end_time=START),
            "/v2/publictrades/BTC-USD-SWAP-LIN",
            f"startTime={START}&endTime={START}",
        ),
        (
            lambda c: c.public.candles("BTC-USD-SWAP-LIN", timeframe="60s", limit=5000),
            "/v2/candles/BTC-USD-SWAP-LIN",
            "timeframe=60s&limit=5000",
        ),
        (
            lambda c: c.public.funding_rates("BTC-USD-REPO-LIN", limit=500),
            "/v2/funding-rates/BTC-USD-REPO-LIN",
            "limit=500",
        ),
        (
            lambda c: c.public.delivery_funding(limit=1000),
            "/v2/delivery/public/funding",
            "column=1000",
        ),
        (lambda c: c.public.depth("BTC-USD-SWAP-LIN", level=1), "/v2/depth/BTC-USD-SWAP-LIN/1", ""),
        (
            lambda c: c.public.depth("BTC-USD-SWAP-LIN", level=100),
            "/v2/depth/BTC-USD-SWAP-LIN/100",
            "",
        ),
        (
            lambda c: c.public.depth("BTC-USD-SWAP-LIN", level=1000),
            "/v2/depth/BTC-USD-SWAP-LIN/1000",
            "",
        ),
        (
            lambda c: c.public.depth("BTC-USD-SWAP-LIN", level=10**9),
            "/v2/depth/BTC-USD-SWAP-LIN/1000000000",
            "",
        ),
        (
            lambda c: c.flex_protocol.trades("flexFLEX", "FLEX-USD", limit=500),
            "/v2/flex-protocol/trades/flexFLEX/FLEX-USD",
            "limit=500",
        ),
        (
            lambda c: c.flex_protocol.delivery_orders("flexETH", limit=1),
            "/v2/flex-protocol/delivery/orders/flexETH",
            "limit=1",
        ),
    ],
)
async def test_boundary_values_are_accepted_and_sent(
    recorder: tuple[RecordingServer, str], call: Call, path: str, query: str
) -> None:
    server, url = recorder
    # Any documented body will do: only the request matters here.
    server.reply("GET", path, (200, b'{"data": []}', {}))
    async with cf.Client(base_url=url, rate_limits=None, retry=None) as client:
        # Depth needs a book to decode; only the request is checked here.
        with contextlib.suppress(cf.DecodeError):
            await call(client)
    (request,) = server.requests
    assert (request.method, request.path, request.query) == ("GET", path, query)


# -- the helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["BTC-USD-SWAP-LIN", "flexUSD", "a_b", "0", "A" * 64])
def test_check_path_arg_keeps_plain_names(value: str) -> None:
    assert check_path_arg("x", value) == value


def test_check_numeric_id_takes_digit_strings_and_non_negative_ints() -> None:
    assert check_numeric_id("id", 586985384617312258) == "586985384617312258"
    assert check_numeric_id("id", "0") == "0"
    for bad in (-1, True, "12a", "\uff11\uff12", "", "1" * 21, 1.0, None):
        with pytest.raises(cf.ValidationError):
            check_numeric_id("id", bad)


@pytest.mark.parametrize("value", BAD_MARKET_CODES, ids=ascii)
def test_check_path_arg_refuses_anything_that_could_change_the_url(value: object) -> None:
    with pytest.raises(cf.ValidationError):
        check_path_arg("x", value)


def test_check_int_range_is_inclusive() -> None:
    assert check_int("n", 1, low=1, high=3) == 1
    assert check_int("n", 3, low=1, high=3) == 3
    for bad in (0, 4, True, 2.0, "2"):
        with pytest.raises(cf.ValidationError):
            check_int("n", bad, low=1, high=3)


def test_check_time_window_allows_exactly_seven_days() -> None:
    assert check_time_window(START, START + SEVEN_DAYS_MS) == (START, START + SEVEN_DAYS_MS)
    assert check_time_window(None, None) == (None, None)
    assert check_time_window(START, None) == (START, None)
    with pytest.raises(cf.ValidationError, match="7 days"):
        check_time_window(START, START + SEVEN_DAYS_MS + 1)
    with pytest.raises(cf.ValidationError, match="before"):
        check_time_window(START, START - 1)


class Frame(enum.Enum):
    HOUR = "3600s"


def test_check_choice_takes_enum_members_by_value() -> None:
    assert check_choice("timeframe", Frame.HOUR, choices(("60s", "3600s"))) == "3600s"
    assert check_choice("side", cf.Side.BUY, choices(("BUY", "SELL"))) == "BUY"
    with pytest.raises(cf.ValidationError):
        check_choice("side", "buy", choices(("BUY", "SELL")))
    with pytest.raises(cf.ValidationError):
        check_choice("side", ["BUY"], choices(("BUY", "SELL")))  # unhashable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("54900"), Decimal("54900")),
        ("0.001", Decimal("0.001")),
        (" 1.5 ", Decimal("1.5")),
        (7, Decimal(7)),
        (0.5, Decimal("0.5")),
    ],
)
def test_check_decimal_accepts_exact_values(value: object, expected: Decimal) -> None:
    result = check_decimal("price", value)
    assert type(result) is Decimal
    assert result == expected


@pytest.mark.parametrize(
    "value",
    [0.1, float("nan"), float("inf"), "NaN", "-Infinity", "abc", "", True, None, [1], 0, "-1"],
    ids=repr,
)
def test_check_decimal_refuses_inexact_non_finite_and_non_positive(value: object) -> None:
    with pytest.raises(cf.ValidationError):
        check_decimal("price", value)


@pytest.mark.parametrize(
    ("value", "exact", "suggested"),
    [
        (0.1 + 0.2, "0.3000000000000000444089209850062616169452667236328125", '"0.3"'),
        (3e-08, None, '"0.00000003"'),
        (54900.1, "54900.0999999999985448084771633148193359375", '"54900.1"'),
    ],
    ids=repr,
)
def test_an_inexact_float_is_named_by_its_exact_binary_value_and_a_str_suggested(
    value: float, exact: str | None, suggested: str
) -> None:
    with pytest.raises(cf.ValidationError) as caught:
        check_decimal("price", value)
    text = str(caught.value)
    assert f"exact binary value is {exact or format_decimal(Decimal(value))};" in text
    assert f"price={suggested}" in text
    assert "E-" not in text  # plain decimals, as they would go on the wire


def test_check_decimal_negative_only_where_allowed() -> None:
    assert check_decimal("price", "-0.0002", allow_negative=True) == Decimal("-0.0002")
    assert check_decimal("qty", "0", positive=False) == 0
    with pytest.raises(cf.ValidationError):
        check_decimal("qty", "-1", positive=False)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1E+3"), "1000"),
        (Decimal("54900.50"), "54900.50"),
        (Decimal("-0"), "0"),
        (Decimal("-0.0002"), "-0.0002"),
    ],
)
def test_format_decimal_never_writes_an_exponent(value: Decimal, text: str) -> None:
    assert format_decimal(value) == text


def test_query_string_skips_none_and_percent_encodes_values() -> None:
    pairs = [("a", 1), ("b", None), ("c", "x y/z&w=v"), ("d", "2020-12-08 20:00:00")]
    assert query_string(pairs) == "a=1&c=x%20y%2Fz%26w%3Dv&d=2020-12-08%2020%3A00%3A00"
    assert query_string([]) == ""


def test_history_query_orders_and_names_its_parameters() -> None:
    assert history_query(None, 100, None, None) == ""
    assert (
        history_query(5, 100, START, START + 1) == f"limit=5&startTime={START}&endTime={START + 1}"
    )
    assert history_query(None, 100, None, START) == f"endTime={START}"
    with pytest.raises(cf.ValidationError):
        history_query(101, 100, None, None)


def test_a_time_in_seconds_is_refused_naming_the_parameter_and_the_fix() -> None:
    with pytest.raises(cf.ValidationError) as caught:
        check_time_window(1_700_000_000, None)
    text = str(caught.value)
    assert "start_time" in text and "milliseconds" in text
    assert "start_time=1700000000000" in text  # the value it probably meant
    with pytest.raises(cf.ValidationError, match="end_time=1700000000000"):
        check_time_window(None, 1_700_000_000)
    # 1999 is not seconds of anything plausible: refused without the seconds hint.
    with pytest.raises(cf.ValidationError) as caught:
        check_time_window(946_684_799_999, None)
    assert "looks like seconds" not in str(caught.value)


def test_the_first_and_last_milliseconds_of_the_century_are_accepted() -> None:
    assert check_time_window(946_684_800_000, None) == (946_684_800_000, None)
    assert check_time_window(None, 4_102_444_799_999) == (None, 4_102_444_799_999)
