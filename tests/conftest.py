from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.loopback import RecordingServer

# The fixture users get (`coinflex_sim`), enabled the way the README tells them to.
pytest_plugins = ["coinflex_async.sim.pytest_plugin"]


@pytest.fixture
async def recorder(aiohttp_server) -> AsyncIterator[tuple[RecordingServer, str]]:  # type: ignore[no-untyped-def]
    """A RecordingServer on a free loopback port, and its base URL."""
    server = RecordingServer()
    test_server = await aiohttp_server(server.app)
    yield server, f"http://127.0.0.1:{test_server.port}"
