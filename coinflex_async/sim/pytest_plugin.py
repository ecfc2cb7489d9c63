"""A pytest fixture for tests against the simulator: ``coinflex_sim``.

Installing ``coinflex_async[pytest]`` (which brings pytest-asyncio) is all it takes: the
package registers this module as a pytest plugin, so in any test file::

    async def test_balances(coinflex_sim):
        account = coinflex_sim.create_account(balances={"USD": "1000"})
        ...

No ``conftest.py`` and no ``asyncio_mode`` are needed: an ``async def`` test that uses
``coinflex_sim`` is run by pytest-asyncio as if it were marked ``@pytest.mark.asyncio``, also
in pytest-asyncio's default strict mode. Your own async fixtures still need
``@pytest_asyncio.fixture`` in strict mode (or ``asyncio_mode = "auto"``).

``pytest_plugins = ["coinflex_async.sim.pytest_plugin"]`` in a ``conftest.py`` still works (the
plugin is registered under that name, so it is loaded once). Without pytest-asyncio installed the
plugin loads, and a test that asks for ``coinflex_sim`` fails with a message that says what to
install.

The simulator enforces the exchange's published rate limits; for other options (no limits,
a ManualClock, fault seeds) write a fixture of your own around ``Simulator(...)``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Generator
from typing import Any

import pytest

from ._simulator import Simulator

try:
    import pytest_asyncio

    HAVE_PYTEST_ASYNCIO = True
except ImportError:  # the plugin is registered by installing the package, with or without it
    HAVE_PYTEST_ASYNCIO = False

__all__ = ["coinflex_sim"]

FIXTURE = "coinflex_sim"
MISSING_PYTEST_ASYNCIO = (
    "the coinflex_sim fixture needs pytest-asyncio: python -m pip install 'coinflex_async[pytest]'"
)


if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def coinflex_sim() -> AsyncIterator[Simulator]:
        """A started ``Simulator`` on a free loopback port, closed after the test."""
        async with Simulator() as simulator:
            yield simulator

else:

    @pytest.fixture
    def coinflex_sim() -> Simulator:
        """Stands in for the fixture when pytest-asyncio is missing: says what to install."""
        pytest.fail(MISSING_PYTEST_ASYNCIO, pytrace=False)


# trylast: the innermost wrapper, so the mark is on the item before pytest-asyncio's own
# makeitem wrapper decides whether it runs the coroutine (it looks only for the mark there).
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Mark ``async def`` tests that use ``coinflex_sim`` with ``pytest.mark.asyncio``."""
    result = yield
    if not HAVE_PYTEST_ASYNCIO or not inspect.iscoroutinefunction(obj):
        return result
    items = result if isinstance(result, list) else [result]
    for item in items:
        if (
            isinstance(item, pytest.Function)
            and FIXTURE in item.fixturenames
            and item.get_closest_marker("asyncio") is None
        ):
            item.add_marker(pytest.mark.asyncio)
    return result
