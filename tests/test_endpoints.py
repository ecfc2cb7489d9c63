"""The endpoint declarations against the API table (tests/api_table.py), and the signature
oracle: every declared method takes exactly its declared parameters, and every history endpoint
has an ``iter_`` twin with the same filters."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from coinflex_async._endpoints import ENDPOINTS, Endpoint
from coinflex_async.resources import FlexProtocol, Private, Public
from tests.api_table import API_METHODS

GROUPS: dict[str, type] = {"public": Public, "private": Private, "flex_protocol": FlexProtocol}
P = inspect.Parameter
HISTORY = [e for e in ENDPOINTS if e.history is not None]
QUERIES = [e for e in ENDPOINTS if e.route.method == "GET"]
ACTIONS = [e for e in ENDPOINTS if e.route.method != "GET"]


def method_of(name: str) -> Any:
    group, _, method = name.partition(".")
    return getattr(GROUPS[group], method)


def test_the_table_has_api_mds_methods_and_the_classes_have_no_others() -> None:
    per_group = {g: sum(1 for n in API_METHODS if n.startswith(f"{g}.")) for g in GROUPS}
    assert per_group == {"public": 9, "private": 30, "flex_protocol": 5}
    twins = {f"{e.group}.iter_{e.method}" for e in HISTORY}
    found = {
        f"{group}.{name}"
        for group, cls in GROUPS.items()
        for name, _ in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }
    # private.snapshot() is the API's recovery call: three endpoints at once, none of its own.
    assert found == set(API_METHODS) | twins | {"private.snapshot"}


@pytest.mark.parametrize("name", sorted(API_METHODS))
def test_docstring_starts_with_the_verb_and_path(name: str) -> None:
    doc = inspect.getdoc(method_of(name)) or ""
    assert doc.startswith(API_METHODS[name]), doc.splitlines()[:1]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_each_declaration_says_what_api_md_says(endpoint: Endpoint[Any]) -> None:
    verb, path = API_METHODS[endpoint.name].split(" ")
    assert endpoint.route.method == verb
    template = re.sub(r"\{\w+\}", "{}", path)
    if endpoint.name == "private.cancel_all_orders":  # /v2/cancel/orders[/{marketCode}]
        assert endpoint.route.path in (template, template + "/{}")
    else:
        assert endpoint.route.path == template
    assert endpoint.route.signed is (endpoint.group == "private")
    assert endpoint.route.path.count("{}") == sum(p.wire is None for p in endpoint.params)


@pytest.mark.parametrize("endpoint", QUERIES, ids=[e.name for e in QUERIES])
def test_each_method_takes_its_declared_parameters(endpoint: Endpoint[Any]) -> None:
    signature = inspect.signature(method_of(endpoint.name))
    params = [p for p in signature.parameters.values() if p.name != "self"]
    assert tuple(p.name for p in params) == endpoint.param_names()
    for param in params:
        declared = next((d for d in endpoint.params if d.name == param.name), None)
        if declared is not None and declared.wire is None:  # a path segment
            assert param.kind is P.POSITIONAL_OR_KEYWORD, param
            assert param.default is P.empty or endpoint.name == "public.depth", param
        elif declared is not None and declared.required:
            assert param.default is P.empty or param.name == "timeframe", param
        else:  # an optional filter: keyword-only (delivery_funding's are all optional)
            assert param.kind is P.KEYWORD_ONLY, param
            assert param.default is None, param


def test_each_action_takes_its_declared_parameters_in_order() -> None:
    declared: dict[str, list[str]] = {}
    for endpoint in ACTIONS:  # cancel_all_orders: two routes, one method
        names = declared.setdefault(endpoint.name, [])
        names += [p.name for p in endpoint.params if p.name not in names]
    assert len(declared) == 8
    for name, names in declared.items():
        signature = inspect.signature(method_of(name))
        assert [p for p in signature.parameters if p != "self"] == names, name


def test_every_endpoint_but_the_order_requests_is_declared() -> None:
    orders = {
        f"private.{verb}_{what}"
        for verb in ("place", "modify", "cancel")
        for what in ("order", "orders")
    }
    assert {e.name for e in ENDPOINTS} == set(API_METHODS) - orders


@pytest.mark.parametrize("endpoint", HISTORY, ids=[e.name for e in HISTORY])
def test_each_history_method_has_its_iter_twin(endpoint: Endpoint[Any]) -> None:
    method = method_of(endpoint.name)
    twin = method_of(f"{endpoint.group}.iter_{endpoint.method}")
    plain = [p for p in inspect.signature(method).parameters.values() if p.name != "limit"]
    walked = list(inspect.signature(twin).parameters.values())
    filters = [p for p in plain if p.name not in ("start_time", "end_time")]
    assert walked[: len(filters)] == filters  # the same filters, the same way
    rest = {p.name: (p.kind, p.default) for p in walked[len(filters) :]}
    assert rest == {
        "start_time": (P.KEYWORD_ONLY, P.empty),
        "end_time": (P.KEYWORD_ONLY, None),
        "page_size": (P.KEYWORD_ONLY, None),
        "prefetch": (P.KEYWORD_ONLY, False),
        "progress": (P.KEYWORD_ONLY, None),
    }
    assert not inspect.iscoroutinefunction(twin)  # it returns the iterator at once
    returned = inspect.signature(method).return_annotation
    assert inspect.signature(twin).return_annotation == returned.replace("list[", "AsyncIterator[")
    doc = inspect.getdoc(twin) or ""
    assert endpoint.history is not None
    assert "oldest first" in doc and f"(default {endpoint.history.max_limit})" in doc
