"""The loopback exchange each stream test talks to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.stream.support import KEY, SECRET
from tests.ws_loopback import WsExchange


@pytest.fixture
async def exchange(aiohttp_server: Any) -> AsyncIterator[WsExchange]:
    ex = WsExchange(KEY, SECRET)
    server = await aiohttp_server(ex.app)
    ex.url = f"http://127.0.0.1:{server.port}"  # type: ignore[attr-defined]
    yield ex
