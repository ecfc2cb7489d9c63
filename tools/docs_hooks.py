"""MkDocs hook (mkdocs.yml `hooks:`): tables built from the code at every build, so the pages
list exactly what the library has.

- A line ``{{ endpoints: Public }}`` becomes a table of that endpoint group's public methods: the
  method (linked to its reference entry), its parameters, the HTTP endpoint (the start of its
  docstring, which names the verb and path) and its return type.
- A line ``{{ structs: coinflex_async.models }}`` becomes, for each name in that module's
  ``__all__``, its reference entry (docstring) and a table of its fields: attribute, JSON key,
  type, default. ``{{ struct: coinflex_async.NewOrder }}`` does the same for one Struct.
- After the build, every public name (``__all__`` of ``coinflex_async`` and
  ``coinflex_async.sim``) must have been rendered as a reference entry somewhere in the site:
  a name missing from docs/reference/ fails the build (:func:`unrendered`).
"""

from __future__ import annotations

import enum
import html
import importlib
import inspect
import re
from collections.abc import Iterable
from typing import Any

import msgspec

import coinflex_async.resources as groups

MARKER = re.compile(r"^\{\{ endpoints: (\w+) \}\}$", re.MULTILINE)
STRUCTS = re.compile(r"^\{\{ structs?: ([\w.]+) \}\}$", re.MULTILINE)
HTTP_VERBS = ("GET ", "POST ", "DELETE ", "PUT ")


def on_page_markdown(markdown: str, **_: Any) -> str:
    markdown = MARKER.sub(lambda match: endpoint_table(match.group(1)), markdown)
    return STRUCTS.sub(lambda match: structs(match.group(1)), markdown)


def structs(path: str) -> str:
    """The reference entries (without one heading per field) and field tables of ``path``: a
    module (each Struct in its ``__all__``) or one Struct."""
    module_name, _, name = path.rpartition(".")
    found = importlib.import_module(module_name)
    target = getattr(found, name, None) if module_name else None
    if isinstance(target, type):
        names = [(module_name, name)]
    else:
        module = importlib.import_module(path)
        names = [
            (path, member)
            for member in module.__all__
            if isinstance(getattr(module, member), type)
            and issubclass(getattr(module, member), msgspec.Struct)
        ]
    return "\n\n".join(struct_entry(module, member) for module, member in names)


def struct_entry(module: str, name: str) -> str:
    struct = getattr(importlib.import_module(module), name)
    rows = ["| attribute | JSON key | type | default |", "|---|---|---|---|"]
    for field in msgspec.structs.fields(struct):
        default = "required" if field.required else code(repr(field.default))
        if field.default_factory is not msgspec.NODEFAULT:
            default = code(f"{field.default_factory.__name__}()")
        kind = code(type_name(field.type))
        rows.append(f"| `{field.name}` | `{field.encode_name}` | {kind} | {default} |")
    directive = (
        f"::: {module}.{name}\n    options:\n      members: false\n      show_bases: false\n"
    )
    return directive + "\n" + "\n".join(rows)


def type_name(annotation: Any) -> str:
    """``Decimal | None`` rather than ``decimal.Decimal | None``."""
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    return re.sub(r"\b(?:[a-z_]+\.)+(?=[A-Z])", "", text)


def endpoint_table(group_name: str) -> str:
    group = getattr(groups, group_name)
    rows = ["| method | endpoint | returns |", "|---|---|---|"]
    for name, method in vars(group).items():
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        signature = inspect.signature(method)
        reference = f"coinflex_async.resources.{group_name}.{name}"
        call = f"[`{name}({parameters(signature)})`][{reference}]"
        returned = signature.return_annotation
        returns = "" if returned is inspect.Signature.empty else code(str(returned))
        rows.append(f"| {call} | {endpoint(method)} | {returns} |")
    return "\n".join(rows)


def parameters(signature: inspect.Signature) -> str:
    """``market_code, *, limit, start_time`` or ``**order``: the names a caller passes."""
    shown: list[str] = []
    starred = False
    for parameter in list(signature.parameters.values())[1:]:  # without self
        if parameter.kind is parameter.VAR_KEYWORD:
            shown.append(f"**{parameter.name}")
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not starred:
            shown.append("*")
            starred = True
        default = parameter.default
        if default is inspect.Parameter.empty or default is None:
            shown.append(parameter.name)
        elif isinstance(default, enum.Enum):
            shown.append(f"{parameter.name}={type(default).__name__}.{default.name}")
        else:
            shown.append(f"{parameter.name}={default!r}")
    return ", ".join(shown)


def endpoint(method: Any) -> str:
    """The docstring's first line up to its colon when it names an HTTP endpoint."""
    summary = (inspect.getdoc(method) or "").split("\n", 1)[0]
    head, colon, _ = summary.partition(": ")
    if colon and head.startswith(HTTP_VERBS):
        return escape(head)
    return escape(summary)


def code(text: str) -> str:
    """``text`` as inline code in a table cell (a backquoted ``|`` would end the cell)."""
    return f"<code>{html.escape(text).replace('|', '&#124;')}</code>"


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


# Docstrings use a few Sphinx roles (:class:`X`); Markdown renders them as ":class:<code>X</code>".
SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|mod):<code>~?")


# and reStructuredText's "::" before a literal block stays as text: a lone one is dropped, one
# that ends a sentence becomes the colon it reads as.
LONE_LITERAL_MARK = re.compile(r"<p>::</p>\n?")
TRAILING_LITERAL_MARK = re.compile(r"::</p>")


# The modules whose ``__all__`` is the public API, and the anchors mkdocstrings gives a rendered
# entry (``<h2 id="coinflex_async.Client" ...>``).
PUBLIC_MODULES = ("coinflex_async", "coinflex_async.sim")
ENTRY_ANCHOR = re.compile(r'id="(coinflex_async(?:\.\w+)*)"')
RENDERED: set[str] = set()  # the anchors of this build's pages


def resolve(path: str) -> Any:
    """The object a dotted path names (``coinflex_async.models.Balance``), or None."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            found = getattr(found, part, None)
            if found is None:
                return None
        return found
    return None


def unrendered(paths: Iterable[str]) -> list[str]:
    """The public names (``module.name``) none of whose ``paths`` (rendered entries) is their
    object: an entry counts under any path, so ``coinflex_async.models.Balance`` renders
    ``coinflex_async.Balance``."""
    rendered = {id(found) for found in map(resolve, paths) if found is not None}
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        missing += [
            f"{module_name}.{name}"
            for name in module.__all__
            if id(getattr(module, name)) not in rendered
        ]
    return missing


def on_pre_build(**_: Any) -> None:
    RENDERED.clear()


def on_post_build(**_: Any) -> None:
    missing = unrendered(RENDERED)
    if missing:
        from mkdocs.exceptions import PluginError

        raise PluginError(
            f"public names without a reference entry (add them to docs/reference/): {missing}"
        )


def on_page_content(html: str, **_: Any) -> str:
    RENDERED.update(ENTRY_ANCHOR.findall(html))
    html = SPHINX_ROLE.sub("<code>", html)
    html = LONE_LITERAL_MARK.sub("", html)
    return TRAILING_LITERAL_MARK.sub(":</p>", html)
