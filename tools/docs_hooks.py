"""MkDocs hook (mkdocs.yml `hooks:`): the endpoint tables of docs/reference/endpoints.md, built
from the code at every build, so the page lists exactly the methods the library has.

A line ``{{ endpoints: Public }}`` in a page becomes a table of that group's public methods: the
method (linked to its reference entry), its parameters, the HTTP endpoint (the start of its
docstring, which names the verb and path) and its return type.
"""

from __future__ import annotations

import enum
import inspect
import re
from typing import Any

import coinflex_async.resources as groups

MARKER = re.compile(r"^\{\{ endpoints: (\w+) \}\}$", re.MULTILINE)
HTTP_VERBS = ("GET ", "POST ", "DELETE ", "PUT ")


def on_page_markdown(markdown: str, **_: Any) -> str:
    return MARKER.sub(lambda match: endpoint_table(match.group(1)), markdown)


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
        returns = "" if returned is inspect.Signature.empty else f"`{returned}`"
        rows.append(f"| {call} | {endpoint(method)} | {escape(returns)} |")
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


def escape(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


# Docstrings use a few Sphinx roles (:class:`X`); Markdown renders them as ":class:<code>X</code>".
SPHINX_ROLE = re.compile(r":(?:class|func|meth|attr|mod):<code>~?")


# and reStructuredText's "::" before a literal block stays as text: a lone one is dropped, one
# that ends a sentence becomes the colon it reads as.
LONE_LITERAL_MARK = re.compile(r"<p>::</p>\n?")
TRAILING_LITERAL_MARK = re.compile(r"::</p>")


def on_page_content(html: str, **_: Any) -> str:
    html = SPHINX_ROLE.sub("<code>", html)
    html = LONE_LITERAL_MARK.sub("", html)
    return TRAILING_LITERAL_MARK.sub(":</p>", html)
