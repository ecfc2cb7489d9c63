"""Identifiers (orderId, clientOrderId, tradeId, matchId, accountId...) read from JSON strings
or numbers alike, always held as str: the docs' examples send both (clientOrderId 1 and "1"),
the live exchange's record numbers (tests/compat/live_record.py)."""

from __future__ import annotations

import copy
import json
import types
from typing import Any, Union, get_args, get_origin

import msgspec
import pytest

from coinflex_async import models
from coinflex_async.models import stream
from coinflex_async.models._base import Model, decoder_for
from tests.models.docs_examples import example_objects

ALL_MODELS = [getattr(models, name) for name in models.__all__] + [
    getattr(stream, name) for name in stream.__all__
]
MODELS = [m for m in ALL_MODELS if isinstance(m, type) and issubclass(m, Model)]
BIG = 1000000000000000001  # more digits than a float holds: exact only if never a float

ID_FIELDS = [
    pytest.param(model, name, id=f"{model.__name__}.{name}")
    for model in MODELS
    if example_objects(model)
    for name in model.__id_fields__
]


def members(annotation: Any) -> set[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return set(get_args(annotation))
    return {annotation}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_id_fields_are_the_fields_typed_str_or_int(model: type[Model]) -> None:
    typed = {f.name for f in msgspec.structs.fields(model) if {str, int} <= members(f.type)}
    assert set(model.__id_fields__) == typed


def test_the_ids_the_issue_names_are_id_fields() -> None:
    assert models.OrderResult.__id_fields__ == ("client_order_id", "order_id")
    assert models.AcceptedOrder.__id_fields__ == ("client_order_id", "order_id")  # inherited
    assert stream.OrderEvent.__id_fields__ == (
        "account_id",
        "client_order_id",
        "order_id",
        "match_id",
    )
    assert stream.TradeEvent.__id_fields__ == ("trade_id",)
    assert models.Trade.__id_fields__ == ("match_id", "order_id", "client_order_id")
    # Models without ids call no __post_init__ (a depth book decodes thousands of levels).
    assert not hasattr(models.Level, "__post_init__")


@pytest.mark.parametrize(("model", "name"), ID_FIELDS)
def test_an_id_sent_as_a_json_number_decodes_to_its_exact_text(model: type[Any], name: str) -> None:
    obj = copy.deepcopy(example_objects(model)[0])
    key = next(f.encode_name for f in msgspec.structs.fields(model) if f.name == name)
    obj[key] = BIG
    decoded = decoder_for(model).decode(json.dumps(obj).encode())
    assert getattr(decoded, name) == str(BIG)
    assert type(getattr(decoded, name)) is str
    obj[key] = "0012"  # a string stays exactly as sent
    assert getattr(decoder_for(model).decode(json.dumps(obj).encode()), name) == "0012"


@pytest.mark.parametrize("bad", ["1.5", "true", "[1]", "{}"])
def test_an_id_that_is_not_a_string_or_an_integer_is_refused(bad: str) -> None:
    body = f'{{"success": "true", "orderId": {bad}}}'.encode()
    with pytest.raises(msgspec.ValidationError, match="orderId"):
        decoder_for(models.OrderResult).decode(body)


def test_a_model_built_in_python_with_an_int_id_holds_its_text() -> None:
    result = models.OrderResult(success=True, order_id=BIG, client_order_id=7)  # type: ignore[arg-type]
    assert (result.order_id, result.client_order_id) == (str(BIG), "7")
