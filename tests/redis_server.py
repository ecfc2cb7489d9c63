"""A real redis-server for the tests: a free loopback port, no persistence, stopped after.

CI installs redis-server (.ci/run) and must never skip these tests: with the environment
variable CI set, a missing redis-server fails the tests that need it instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

__all__ = ["RedisServer", "missing_reason"]


def missing_reason() -> str | None:
    """Why no redis-server can be started here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server; CI installs it)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process; ``restart()`` keeps the port and loses the data (no
    persistence), ``pause()``/``resume()`` make it hang (SIGSTOP/SIGCONT) with its data."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None, missing_reason()
        self.process = subprocess.Popen(
            [
                executable,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "no",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"redis-server exited: {stderr.decode(errors='replace')}")
            if self.command("PING") == "+PONG":
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer within 10 s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)  # a paused server cannot exit
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def command(self, *words: str) -> str:
        """One inline command over a plain socket; its first reply line (or "" on failure)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(" ".join(words).encode() + b"\r\n")
                return sock.recv(65536).decode().split("\r\n")[0]
        except OSError:
            return ""

    def integer(self, *words: str) -> int:
        reply = self.command(*words)
        assert reply.startswith(":"), reply
        return int(reply[1:])

    def client_count(self) -> int:
        """Connections open to the server, this query's own excluded."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"CLIENT LIST\r\n")
            data = b""
            while b"\r\n" not in data:
                data += sock.recv(65536)
            header, _, body = data.partition(b"\r\n")
            size = int(header[1:])  # a bulk string: $<size>, then the text and CRLF
            while len(body) < size:
                body += sock.recv(65536)
        lines = body[:size].decode().splitlines()
        return sum(1 for line in lines if line.startswith("id=")) - 1
