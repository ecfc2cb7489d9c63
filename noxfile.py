"""Sessions: tests, pythons, lint, typecheck, demo, bench, bench_ws, bench_smoke,
history_export, ccxt_compat, docs, plugin_project, aioresponses, stream_aiohttp313,
release_check. Each runs in its own venv made from the interpreter that runs nox (3.11 by
default; `pythons` finds the other supported ones), so a fresh machine needs only Python and
`pip install nox`."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
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

# requires-python = ">=3.10": `tests` runs the whole suite on the default interpreter (3.11);
# `pythons` runs OTHER_PYTHONS_TESTS on each of the others this machine has.
OTHER_PYTHONS = ("3.10", "3.12", "3.13")
# Unit, loopback, end-to-end, plugin and simulator tests. Left to 3.11: the reliability runs
# (timing-bound, minutes), the static-typing checks (mypy targets 3.11) and the benchmarks'.
OTHER_PYTHONS_TESTS = ("tests", "--ignore=tests/reliability", "--ignore=tests/static_typing")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, loopback, simulator end-to-end, reliability)."""
    session.install("-e", ".[test,cli]")
    session.run("pytest", *session.posargs)


def find_python(version: str) -> str | None:
    """An interpreter of ``version`` (``"3.12"``) on this machine, or None. pyenv's builds
    first (its shims fail unless that version is selected), then PATH and the usual places;
    each candidate is asked its version, so a shim that fails or lies is passed over."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    builds = glob.glob(str(pyenv / "versions" / f"{version}.*" / "bin" / "python3"))
    candidates = sorted(builds, reverse=True)  # the newest patch release first
    candidates += [
        path
        for path in (shutil.which(f"python{version}"), f"/usr/bin/python{version}")
        if path is not None
    ]
    for path in candidates:
        try:
            found = subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip
        except OSError:
            continue
        if found.returncode == 0 and found.stdout.strip() == version:
            return path
    return None


@nox.session(python=False)
@nox.parametrize("version", OTHER_PYTHONS)
def pythons(session: nox.Session, version: str) -> None:
    """The tests on each supported Python besides 3.11 that this machine has (3.10, 3.12,
    3.13): unit, end-to-end, plugin and simulator tests (OTHER_PYTHONS_TESTS, or the pytest
    arguments after ``--``). A Python the machine lacks is skipped, saying so."""
    interpreter = find_python(version)
    if interpreter is None:
        session.skip(f"Python {version} not found (pyenv's versions, PATH): not tested on it")
    session.log(f"Python {version}: {interpreter}")
    venv = REPO / ".nox" / f"pythons-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        session.run(interpreter, "-m", "venv", "--clear", str(venv), external=True)
    session.run(python, "-m", "pip", "install", "-q", "-e", f"{REPO}[test,cli]", external=True)
    tests = session.posargs or OTHER_PYTHONS_TESTS
    session.run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q", *tests, external=True)


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
def bench_market(session: nox.Session) -> None:
    """The moving markets at full size (figures in docs/guide/performance.md): RandomMarket's
    CPU, the delay it adds to REST and WebSocket answers and one simulated hour of it
    (benchmarks/sim_market.py, about 4 minutes), then a 1,000,000-trade Replay at speed 100
    (benchmarks/sim_replay.py, about 3 minutes). Each exits 1 when over its budget."""
    session.install("-e", ".")
    session.run("python", "-m", "benchmarks.sim_market")
    session.run("python", "-m", "benchmarks.sim_replay")


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


# -- aiohttp: the floor pyproject allows, and the newest -------------------------------------
# The client leans on aiohttp's client middlewares (3.12+) and on two private attributes
# (_transport: ClientSession._retry_connection, ._middlewares); the stream on a third. The
# tests that exercise them are picked by keyword so that renamed or moved files stay in:
# stream (tests/test_stream.py, tests/stream/, tests/e2e/test_e2e_stream.py), transport, retry,
# signing, and caller-owned sessions.
AIOHTTP_TESTS = ("-k", "stream or transport or retry or signing or session")


def _aiohttp_floor() -> str:
    """The version in pyproject's ``aiohttp>=X`` (one place to raise it)."""
    import tomllib

    with open(REPO / "pyproject.toml", "rb") as file:
        dependencies = tomllib.load(file)["project"]["dependencies"]
    (spec,) = [d for d in dependencies if d.replace(" ", "").startswith("aiohttp>=")]
    return spec.split(">=", 1)[1].split(",")[0].strip()


@nox.session
def aiohttp_floor(session: nox.Session) -> None:
    """The transport, retry, signing and stream tests on the oldest aiohttp pyproject allows
    (3.12.1 was yanked: a regression with None bodies)."""
    floor = _aiohttp_floor()
    session.install("-e", ".[test,cli]", f"aiohttp=={floor}")
    session.run("python", "-c", f"import aiohttp; assert aiohttp.__version__ == {floor!r}")
    session.run("pytest", "-p", "no:cacheprovider", "-q", *AIOHTTP_TESTS, *session.posargs)


@nox.session
def aiohttp_newest(session: nox.Session) -> None:
    """The same tests on the newest aiohttp release (upgraded even in a reused venv)."""
    session.install("-e", ".[test,cli]")
    session.install("--upgrade", "aiohttp")
    session.run("python", "-c", "import aiohttp; print('aiohttp', aiohttp.__version__)")
    session.run("pytest", "-p", "no:cacheprovider", "-q", *AIOHTTP_TESTS, *session.posargs)


@nox.session(reuse_venv=False)
def release_check(session: nox.Session) -> None:
    """The release as a user installs it: wheel and sdist built (python -m build), `twine
    check --strict`, the wheel's contents checked (py.typed, the simulator, the pytest plugin,
    no tests or benchmarks), then the wheel installed into a fresh venv that runs `coinflex
    demo` from outside the checkout and reports the version the build was made as."""
    session.install("build", "twine")
    work = Path(tempfile.mkdtemp(prefix="coinflex-release-"))
    try:
        dist = work / "dist"
        session.run("python", "-m", "build", "--outdir", str(dist), str(REPO))
        (wheel,) = dist.glob("*.whl")
        (sdist,) = dist.glob("*.tar.gz")
        session.run("twine", "check", "--strict", str(wheel), str(sdist))
        version = _check_wheel(session, wheel)
        _check_sdist(session, sdist, version)

        venv = work / "venv"
        session.run("python", "-m", "venv", str(venv))
        python, coinflex = str(venv / "bin" / "python"), str(venv / "bin" / "coinflex")
        session.run(python, "-m", "pip", "install", "-q", str(wheel), external=True)
        session.chdir(work)  # outside the checkout: nothing is imported from it
        report = "import coinflex_async as c, importlib.metadata as m; print(c.__version__, m.version('coinflex_async'), c.__file__)"  # noqa: E501
        shown = (session.run(python, "-c", report, external=True, silent=True) or "").split()
        session.log(f"installed: {' '.join(shown)}")
        if shown[:2] != [version, version] or not shown[2].startswith(str(venv)):
            session.error(f"installed {shown}, built {version} (expected from {venv})")
        session.run(coinflex, "demo", external=True)
    finally:
        session.chdir(REPO)
        shutil.rmtree(work, ignore_errors=True)


def _check_wheel(session: nox.Session, wheel: Path) -> str:
    """What a user's install gets; returns the version the wheel was built as."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        text = archive.read(f"{info}/METADATA").decode()
        entries = archive.read(f"{info}/entry_points.txt").decode()
    version = re.search(r"^Version: (\S+)$", text, re.MULTILINE)
    built = version.group(1) if version else ""
    source = (REPO / "coinflex_async" / "_version.py").read_text()
    declared = re.search(r'__version__ = "([^"]+)"', source)
    problems = []
    if not built or not declared or built != declared.group(1):
        problems.append(f"built as {built!r}, coinflex_async/_version.py says {declared}")
    if f"-{built}-" not in wheel.name:
        problems.append(f"{wheel.name} does not carry version {built}")
    for needed in ("coinflex_async/py.typed", "coinflex_async/sim/__init__.py",
                   "coinflex_async/sim/pytest_plugin.py", "coinflex_async/_cli.py"):  # fmt: skip
        if needed not in names:
            problems.append(f"{needed} missing")
    strays = [n for n in names if n.split("/")[0] in ("tests", "benchmarks", "examples", "docs")]
    if strays:
        problems.append(f"not part of the package: {strays[:5]}")
    for entry in ("coinflex = ", "coinflex-sim = ", "coinflex_async.sim.pytest_plugin = "):
        if entry not in entries:
            problems.append(f"entry point {entry.strip(' =')} missing")
    if problems:
        session.error(f"{wheel.name}: " + "; ".join(problems))
    session.log(f"{wheel.name}: {len(names)} files, version {built}, py.typed and sim present")
    return built


def _check_sdist(session: nox.Session, sdist: Path, version: str) -> None:
    """The source release builds the same version and carries what a rebuild needs."""
    top = f"coinflex_async-{version}"
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    needed = [f"{top}/{n}" for n in ("pyproject.toml", "README.md", "coinflex_async/py.typed")]
    missing = [n for n in needed if n not in names]
    if missing or sdist.name != f"{top}.tar.gz":
        session.error(f"{sdist.name}: missing {missing} (or not named {top}.tar.gz)")
    session.log(f"{sdist.name}: {len(names)} files")
