"""Numbers on the wire: plain decimal strings, never an exponent, never a float."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from coinflex_async.sim import Simulator
from coinflex_async.sim._numbers import format_decimal, format_fixed, parse_decimal

from ._helpers import Trader, order_item


def test_format_decimal_is_plain() -> None:
    assert format_decimal(Decimal("1E+2")) == "100"
    assert format_decimal(Decimal("0.00000005")) == "0.00000005"
    assert format_decimal(Decimal("1.500")) == "1.5"
    assert format_decimal(Decimal("-0")) == "0"
    assert format_decimal(Decimal("-0.25")) == "-0.25"


def test_format_fixed_uses_the_increment_decimals() -> None:
    assert format_fixed(Decimal("54900"), Decimal("0.5")) == "54900.0"
    assert format_fixed(Decimal("2E-3"), Decimal("0.001")) == "0.002"
    assert format_fixed(Decimal("-0.00"), Decimal("0.01")) == "0.00"
    # Too many digits for the increment's decimals: plain rather than an error.
    assert format_fixed(Decimal("1E+30"), Decimal("0.001")) == "1" + "0" * 30


def test_parse_decimal_refuses_non_numbers() -> None:
    assert parse_decimal("0.1") == Decimal("0.1")
    assert parse_decimal(3) == Decimal(3)
    for value in (True, None, "NaN", "Infinity", "abc", 1.5, [1]):
        assert parse_decimal(value) is None


async def test_tiny_amounts_have_no_exponent_on_the_wire(
    sim: Simulator, trader: Callable[..., Trader]
) -> None:
    sim.set_mark_price("FLEX-USD", "0.001")
    seller, buyer = trader({"FLEX": "10"}), trader({"USD": "10"})
    await seller.place(order_item(market="FLEX-USD", side="SELL", quantity="0.1", price="0.001"))
    (took,) = await buyer.place(
        order_item(market="FLEX-USD", side="BUY", quantity="1E-1", price="1e-3")
    )
    assert (took["quantity"], took["price"]) == ("0.1", "0.001")
    reply = await buyer.get("/v2/trades/FLEX-USD")
    (fill,) = reply.data
    # Notional 0.0001 USD; the taker fee of 0.05% is 5E-8.
    assert fill["fees"] == "0.00000005"
    texts = [reply.text]
    for path in ("/v2/balances", "/v2.1/orders", "/v2/accountinfo", "/v2/ticker"):
        texts.append((await buyer.get(path)).text)
    for text in texts:
        assert not re.search(r"\d[eE][+-]?\d", text), text
