"""The WebSocket benchmarks' own parts: the canned server's frames and a tiny breakdown run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest

from benchmarks import ws as bench
from benchmarks.ws_breakdown import breakdown


@pytest.mark.parametrize("size", [0, 125, 126, 65_535, 65_536])
def test_text_frames_carry_their_length_as_rfc_6455_says(size: int) -> None:
    frame = bench.text_frame("x" * size)
    assert frame[0] == 0x81  # final fragment, text
    if size < 126:
        assert frame[1] == size and len(frame) == 2 + size
    elif size < 1 << 16:
        assert frame[1] == 126 and int.from_bytes(frame[2:4], "big") == size
    else:
        assert frame[1] == 127 and int.from_bytes(frame[2:10], "big") == size
    assert frame.endswith(b"x" * size)


@pytest.fixture
def server_url() -> Iterator[str]:
    with bench.canned_server(200) as url:
        yield url


async def test_the_canned_server_writes_every_message_of_a_round(server_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server_url.replace("http", "ws") + "/v2/websocket")
        await ws.send_str(
            json.dumps({"op": "subscribe", "tag": "1", "args": ["trade:" + bench.MARKET]})
        )
        assert json.loads((await ws.receive()).data)["success"] is True
        ids = [json.loads((await ws.receive()).data)["data"][0]["tradeId"] for _ in range(200)]
        await ws.close()
    first = 2778148208082945
    assert ids == [str(first + i) for i in range(200)]


async def test_a_tiny_breakdown_names_every_reader(server_url: str) -> None:
    ratios = await asyncio.wait_for(breakdown(server_url, "order update", 200, 1), 60)
    assert set(ratios) == {
        "lean, one task",
        "lean, two tasks",
        "stream routing in the floor's loop",
        "client",
    }
    assert all(ratio > 0 for ratio in ratios.values())


def test_instructions_per_message_is_the_slope_between_two_runs() -> None:
    from benchmarks.ws_instructions import collected, per_message

    stderr = "==1== Events    : Ir\n==1== Collected : 2573393486\n==1==\n==1== I   refs: 2,573"
    assert collected(stderr) == 2_573_393_486
    assert per_message((1000, 2_000_000), (6000, 12_000_000)) == 2000.0
    with pytest.raises(RuntimeError, match="no count"):
        collected("valgrind: command not found")
    with pytest.raises(ValueError):
        per_message((6000, 1), (1000, 2))
