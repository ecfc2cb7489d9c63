"""Sessions: tests, lint, typecheck, demo, bench, bench_ws, bench_smoke, history_export,
ccxt_compat, docs, plugin_project, aioresponses. Each runs in its own venv made from the
interpreter that runs nox, so a fresh machine needs only Python and `pip install nox`."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

# Pinned: a new release may add rules or change formatting; upgrade them on purpose.
LINT_TOOLS = ("ruff==0.17.6",)
# pyinstrument: benchmarks/worker.py imports it for --profile.
TYPE_TOOLS = ("mypy==2.4.1", "pyinstrument")
# The documentation site's builders (docs/, mkdocs.yml).
DOC_TOOLS = ("mkdocs==1.6.1", "mkdocstrings==1.0.8", "mkdocstrings-python==2.0.11")
# aioresponses 0.7.9 fails on aiohttp 3.14 (ClientResponse needs `stream_writer`): the docs say
# what works with it on 3.13, and the aioresponses session keeps that true.
AIOHTTP_313 = "aiohttp==3.13.5"
AIORESPONSES = (AIOHTTP_313, "aioresponses==0.7.9", "pytest", "pytest-asyncio")

REPO = Path(__file__).parent.resolve()


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, loopback, simulator end-to-end, reliability)."""
    session.install("-e", ".[test,cli]")
    session.run("pytest", *session.posargs)


@nox.session
def reliability(session: nox.Session) -> None:
    """The reliability suite at full scale (1,000 orders under 20% faults, 10,000 calls under
    the rate limit, the whole 2,500-per-5-minutes burst, a fleet sharing limits through Redis;
    over the WebSocket 1,000 orders under drops, stalls and lost replies, 20 reconnects, a
    10-minute depth soak: needs redis-server, about 25 minutes); figures go to
    reliability-results.json (quoted in
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
    session.install("-e", ".[test,cli]", *TYPE_TOOLS)
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
def history_export(session: nox.Session) -> None:
    """`coinflex history trades` of 10,000 and 100,000 seeded fills over 90 days: rows/s,
    requests against the least possible, peak memory (about a minute)."""
    session.install("-e", ".[cli]")
    session.run("python", "-m", "benchmarks.history_export", *session.posargs)


@nox.session
def bench_smoke(session: nox.Session) -> None:
    """A quick run of the benchmark harness (tiny batches, no ccxt): proves it still works;
    then 3 seconds of the simulator's WebSocket under a scanner's load (benchmarks/sim_ws.py),
    then the client's stream benchmark, small (benchmarks/ws.py)."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks", "--quick", "--no-ccxt")
    session.run("python", "-m", "benchmarks.sim_ws", "--quick")
    session.run("python", "-m", "benchmarks.ws", "--quick")


@nox.session
def bench_ws(session: nox.Session) -> None:
    """The client's WebSocket stream: CPU per pushed message (depth L25, trade, order update)
    against a raw and a typed floor, and push-to-reader latency with 200 subscriptions over 20
    connections (benchmarks/ws.py; figures in the README)."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks.ws", *session.posargs)


@nox.session
def ccxt_compat(session: nox.Session) -> None:
    """ccxt 1.90.1's coinflex, unmodified, trades against the standalone simulator over HTTPS
    (tests/compat/run_ccxt.py). Builds benchmarks/.venv-ccxt from the machine's Python 3.10 on
    first use (the venv `bench` uses too); without Python 3.10 or ccxt it fails."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "tests.compat.run_ccxt")


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (guide + reference from the docstrings) into site/; any warning,
    a broken link among them, fails the build."""
    session.install("-e", ".", *DOC_TOOLS, *LINT_TOOLS)  # ruff formats the signatures
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session(reuse_venv=False)
def plugin_project(session: nox.Session) -> None:
    """The coinflex_sim fixture as a user gets it: a throwaway project (one test file, no
    conftest.py, no pytest configuration) in a fresh venv, first without pytest-asyncio (the
    fixture must say what to install), then with ``coinflex_async[pytest]`` (it must pass)."""
    project = Path(tempfile.mkdtemp(prefix="coinflex-plugin-project-"))
    shutil.copy(REPO / "examples" / "test_with_simulator.py", project)
    session.chdir(project)
    pytest_run = ("python", "-m", "pytest", "-p", "no:cacheprovider", "-rA")
    try:
        session.install(str(REPO), "pytest")
        output = session.run(*pytest_run, success_codes=[1], silent=True) or ""
        session.log(output)
        if "needs pytest-asyncio" not in output or "1 passed, 1 error" not in output:
            session.error("without pytest-asyncio the fixture must say what to install")

        session.install(f"{REPO}[pytest]")
        output = session.run(*pytest_run, silent=True) or ""
        session.log(output)
        if "2 passed" not in output:
            session.error("the fixture did not work in a fresh project")
    finally:
        session.chdir(REPO)
        shutil.rmtree(project, ignore_errors=True)


@nox.session
def aioresponses(session: nox.Session) -> None:
    """The aioresponses example of the docs (examples/test_aioresponses_example.py) on
    aiohttp 3.13, where aioresponses works."""
    session.install("-e", ".", *AIORESPONSES)
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "examples/test_aioresponses_example.py",
        *session.posargs,
    )


@nox.session
def stream_aiohttp313(session: nox.Session) -> None:
    """The WebSocket stream's tests on aiohttp 3.13, which hands text frames over as str (3.14
    on hands them over as bytes, which the stream asks for: see stream.connection.RAW_TEXT)."""
    session.install("-e", ".[test]")
    session.install(AIOHTTP_313)
    session.run(
        "python",
        "-c",
        "import coinflex_async.stream.connection as c; assert not c.RAW_TEXT, 'not 3.13'",
    )
    session.run(
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/stream",
        "tests/e2e/test_e2e_stream.py",
        *session.posargs,
    )
