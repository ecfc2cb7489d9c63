"""Which public API method each end-to-end test exercises.

A test declares the methods it calls with ``@covers("private.place_order", ...)``. The
conftest checks at run time that a passing test really called every method it declares, and
test_e2e_coverage checks that every public method of the three resource classes is declared by
some test.
"""

from __future__ import annotations

import inspect

import pytest

from coinflex_async import Stream
from coinflex_async.resources import FlexProtocol, Private, Public

__all__ = ["GROUPS", "covers", "resource_methods"]

# The client attribute of each endpoint group, and its class.
GROUPS: dict[str, type] = {
    "public": Public,
    "private": Private,
    "flex_protocol": FlexProtocol,
    "stream": Stream,  # client.stream(): the WebSocket
}


def covers(*methods: str) -> pytest.MarkDecorator:
    """Mark a test as the end-to-end test of ``group.method`` names."""
    return pytest.mark.covers(*methods)


def resource_methods() -> set[str]:
    """``group.method`` for every public method of the resource classes."""
    return {
        f"{group}.{name}"
        for group, cls in GROUPS.items()
        for name, _ in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }
