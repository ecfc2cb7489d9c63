"""The documentation describes the code it ships with.

- Every public name (``coinflex_async.__all__``, ``coinflex_async.sim.__all__``) has an entry in
  the reference (docs/reference/*.md), read the way the site's build reads it: the hook's
  markers expanded, then the ``:::`` entries. ``nox -s docs`` checks the same on the built site
  (tools/docs_hooks.py fails the build when a name is missing).
- Every exception class of the library (every subclass of ``CoinFlexError``, found by
  introspection) is exported, and sits in the errors guide's tree under its own base class.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import coinflex_async as cf
from tools import docs_hooks

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "docs" / "reference"
ERRORS_GUIDE = REPO / "docs" / "guide" / "errors.md"

ENTRY = re.compile(r"^::: ([\w.]+)[ \t]*\n((?:[ \t]+\S.*\n?)*)", re.MULTILINE)


def reference_entries(markdown: str) -> list[str]:
    """The dotted paths ``markdown`` renders, as the build renders them: the hook's markers
    (``{{ structs: ... }}``) become ``:::`` entries, and a module's entry without a ``members``
    option renders the names of its ``__all__`` too."""
    paths = []
    for match in ENTRY.finditer(docs_hooks.on_page_markdown(markdown)):
        path, options = match.groups()
        paths.append(path)
        found = docs_hooks.resolve(path)
        if isinstance(found, ModuleType) and "members:" not in options:
            paths += [f"{path}.{name}" for name in getattr(found, "__all__", ())]
    return paths


def rendered_by_reference() -> list[str]:
    return [
        path
        for page in sorted(REFERENCE.glob("*.md"))
        for path in reference_entries(page.read_text(encoding="utf-8"))
    ]


def test_every_public_name_has_a_reference_entry() -> None:
    assert docs_hooks.unrendered(rendered_by_reference()) == []


def test_every_reference_entry_names_something() -> None:
    unknown = [path for path in rendered_by_reference() if docs_hooks.resolve(path) is None]
    assert unknown == []


@pytest.mark.parametrize(
    ("removed", "reported"),
    [
        ("::: coinflex_async.Subscription\n", "coinflex_async.Subscription"),
        ("::: coinflex_async.StreamClosedError\n", "coinflex_async.StreamClosedError"),
        ("::: coinflex_async.SideValue\n", "coinflex_async.SideValue"),
    ],
)
def test_a_name_without_an_entry_is_reported(removed: str, reported: str) -> None:
    paths = []
    for page in sorted(REFERENCE.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        paths += reference_entries(text.replace(removed, ""))
    assert docs_hooks.unrendered(paths) == [reported]


def test_stream_events_are_rendered_from_the_models() -> None:
    # {{ structs: coinflex_async.models.stream }} renders each event under its module's path.
    paths = reference_entries("{{ structs: coinflex_async.models.stream }}\n")
    assert "coinflex_async.models.stream.DepthEvent" in paths
    assert "coinflex_async.models.stream.AccountSnapshot" in paths
    assert docs_hooks.resolve(paths[0]) is not None


def exception_classes() -> set[type[cf.CoinFlexError]]:
    """Every subclass of CoinFlexError defined in coinflex_async (all its modules imported)."""
    for module in pkgutil.walk_packages(cf.__path__, "coinflex_async."):
        if module.name.endswith("__main__") or ".sim." in module.name + ".":
            continue  # the simulator imports nothing from the client
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional extra that is not installed (redis, prometheus)
            continue
    found: set[type[cf.CoinFlexError]] = set()
    pending = [cf.CoinFlexError]
    while pending:
        cls = pending.pop()
        if cls.__module__.startswith("coinflex_async") and not cls.__name__.startswith("_"):
            found.add(cls)
        pending += cls.__subclasses__()
    return found


def library_base(cls: type) -> str | None:
    """The nearest base class of ``cls`` that is a CoinFlexError, by name."""
    for base in inspect.getmro(cls)[1:]:
        if issubclass(base, cf.CoinFlexError):
            return base.__name__
    return None


def guide_tree() -> dict[str, str | None]:
    """The errors guide's tree: each class name -> the name of the class above it."""
    text = ERRORS_GUIDE.read_text(encoding="utf-8")
    block = re.search(r"```\n(CoinFlexError\n.*?)```", text, re.DOTALL)
    assert block, "the errors guide has no tree starting at CoinFlexError"
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []  # (column, name) of the open branches
    for line in block.group(1).splitlines():
        match = re.match(r"^([│├└─\s]*?)(?:[├└]── )?([A-Z]\w+)", line)
        if not match or not match.group(2).endswith("Error"):
            continue
        column = match.start(2)
        while stack and stack[-1][0] >= column:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((column, match.group(2)))
    return parents


def test_the_exceptions_are_found() -> None:
    names = {cls.__name__ for cls in exception_classes()}
    assert {"StreamOverflowError", "LimitStoreError", "IncompleteHistoryError"} <= names


def test_every_exception_class_is_exported() -> None:
    missing = [cls.__name__ for cls in exception_classes() if cls.__name__ not in cf.__all__]
    assert missing == []


def test_every_exception_class_is_in_the_errors_guide_under_its_base() -> None:
    tree = guide_tree()
    expected = {cls.__name__: library_base(cls) for cls in exception_classes()}
    assert tree == expected


def test_the_tree_reader_sees_nesting() -> None:
    # The reader the test above relies on: a class indented under another is its child.
    assert guide_tree()["OrderStatusUnknownError"] == "TransportError"
    assert guide_tree()["CoinFlexError"] is None
    assert guide_tree()["APIError"] == "CoinFlexError"
