"""The base of every response model, and the envelope the exchange wraps payloads in."""

from __future__ import annotations

from functools import cache
from typing import Any, Generic, TypeVar

import msgspec

__all__ = ["Envelope", "Model", "decoder_for", "envelope_decoder", "envelope_list_decoder"]

T = TypeVar("T")


class Model(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    """A response object. Attribute names are the snake_case of the docs' JSON keys.

    Unknown fields are ignored (forward compatible). Fields whose camel form differs from the
    docs' key (``currency_volume24h`` would become ``currencyVolume24H``) name their key with
    ``msgspec.field(name=...)``.
    """


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
