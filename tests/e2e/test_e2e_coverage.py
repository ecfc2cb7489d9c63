"""Every public method of client.public, client.private and client.flex_protocol has an
end-to-end test: one marked ``@covers("group.method")`` (the conftest checks the marked test
really calls it)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import tests.e2e
from tests.api_table import API_METHODS

from ._coverage import GROUPS, resource_methods

# The API's methods without a verb and path of their own: the WebSocket section's (+ open and
# close) and the recovery snapshot.
OTHER_API_MD_METHODS = {
    *(
        f"stream.{name}"
        for name in [
            *("subscribe", "place_order", "place_orders", "cancel_order", "cancel_orders"),
            *("modify_order", "modify_orders", "open", "close"),
        ]
    ),
    "private.snapshot",
}


def _test_modules() -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(tests.e2e.__path__):
        if info.name.startswith("test_"):
            yield importlib.import_module(f"tests.e2e.{info.name}")


def _covered() -> dict[str, list[str]]:
    """``group.method`` -> the tests marked as covering it."""
    covered: dict[str, list[str]] = {}
    for module in _test_modules():
        for name, test in vars(module).items():
            if not name.startswith("test_"):
                continue
            marks: list[Any] = [*getattr(test, "pytestmark", [])]
            for mark in marks:
                if mark.name == "covers":
                    for method in mark.args:
                        covered.setdefault(method, []).append(f"{module.__name__}::{name}")
    return covered


def test_every_resource_method_has_an_end_to_end_test() -> None:
    methods = resource_methods()
    covered = _covered()
    missing = sorted(methods - set(covered))
    assert not missing, f"methods without an e2e test: {missing}"
    unknown = sorted(set(covered) - methods)
    assert not unknown, f"@covers names no method: {unknown}"


def test_the_resource_classes_have_every_api_md_method() -> None:
    # Guards the check above against an introspection that finds nothing.
    documented = set(API_METHODS) | OTHER_API_MD_METHODS
    assert len(documented) == 9 + 31 + 5 + 9
    assert {name.partition(".")[0] for name in documented} == set(GROUPS)
    assert documented <= resource_methods()
