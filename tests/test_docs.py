"""The documentation describes the code it ships with.

- Every public name (``coinflex_async.__all__``, ``coinflex_async.sim.__all__``) has an entry in
  the reference (docs/reference/*.md), read the way the site's build reads it: the hook's
  markers expanded, then the ``:::`` entries. ``nox -s docs`` checks the same on the built site
  (tools/docs_hooks.py fails the build when a name is missing).
- Every exception class of the library (every subclass of ``CoinFlexError``, found by
  introspection) is exported, and sits in the errors guide's tree under its own base class.
- The configuration guide's option tables list exactly the parameters of ``cf.Client``,
  ``client.stream()`` and ``cf.RetryPolicy``, with their defaults.
- The runtime dependencies the quick start names are the package's.
- Every name the guides and the README use in code (``cf.X``, ``sim.x``, ``client.private.x``,
  ``ws.x``) exists.
"""

from __future__ import annotations

import importlib
import importlib.metadata
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
CONFIGURATION = REPO / "docs" / "guide" / "configuration.md"
QUICKSTART = REPO / "docs" / "guide" / "quickstart.md"

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


def option_table(heading: str) -> dict[str, str]:
    """The configuration guide's table under ``## heading``: option -> its default cell."""
    text = CONFIGURATION.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"the configuration guide has no section {heading!r}"
    rows: dict[str, str] = {}
    for line in match.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] in ("option", "field") or cells[0].startswith("-"):
            continue
        for name in re.findall(r"`(\w+)`", cells[0]):
            rows[name] = cells[1]
    return rows


def documented_default(cell: str) -> object:
    """A default cell's value: ``10.0``, ``"coinflex_async"``, ``cf.LIVE_URL``..."""
    code = re.fullmatch(r"`([^`]+)`", cell)
    assert code, f"default {cell!r} is not written as code"
    return eval(code.group(1), {"cf": cf})  # the docs' own spelling of a value


@pytest.mark.parametrize(
    ("heading", "signature"),
    [
        ("Client options", inspect.signature(cf.Client)),
        ("Stream options", inspect.signature(cf.Client.stream)),
        ("Retries: `cf.RetryPolicy`", inspect.signature(cf.RetryPolicy)),
    ],
    ids=["client", "stream", "retry"],
)
def test_the_option_tables_match_the_signatures(heading: str, signature: inspect.Signature) -> None:
    table = option_table(heading)
    parameters = {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if name != "self"
    }
    assert sorted(table) == sorted(parameters)
    for name, cell in table.items():
        if name == "rate_limits":  # "the exchange's published limits": cf.RateLimits()
            assert parameters[name] == cf.RateLimits()
            continue
        assert documented_default(cell) == parameters[name], name


def test_the_quick_start_names_the_runtime_dependencies() -> None:
    text = QUICKSTART.read_text(encoding="utf-8")
    sentence = re.search(r"Runtime dependencies: (.*?)\.(?:\s|$)", text, re.S)
    assert sentence
    named = {word.lower() for word in re.findall(r"[A-Za-z_][\w-]*", sentence.group(1))}
    required = {
        re.split(r"[<>=!;\[ ]", requirement, maxsplit=1)[0].lower().replace("-", "_")
        for requirement in importlib.metadata.requires("coinflex_async") or []
        if "extra ==" not in requirement
    }
    assert required <= {name.replace("-", "_") for name in named}
    assert "aiolimiter" not in named  # replaced by the sliding log; not a dependency


GUIDES = [
    *sorted((REPO / "docs").glob("guide/*.md")),
    REPO / "docs" / "index.md",
    REPO / "README.md",
    REPO / "RELIABILITY.md",
]
# Code in the pages: fenced blocks and inline spans (prose mentions file names such as
# client.md, which are not attributes).
CODE = re.compile(r"```.*?```|`[^`\n]+`", re.S)
# What a name used in the docs' code belongs to: cf.X, sim.x (also the fixture, coinflex_sim),
# client.private.x (or private.x), ws.x (a stream), client.x.
USES = {
    "cf": re.compile(r"(?<![\w.])cf\.(\w+)"),
    "sim": re.compile(r"(?<![\w.])(?:sim|coinflex_sim)\.(\w+)"),
    "group": re.compile(r"(?<![\w.])(?:client\.)?(public|private|flex_protocol)\.(\w+)"),
    "ws": re.compile(r"(?<![\w.])ws\.(\w+)"),
    "client": re.compile(r"(?<![\w.])client\.(\w+)"),
}


def has(owner: object, name: str) -> bool:
    """Whether ``owner`` has ``name``, without running a property (the simulator's ``url``
    raises until it is started)."""
    try:
        inspect.getattr_static(owner, name)
    except AttributeError:
        return False
    return True


def unknown_names(markdown: str) -> list[str]:
    from coinflex_async.resources import FlexProtocol, Private, Public
    from coinflex_async.sim import Simulator

    simulator = Simulator()  # not started: its attributes, set in __init__ too
    groups = {"public": Public, "private": Private, "flex_protocol": FlexProtocol}
    code = " ".join(CODE.findall(markdown))
    unknown = [f"cf.{name}" for name in USES["cf"].findall(code) if not has(cf, name)]
    unknown += [f"sim.{name}" for name in USES["sim"].findall(code) if not has(simulator, name)]
    unknown += [
        f"{group}.{name}"
        for group, name in USES["group"].findall(code)
        if not has(groups[group], name)
    ]
    unknown += [f"ws.{name}" for name in USES["ws"].findall(code) if not has(cf.Stream, name)]
    unknown += [
        f"client.{name}"
        for name in USES["client"].findall(code)
        if name not in groups and not has(cf.Client, name)
    ]
    return unknown


@pytest.mark.parametrize("page", GUIDES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_name_the_docs_use_exists(page: Path) -> None:
    assert unknown_names(page.read_text(encoding="utf-8")) == []


def test_a_name_that_does_not_exist_is_found() -> None:
    text = "`cf.Clinet`, `sim.add_liquidty()`, `client.private.place_ordr(...)`, `ws.subscrib`"
    text += "; prose naming client.md is no code"
    assert unknown_names(text) == [
        "cf.Clinet",
        "sim.add_liquidty",
        "private.place_ordr",
        "ws.subscrib",
    ]
