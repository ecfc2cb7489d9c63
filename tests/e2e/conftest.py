"""Fixtures for the end-to-end tests: a Simulator on loopback (its rate limits off unless a
test builds its own), and clients for funded accounts, all closed after each test.

The client under test always talks to the simulator over real sockets, signed with the real
signing middleware. Nothing is patched but a wrapper around the resource methods a test's
``covers`` mark names: it records that the test called them and checks API.md's types in what
they return.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import pytest

import coinflex_async as cf
from coinflex_async.resources import Public
from coinflex_async.sim import Fees, ManualClock, SimAccount, Simulator
from coinflex_async.sim.pytest_plugin import coinflex_sim  # noqa: F401 - the plugin's fixture

from ._coverage import GROUPS
from ._support import FUNDS, MAKER_FEE, TAKER_FEE, Party, check_types

_CALL_PASSED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "covers(*methods): the API.md methods ('group.method') an e2e test calls"
    )
    config.addinivalue_line(
        "markers", "sim_options(**options): Simulator(...) options for the test's `sim` fixture"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


@pytest.fixture(autouse=True)
def _check_covered_calls(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Wrap the methods a test's ``covers`` mark names: each result's types are checked, and a
    passing test must have called every one of them."""
    declared = {name for mark in request.node.iter_markers("covers") for name in mark.args}
    called: set[str] = set()
    for name in declared:
        group, method = name.split(".", 1)
        cls = GROUPS[group]
        monkeypatch.setattr(cls, method, _recording(getattr(cls, method), name, called))
    yield
    if request.node.stash.get(_CALL_PASSED, False):
        missing = declared - called
        assert not missing, f"the test is marked as covering {sorted(missing)} but never calls it"


def _recording(method: Any, name: str, called: set[str]) -> Any:
    if name.split(".", 1)[1].startswith("iter_"):  # an async-iterator twin: check each item

        @functools.wraps(method)
        def walk(*args: Any, **kwargs: Any) -> Any:
            called.add(name)
            items = method(*args, **kwargs)

            async def checked() -> Any:
                async for item in items:
                    check_types(item, name)
                    yield item

            return checked()

        return walk

    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        called.add(name)
        result = await method(*args, **kwargs)
        check_types(result, name)
        return result

    return wrapper


@pytest.fixture
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[Simulator]:
    """A Simulator without rate limits, with empty books and MAKER_FEE/TAKER_FEE; a test's
    ``@pytest.mark.sim_options(...)`` adds or replaces options (``manual_clock=True``: a
    fresh ManualClock at the current time)."""
    options: dict[str, Any] = {
        "rate_limits": None,
        "fees": Fees(maker=MAKER_FEE, taker=TAKER_FEE),
        "liquidity": False,
    }
    # Closest marks come first: apply them last, so a test's own mark wins over its module's.
    for mark in reversed(list(request.node.iter_markers("sim_options"))):
        options.update(mark.kwargs)
    if options.pop("manual_clock", False):
        options["clock"] = ManualClock()
    async with Simulator(**options) as running:
        yield running


@pytest.fixture
async def connect(sim: Simulator) -> AsyncIterator[Callable[..., cf.Client]]:
    """connect(account=None, **options) -> a client of ``sim`` (client-side limits off),
    closed after the test."""
    async with contextlib.AsyncExitStack() as stack:

        def open_client(account: SimAccount | None = None, **options: Any) -> cf.Client:
            options.setdefault("rate_limits", None)
            client = cf.Client(
                account.api_key if account is not None else None,
                account.api_secret if account is not None else None,
                base_url=sim.url,
                **options,
            )
            stack.push_async_callback(client.close)
            return client

        yield open_client


@pytest.fixture
def party(sim: Simulator, connect: Callable[..., cf.Client]) -> Callable[..., Party]:
    """party(balances=FUNDS) -> a new funded account and its client."""

    def make(balances: dict[str, str] | None = None) -> Party:
        account = sim.create_account(balances=FUNDS if balances is None else balances)
        return Party(account, connect(account))

    return make


@pytest.fixture
def alice(party: Callable[..., Party]) -> Party:
    return party()


@pytest.fixture
def bob(party: Callable[..., Party]) -> Party:
    return party()


@pytest.fixture
def public(connect: Callable[..., cf.Client]) -> Public:
    """Market data through a client without credentials."""
    return connect().public
