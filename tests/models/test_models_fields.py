"""Nulls, missing and unknown fields: what decodes, and what fails loudly instead of guessing."""

from __future__ import annotations

import copy
import json
import types
from decimal import Decimal
from typing import Any, Union, get_args, get_origin

import msgspec
import pytest

from coinflex_async import models
from coinflex_async.models import Level
from coinflex_async.models._base import decoder_for
from tests.models.docs_examples import example_objects

KEYED_MODELS = [getattr(models, name) for name in models.__all__ if name != "Level"]

FIELDS = [(model, field) for model in KEYED_MODELS for field in msgspec.structs.fields(model)]


def params(fields: list[tuple[type[Any], msgspec.structs.FieldInfo]]) -> list[Any]:
    return [
        pytest.param(model, field, id=f"{model.__name__}.{field.encode_name}")
        for model, field in fields
    ]


OPTIONAL_FIELDS = params([(model, field) for model, field in FIELDS if not field.required])
REQUIRED_FIELDS = params([(model, field) for model, field in FIELDS if field.required])
REQUIRED_DECIMAL_FIELDS = params(
    [(model, field) for model, field in FIELDS if field.required and field.type is Decimal]
)


def members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union annotation, or the annotation alone."""
    if get_origin(annotation) in (Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def docs_example_object(model: type[Any]) -> dict[str, Any]:
    """A fresh copy of the first docs example object of ``model``."""
    return copy.deepcopy(example_objects(model)[0])


def decode_object(model: Any, obj: Any) -> Any:
    return decoder_for(model).decode(json.dumps(obj).encode())


def test_required_decimal_fields_are_found() -> None:
    ids = {param.id for param in REQUIRED_DECIMAL_FIELDS}
    assert "Balance.total" in ids
    assert "Position.estLiquidationPrice" not in ids


@pytest.mark.parametrize(("model", "field"), OPTIONAL_FIELDS)
def test_optional_field_decodes_null(model: type[Any], field: msgspec.structs.FieldInfo) -> None:
    obj = docs_example_object(model)
    obj[field.encode_name] = None
    assert getattr(decode_object(model, obj), field.name) is None


@pytest.mark.parametrize(("model", "field"), OPTIONAL_FIELDS)
def test_optional_field_may_be_absent(model: type[Any], field: msgspec.structs.FieldInfo) -> None:
    obj = docs_example_object(model)
    obj.pop(field.encode_name, None)
    assert getattr(decode_object(model, obj), field.name) is None


@pytest.mark.parametrize(("model", "field"), REQUIRED_FIELDS)
def test_required_field_is_not_nullable(model: type[Any], field: msgspec.structs.FieldInfo) -> None:
    assert type(None) not in members(field.type)


@pytest.mark.parametrize(("model", "field"), OPTIONAL_FIELDS)
def test_optional_field_is_nullable_and_defaults_to_none(
    model: type[Any], field: msgspec.structs.FieldInfo
) -> None:
    assert type(None) in members(field.type)
    assert field.default is None


@pytest.mark.parametrize(("model", "field"), REQUIRED_DECIMAL_FIELDS)
def test_required_decimal_given_null_raises(
    model: type[Any], field: msgspec.structs.FieldInfo
) -> None:
    obj = docs_example_object(model)
    obj[field.encode_name] = None
    with pytest.raises(
        msgspec.ValidationError, match=rf"got `null` - at `\$\.{field.encode_name}`"
    ):
        decode_object(model, obj)


@pytest.mark.parametrize(("model", "field"), REQUIRED_FIELDS)
def test_required_field_missing_raises(model: type[Any], field: msgspec.structs.FieldInfo) -> None:
    obj = docs_example_object(model)
    del obj[field.encode_name]
    with pytest.raises(
        msgspec.ValidationError, match=f"missing required field `{field.encode_name}`"
    ):
        decode_object(model, obj)


@pytest.mark.parametrize("body", [b"[null, 0.1, 0, 0]", b"[54792, null, 0, 0]", b"[54792]"])
def test_level_without_price_or_quantity_raises(body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        decoder_for(Level).decode(body)


@pytest.mark.parametrize("model", KEYED_MODELS, ids=lambda model: model.__name__)
def test_unknown_fields_are_ignored(model: type[Any]) -> None:
    obj = docs_example_object(model)
    with_future_fields = {**obj, "someFutureField": {"nested": [1, "x"]}, "anotherOne": None}
    assert decode_object(model, with_future_fields) == decode_object(model, obj)


@pytest.mark.parametrize("model", [*KEYED_MODELS, Level], ids=lambda model: model.__name__)
def test_gc_is_off_only_for_models_without_containers(model: type[Any]) -> None:
    # gc=False is only safe for structs that can never be part of a reference cycle.
    holds_containers = any(
        get_origin(member) in (list, dict) or member in (list, dict)
        for field in msgspec.structs.fields(model)
        for member in members(field.type)
    )
    assert model.__struct_config__.gc is holds_containers
