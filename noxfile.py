"""Sessions: tests, lint, typecheck, demo, bench, bench_ws, bench_smoke. Each runs in its own
venv made from the interpreter that runs nox, so a fresh machine needs only Python and
`pip install nox`."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

# Pinned: a new release may add rules or change formatting; upgrade them on purpose.
LINT_TOOLS = ("ruff==0.17.6",)
# pyinstrument: benchmarks/worker.py imports it for --profile.
TYPE_TOOLS = ("mypy==2.4.1", "pyinstrument")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, loopback, simulator end-to-end, reliability)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def reliability(session: nox.Session) -> None:
    """The reliability suite at full scale (1,000 orders under 20% faults, 10,000 calls under
    the rate limit; over the WebSocket 1,000 orders under drops, stalls and lost replies, 20
    reconnects, a 10-minute depth soak); figures go to reliability-results.json (quoted in
    RELIABILITY.md)."""
    session.install("-e", ".[test]")
    session.env["COINFLEX_RELIABILITY"] = "full"
    session.env["COINFLEX_RELIABILITY_RESULTS"] = "reliability-results.json"
    session.run("pytest", "tests/reliability", "-s", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*LINT_TOOLS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[test]", *TYPE_TOOLS)
    session.run("mypy", "--strict", "coinflex_async", "benchmarks")


@nox.session
def demo(session: nox.Session) -> None:
    """The client against the embedded simulator: market data, two accounts trading."""
    session.install("-e", ".")
    session.run("python", "-m", "coinflex_async", "demo")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite behind the README's performance table (about 6-8 minutes)."""
    session.install("-e", ".", "pyinstrument")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def bench_smoke(session: nox.Session) -> None:
    """A quick run of the benchmark harness (tiny batches, no ccxt): proves it still works;
    then 3 seconds of the simulator's WebSocket under a scanner's load (benchmarks/sim_ws.py)."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks", "--quick", "--no-ccxt")
    session.run("python", "-m", "benchmarks.sim_ws", "--quick")
