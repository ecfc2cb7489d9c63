"""The base of every response model, and the envelope the exchange wraps payloads in."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec
from msgspec.structs import force_setattr

__all__ = [
    "Envelope",
    "Id",
    "Model",
    "decoder_for",
    "envelope_decoder",
    "envelope_list_decoder",
]

T = TypeVar("T")


# An identifier: orderId, clientOrderId, tradeId, matchId, accountId. The docs' examples send
# them as JSON strings ("orderId": "304384250571714215") and, in places, as numbers
# ("clientOrderId": 1); the live exchange's record (hummingbot's fixtures) sends numbers. Type
# checkers see ``str``. At run time the field takes a JSON string or integer (msgspec reads an
# integer of any size exactly and refuses a fraction: an id is never a float), and the model's
# ``__post_init__`` (see Model) turns an integer into its decimal text: an id is always a str.
if TYPE_CHECKING:
    Id = str
else:
    Id = str | int


class Model(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    """A response object. Attribute names are the snake_case of the docs' JSON keys.

    Unknown fields are ignored (forward compatible). Fields whose camel form differs from the
    docs' key (``currency_volume24h`` would become ``currencyVolume24H``) name their key with
    ``msgspec.field(name=...)``. Fields annotated :data:`Id` read a JSON string or integer and
    hold a str.
    """

    # The class's Id fields, own and inherited, found once from its annotations.
    __id_fields__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = _annotated_ids(inspect.get_annotations(cls))
        if own:
            cls.__id_fields__ = (*cls.__id_fields__, *own)
            # Set here, msgspec still finds it (it looks once the class exists). Only models
            # with ids get one: the others (a depth book's thousands of levels) call nothing.
            cls.__post_init__ = _ids_as_text(cls.__id_fields__)  # type: ignore[attr-defined]


def _annotated_ids(annotations: dict[str, Any]) -> tuple[str, ...]:
    """The fields annotated ``Id`` or ``Id | None`` (as text: the models' modules use
    ``from __future__ import annotations``)."""
    return tuple(
        name
        for name, annotation in annotations.items()
        if isinstance(annotation, str) and annotation.split(" | ")[0] == "Id"
    )


def _ids_as_text(names: tuple[str, ...]) -> Callable[[Any], None]:
    """The ``__post_init__`` of a model whose Id fields are ``names``: each integer becomes its
    decimal text.

    Generated with one test per field, as dataclasses generates its methods: a loop over the
    names with ``getattr`` cost about 3x the instructions (callgrind, a list of 300
    PublicTrade-shaped items: +1,460 instructions an item for the loop, +534 for this, over
    6,537 for the item without an Id field).
    """
    assert all(name.isidentifier() for name in names)
    lines = ["def __post_init__(self):"]
    for name in names:
        lines.append(
            f"    if self.{name}.__class__ is int: force_setattr(self, {name!r}, str(self.{name}))"
        )
    namespace: dict[str, Any] = {"force_setattr": force_setattr}
    exec("\n".join(lines), namespace)  # the names are the class's own field names
    post_init: Callable[[Any], None] = namespace["__post_init__"]
    return post_init


class Envelope(msgspec.Struct, Generic[T], kw_only=True, frozen=True):
    """``{"event": ..., "timestamp": ..., "accountId": ..., "data": ...}``: only ``data`` is kept.

    Decoding ``data`` is required, so an error body answered with HTTP 200 (no ``data``) fails
    to decode and the transport then reads it as an error.
    """

    data: T


@cache
def decoder_for(type_: Any) -> msgspec.json.Decoder[Any]:
    """One lenient decoder per type, built once.

    ``strict=False`` is what the wire needs: millisecond timestamps arrive as ``"1593627415234"``
    (decoded to ``int``) and booleans as ``"true"``/``"false"`` (decoded to ``bool``).
    """
    return msgspec.json.Decoder(type_, strict=False)


def envelope_decoder(item: type[T]) -> msgspec.json.Decoder[Envelope[T]]:
    """A decoder of ``{"data": <item>, ...}``."""
    return msgspec.json.Decoder(Envelope[item], strict=False)  # type: ignore[valid-type]


def envelope_list_decoder(item: type[T]) -> msgspec.json.Decoder[Envelope[list[T]]]:
    """A decoder of ``{"data": [<item>, ...], ...}``."""
    return msgspec.json.Decoder(Envelope[list[item]], strict=False)  # type: ignore[valid-type]
