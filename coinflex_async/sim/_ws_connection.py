"""One WebSocket connection as the gateway keeps it: who logged in, what it subscribed to, and
a send path cheap enough for a scanner's load.

Text frames are written straight to the transport (server frames are unmasked and, with
compression off, a two-to-ten byte header), so one push round costs one ``write`` per
connection however many channels it carries. aiohttp still does the handshake, reads the
client's frames and writes the close frame. A client that does not read is cut off once
``max_send_buffer`` bytes wait for it, as an exchange sheds a slow consumer.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from typing import TYPE_CHECKING

from aiohttp import web

from ._accounts import Account
from ._faults import Fault, FaultPlan
from ._limits import SimStats

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Connection", "text_frame"]

MALFORMED_FRAME = b'{"table": "depth", "data": [{"asks": [[<malformed'


def text_frame(payload: bytes) -> bytes:
    """An unmasked, unfragmented WebSocket text frame (RFC 6455 5.2) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


class Connection:
    """A client's socket and what the gateway knows about it."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        *,
        faults: FaultPlan,
        stats: SimStats,
        max_send_buffer: int,
        on_fault_close: Callable[[Connection, int], None],
    ) -> None:
        self.ws = ws
        self.transport = transport
        self.account: Account | None = None
        self.channels: set[str] = set()
        # Arrival times (monotonic) of the client's recent requests, for its message limit.
        self.arrivals: deque[float] = deque()
        self.last_heard = 0.0
        self.closed = False
        self._faults = faults
        self._stats = stats
        self._max_send_buffer = max_send_buffer
        self._on_fault_close = on_fault_close
        self._held: list[bytes] | None = None  # frames held back by a ws_stall fault
        # While a command of this connection runs: its pushes, sent after the reply.
        self._deferred: list[tuple[list[bytes], tuple[str, ...] | list[str]]] | None = None

    @property
    def logged_in(self) -> bool:
        return self.account is not None

    def send(self, payload: bytes, name: str) -> None:
        """Send one message (JSON text) named ``name`` (its event or table)."""
        self.send_frames([text_frame(payload)], (name,))

    def send_frames(self, frames: list[bytes], names: tuple[str, ...] | list[str]) -> None:
        """Send ready frames in order; ``names`` (one per frame, or one for all) let armed
        WebSocket faults pick the message they fire on."""
        if self.closed:
            return
        if self._deferred is not None:
            self._deferred.append((frames, names))
            return
        if self._faults.websocket_armed:
            frames = self._apply_faults(frames, names)
            if not frames:
                return
        self._stats.websocket["sent"] += len(frames)
        if self._held is not None:
            self._held.extend(frames)
            return
        self._write(frames)

    def defer_pushes(self) -> None:
        """Hold what the engine pushes to this connection until ``flush_pushes``: a command's
        reply comes before the order-channel notices it caused."""
        self._deferred = []

    def flush_pushes(self, reply: bytes | None = None, name: str = "") -> None:
        """Send ``reply`` (if any), then the deferred pushes."""
        deferred, self._deferred = self._deferred, None
        if reply is not None:
            self.send(reply, name)
        for frames, names in deferred or ():
            self.send_frames(frames, names)

    def _write(self, frames: list[bytes]) -> None:
        transport = self.transport
        if transport.is_closing():
            self.closed = True
            return
        transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
        if transport.get_write_buffer_size() > self._max_send_buffer:
            self._stats.websocket["closed_slow"] += 1
            self.abort()

    def _apply_faults(self, frames: list[bytes], names: tuple[str, ...] | list[str]) -> list[bytes]:
        kept: list[bytes] = []
        for index, frame in enumerate(frames):
            name = names[index] if len(names) == len(frames) else names[0]
            fault = self._faults.draw_websocket("send", name)
            if fault is None:
                kept.append(frame)
                continue
            if self._spoil(fault, frame, kept):
                return []
        return kept

    def _spoil(self, fault: Fault, frame: bytes, kept: list[bytes]) -> bool:
        """Apply a send-time fault; True if the connection is gone (nothing more to send)."""
        if fault.kind == "ws_reset":
            if kept:
                self._write(kept)
            self.abort()
            return True
        if fault.kind == "ws_close":
            if kept:
                self._write(kept)
            self._on_fault_close(self, fault.close_code)
            return True
        if fault.kind == "ws_malformed":
            kept.append(text_frame(MALFORMED_FRAME))
            kept.append(frame)
            return False
        # ws_stall: what came before goes out now; from this message on, everything waits
        # `seconds` (the caller hands the rest to the held list).
        if self._held is None:
            if kept:
                self._write(kept)
                kept.clear()
            self._held = []
            asyncio.get_running_loop().call_later(fault.seconds, self._release_held)
        kept.append(frame)
        return False

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held and not self.closed:
            self._write(held)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame."""
        self.closed = True
        self.transport.abort()
