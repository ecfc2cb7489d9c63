"""Every model's wire names are the docs' keys, spelled as the docs spell them."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from coinflex_async import models
from coinflex_async.models import (
    AcceptedOrder,
    Level,
    OrderStatus,
    account,
    delivery,
    lending,
    market,
    orders,
)
from coinflex_async.models._base import Model
from tests.compat.live_record import LIVE_FIELDS
from tests.models.docs_examples import example_objects

# A verbatim copy of the exchange's v2 REST documentation (spec/coinflex-v2-rest-api.md), named
# .txt so that no formatter rewrites its code blocks.
SPEC_TEXT = Path(__file__).with_name("coinflex-v2-rest-api.txt").read_text(encoding="utf-8")

ALL_MODELS = [getattr(models, name) for name in models.__all__]
# Level is positional on the wire (``[price, quantity, 0, 0]``): it has no keys.
KEYED_MODELS = [model for model in ALL_MODELS if model is not Level]
# One struct for every order status: each docs example shows only its own status's fields.
# AcceptedOrder has OrderResult's fields, of which only a refusal sends code and message.
UNION_OF_STATUSES = {OrderStatus, AcceptedOrder}


def wire_names(model: type[Any]) -> set[str]:
    return {field.encode_name for field in msgspec.structs.fields(model)}


def live_names(model: type[Any]) -> frozenset[str]:
    """The keys the live exchange sent besides the docs' (tests/compat/live_record.py)."""
    return LIVE_FIELDS.get(model.__name__, frozenset())


def is_in_spec(wire_name: str) -> bool:
    return re.search(rf"\b{re.escape(wire_name)}\b", SPEC_TEXT) is not None


@pytest.mark.parametrize("model", KEYED_MODELS, ids=lambda model: model.__name__)
def test_wire_names_are_the_docs_example_keys(model: type[Any]) -> None:
    objects = example_objects(model)
    assert objects, f"no docs example decodes into {model.__name__}"
    example_keys = set().union(*objects)
    if model in UNION_OF_STATUSES:
        assert wire_names(model) >= example_keys
    else:
        assert wire_names(model) == example_keys | live_names(model)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_wire_name_is_spelled_as_in_the_spec(model: type[Any]) -> None:
    spelled_live = live_names(model)  # spelled as the live record spells them
    assert sorted(n for n in wire_names(model) - spelled_live if not is_in_spec(n)) == []


def test_spelling_check_catches_camel_case_renames() -> None:
    # rename="camel" alone capitalises the h after the digits: the bug class the check is for.
    class RenamedByCamelCase(Model, kw_only=True, frozen=True):
        currency_volume24h: Decimal

    (wire_name,) = wire_names(RenamedByCamelCase)
    assert wire_name == "currencyVolume24H"
    assert not is_in_spec(wire_name)
    assert is_in_spec("currencyVolume24h")


def test_level_is_price_then_quantity_by_position() -> None:
    assert Level.__struct_config__.array_like
    assert [field.name for field in msgspec.structs.fields(Level)] == ["price", "quantity"]


MODEL_MODULES = (market, account, orders, delivery, lending)


def models_defined_in(module: Any) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, Model)
        and value.__module__ == module.__name__
    }


@pytest.mark.parametrize("module", MODEL_MODULES, ids=lambda module: module.__name__)
def test_each_module_exports_its_models(module: Any) -> None:
    assert set(module.__all__) == models_defined_in(module)


def test_models_package_exports_every_model() -> None:
    every_model = set().union(*(models_defined_in(module) for module in MODEL_MODULES))
    assert sorted(models.__all__) == sorted(every_model)
