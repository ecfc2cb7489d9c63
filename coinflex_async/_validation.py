"""Checks and encoders for call parameters. Everything here raises ValidationError before any
request is built, so bad input never reaches the wire."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from urllib.parse import quote

from ._errors import ValidationError

__all__ = [
    "MAX_TIME_MS",
    "MAX_WINDOW_MS",
    "MIN_TIME_MS",
    "check_choice",
    "check_response_type",
    "choices",
    "check_decimal",
    "check_int",
    "check_numeric_id",
    "check_path_arg",
    "check_time",
    "check_time_window",
    "format_decimal",
    "history_query",
    "query_string",
]

# Market codes, asset names, instrument and order IDs: letters, digits, '-' and '_' only, so no
# value can add a path segment ("BTC/../../v2/balances") or a query ("BTC?x=1").
_PATH_ARG = re.compile(r"[A-Za-z0-9_-]{1,64}")

MAX_WINDOW_MS = 7 * 24 * 60 * 60 * 1000  # history endpoints accept at most 7 days per request
# Millisecond times must fall in this century: a time given in seconds (``time.time()``) is
# about 1.7e9, which as milliseconds is January 1970, and the exchange silently answers [] for it.
MIN_TIME_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_TIME_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z


def check_path_arg(name: str, value: object) -> str:
    """A value that goes into the URL path: validated, so it needs no escaping."""
    if not isinstance(value, str) or not _PATH_ARG.fullmatch(value):
        raise ValidationError(
            f"{name} must be 1-64 letters, digits, '-' or '_' (got {_show(value)})"
        )
    return value


def check_numeric_id(name: str, value: object) -> str:
    """An order, match or delivery ID: digits only, given as a str or a non-negative int."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 20:
        raise ValidationError(f"{name} must be a numeric id (got {_show(value)})")
    return value


def check_int(name: str, value: object, *, low: int, high: int | None = None) -> int:
    """An int from ``low`` to ``high`` (no upper bound when ``high`` is None)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{name} must be an int (got {_show(value)})")
    if high is None:
        if value < low:
            raise ValidationError(f"{name} must be at least {low} (got {value})")
    elif not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high} (got {value})")
    return value


def check_time(name: str, value: object) -> int:
    """A millisecond epoch time between 2000 and 2100; seconds are refused with a hint."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{name} must be an int of milliseconds (got {_show(value)})")
    if not MIN_TIME_MS <= value < MAX_TIME_MS:
        hint = ""
        if MIN_TIME_MS <= value * 1000 < MAX_TIME_MS:
            hint = f"; it looks like seconds: pass milliseconds, {name}={value * 1000}"
        raise ValidationError(
            f"{name} must be milliseconds since the epoch, between 2000 and 2100 "
            f"({MIN_TIME_MS} to {MAX_TIME_MS - 1}), got {value}{hint}"
        )
    return value


def check_time_window(
    start_time: object, end_time: object, *, max_ms: int = MAX_WINDOW_MS
) -> tuple[int | None, int | None]:
    """Millisecond ``start_time``/``end_time``: ints, in order, and at most 7 days apart."""
    start = None if start_time is None else check_time("start_time", start_time)
    end = None if end_time is None else check_time("end_time", end_time)
    if start is not None and end is not None:
        if end < start:
            raise ValidationError(f"end_time ({end}) is before start_time ({start})")
        if end - start > max_ms:
            raise ValidationError(
                f"start_time and end_time may be at most {max_ms // 86_400_000} days apart "
                f"(got {(end - start) / 86_400_000:.2f} days)"
            )
    return start, end


def choices(values: Iterable[str]) -> dict[str, str]:
    """A table for :func:`check_choice`: each allowed value to its wire string."""
    return {value: value for value in values}


def check_choice(name: str, value: object, table: Mapping[str, str]) -> str:
    """A string parameter with a fixed set of values, given as a plain string or an Enum member.

    The package's enums are str-enums: ``Side.BUY`` hashes and compares like ``"BUY"``, so one
    dict lookup checks both; other Enums are looked up by their value."""
    try:
        text: str | None = table.get(value)  # type: ignore[call-overload]
    except TypeError:  # an unhashable value
        text = None
    if text is None and isinstance(value, Enum):  # any other Enum: by its value
        text = table.get(value.value) if isinstance(value.value, str) else None
    if text is None:
        raise ValidationError(f"{name} must be one of {', '.join(table)} (got {_show(value)})")
    return text


_RESPONSE_TYPES = choices(("FULL", "ACK"))


def check_response_type(value: object) -> str:
    """An order call's ``response_type``: ``FULL`` or ``ACK``."""
    return check_choice("response_type", value, _RESPONSE_TYPES)


def check_decimal(
    name: str,
    value: object,
    *,
    positive: bool = True,
    allow_negative: bool = False,
) -> Decimal:
    """A price, quantity or amount: ``Decimal``, ``str`` or ``int``, finite.

    A ``float`` is taken only when it converts exactly (``0.5`` yes, ``0.1`` no: its binary value
    is 0.1000000000000000055..., and sending that as a price would be a silent change).
    """
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a decimal number (got {_show(value)})")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(f"{name} must be a decimal number (got {_show(value)})") from None
    elif isinstance(value, float):
        number = Decimal(value)
        if number.is_finite() and number != Decimal(repr(value)):
            # Name the float's exact binary value (what would be sent), and suggest the str the
            # caller most likely meant: 15 significant digits undo the binary rounding
            # (0.1 + 0.2 -> "0.3").
            raise ValidationError(
                f"{name}={value!r} is a float whose exact binary value is "
                f"{format_decimal(number)}; pass a str or Decimal instead, e.g. "
                f'{name}="{format_decimal(Decimal(f"{value:.15g}"))}"'
            )
    else:
        raise ValidationError(f"{name} must be a Decimal, str or int (got {_show(value)})")
    if not number.is_finite():
        raise ValidationError(f"{name} must be finite (got {number})")
    if allow_negative:
        return number
    if positive and number <= 0:
        raise ValidationError(f"{name} must be greater than 0 (got {format_decimal(number)})")
    if number < 0:
        raise ValidationError(f"{name} must not be negative (got {format_decimal(number)})")
    return number


def format_decimal(value: Decimal) -> str:
    """A plain decimal string, never an exponent: ``Decimal("1E-8")`` -> ``"0.00000001"``."""
    text = format(value, "f")
    return "0" if text in ("-0", "-0.0") else text


def query_string(pairs: Iterable[tuple[str, Any]]) -> str:
    """``k=v&k=v`` from pairs whose value is not None, values percent-encoded."""
    parts = []
    for key, value in pairs:
        if value is None:
            continue
        text = value if isinstance(value, str) else str(value)
        parts.append(f"{key}={quote(text, safe='')}")
    return "&".join(parts)


def ms_to_datetime_text(value: int) -> str:
    """``YYYY-MM-DD hh:mm:ss`` (UTC): the form the public funding endpoint's startTime takes."""
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def history_query(
    limit: int | None, max_limit: int, start_time: int | None, end_time: int | None
) -> str:
    """``limit``/``startTime``/``endTime`` of a history endpoint, checked and encoded."""
    if limit is not None:
        check_int("limit", limit, low=1, high=max_limit)
    start, end = check_time_window(start_time, end_time)
    return query_string((("limit", limit), ("startTime", start), ("endTime", end)))
