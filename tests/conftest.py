from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.loopback import RecordingServer
from tests.redis_server import RedisServer, missing_reason

# The fixture users get (`coinflex_sim`), enabled the way the README tells them to.
pytest_plugins = ["coinflex_async.sim.pytest_plugin"]


@pytest.fixture
async def recorder(aiohttp_server) -> AsyncIterator[tuple[RecordingServer, str]]:  # type: ignore[no-untyped-def]
    """A RecordingServer on a free loopback port, and its base URL."""
    server = RecordingServer()
    test_server = await aiohttp_server(server.app)
    yield server, f"http://127.0.0.1:{test_server.port}"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port for the whole session (no persistence).

    Locally a missing redis-server skips the tests that need it; on CI (env CI set) it fails
    them: CI installs redis-server and must run them."""
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Redis tests: {reason}")
        pytest.skip(reason)
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The session's Redis, running and emptied for this test."""
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    redis_server.resume()
    assert redis_server.command("FLUSHALL") == "+OK"
    yield redis_server.url
    redis_server.resume()
