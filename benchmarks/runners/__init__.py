"""One runner per client kind: ``await open_runner(scenario, base_url)`` in its module.

A runner's ``call()`` makes the scenario's request once and returns what that client returns to
its user; ``check(result)`` raises unless the result is the canned response, decoded; ``close()``
releases the runner's session. Modules are imported only by the worker that needs them, because
the ccxt worker runs on Python 3.10 without the project's dependencies.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["RUNNER_MODULES", "Runner"]

RUNNER_MODULES = {
    "raw": "benchmarks.runners.raw",
    "typed": "benchmarks.runners.typed",
    "client": "benchmarks.runners.client",
    "ccxt": "benchmarks.runners.ccxt_coinflex",
}


class Runner(Protocol):
    async def call(self) -> object: ...

    def check(self, result: object) -> None: ...

    async def close(self) -> None: ...
