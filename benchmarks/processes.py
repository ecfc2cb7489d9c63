"""How the harness starts its child processes (the canned server and the workers).

Two worker processes running identical code differed by up to 30% in CPU per request, each
steadily for its whole life, until ``prime_allocator`` (below) gave every process the same
allocator state; what is left between processes (a few percent, from memory layout) is averaged
by running each case's rounds over several generations of workers (``RunSettings.processes``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROJECT_ROOT", "child_env", "prime_allocator"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment with the project on ``PYTHONPATH``, for ``python -m benchmarks...``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


_PRIMING_BYTES = 4 * 1024 * 1024


def prime_allocator() -> None:
    """Put the C allocator in the state a long-running process reaches, before anything runs.

    asyncio reads a socket with ``recv(256 KiB)``: CPython allocates 256 KiB, shrinks it to what
    arrived, frees it. glibc serves allocations above its mmap threshold (128 KiB at start) with
    mmap, so a fresh process pays mmap + mremap + munmap and page faults on every read: measured
    here, 15-25% more CPU per small request. glibc raises the threshold for good the first time
    it frees a large mapped block, which a long-running process soon does (and which, in a fresh
    worker, depends on what the kind happened to import). Freeing one large block first gives
    every worker the same, settled allocator.
    """
    block = bytearray(_PRIMING_BYTES)
    del block
