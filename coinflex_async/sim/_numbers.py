"""Decimal parsing and the wire's number formatting (plain notation, never an exponent)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["ZERO", "format_decimal", "format_fixed", "parse_decimal", "to_decimal"]

ZERO = Decimal(0)


def format_decimal(value: Decimal) -> str:
    """``Decimal("1.500")`` -> ``"1.5"``, ``Decimal("1E+2")`` -> ``"100"``, zero -> ``"0"``."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


def format_fixed(value: Decimal, increment: Decimal) -> str:
    """A price or quantity with as many decimals as the market's increment (``"54900.0"``);
    a value too long for that (beyond 28 digits) comes out plain instead."""
    if not value:
        value = ZERO
    try:
        return format(value.quantize(increment), "f")
    except InvalidOperation:
        return format_decimal(value)


def parse_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON string or number, or None for anything else.

    bool is refused explicitly: it is an int subclass, and ``true`` is not a quantity.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not result.is_finite():
        return None
    return result


def to_decimal(value: Decimal | str | int) -> Decimal:
    """A Decimal from the simulator's own configuration values (trusted input)."""
    return value if isinstance(value, Decimal) else Decimal(value)
