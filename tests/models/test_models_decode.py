"""Every docs example response decodes into its models, with the documented values and types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from coinflex_async.models import (
    Mint,
    OrderResult,
    OrderStatus,
    Ping,
)
from coinflex_async.models._base import Envelope, decoder_for
from tests.models import docs_examples as docs
from tests.models.expected import EXAMPLES, assert_decoded


def decode(shape: Any, body: bytes) -> Any:
    return decoder_for(shape).decode(body)


def data_of(shape: Any, body: bytes) -> Any:
    envelope = decode(Envelope[shape], body)
    return envelope.data


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


def test_ping_reads_false_as_false() -> None:
    assert_decoded(decode(Ping, b'{"success": "false"}'), Ping(success=False))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_docs_example_decodes_to_its_expected_value(name: str) -> None:
    example = EXAMPLES[name]
    shape = example.shape
    decoded = data_of(shape, example.body) if example.enveloped else decode(shape, example.body)
    assert_decoded(decoded, example.expected())


def test_every_docs_example_is_in_the_table() -> None:
    examples = {name for name, value in vars(docs).items() if isinstance(value, bytes)}
    assert examples == set(EXAMPLES)


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
