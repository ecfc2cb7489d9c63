"""The dict forms of orders (TypedDicts, for type checkers) match the structs they stand for."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import coinflex_async as cf


@pytest.mark.parametrize(
    ("struct", "typed_dict"),
    [
        (cf.NewOrder, cf.NewOrderDict),
        (cf.ModifyOrder, cf.ModifyOrderDict),
        (cf.CancelOrder, cf.CancelOrderDict),
    ],
    ids=["new", "modify", "cancel"],
)
def test_a_dict_form_has_the_struct_fields_and_requires_the_same(
    struct: type[msgspec.Struct], typed_dict: Any
) -> None:
    fields = msgspec.structs.fields(struct)
    assert set(typed_dict.__annotations__) == {f.name for f in fields}
    assert typed_dict.__required_keys__ == {f.name for f in fields if f.required}
