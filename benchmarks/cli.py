"""``python -m benchmarks [--quick] [--no-ccxt] [--scenarios ...]``: run the suite, print the
table with the ratios, write ``benchmarks/results/last.md`` and ``last.json`` (a ``--quick``
run writes ``quick.json`` only, a ``--profile`` run only its profiles).

Exit status 0 when every case ran (targets missed or not: pass ``--check`` to turn a missed
target into status 1); 1 when a floor or the client failed to run. ccxt that cannot be set up or
run is skipped with a note.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
from pathlib import Path

from benchmarks.ccxt_env import CCXT_METHODS, CCXT_VERSION, ensure_ccxt_python
from benchmarks.driver import CaseResult, RunSettings, run_case
from benchmarks.micro import run_micro
from benchmarks.report import MachineInfo, RunReport
from benchmarks.scenarios import CONCURRENCIES, SCENARIOS
from benchmarks.server import CannedServer

__all__ = ["main"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Full run: ~6 minutes on a 2-core machine. Quick: a smoke test well under a minute.
FULL = RunSettings(rounds=9, batch_seconds=0.4, calibrate_seconds=0.4, processes=3)
QUICK = RunSettings(rounds=2, batch_seconds=0.04, calibrate_seconds=0.02, processes=1)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="tiny batches: a smoke test")
    parser.add_argument("--no-ccxt", action="store_true", help="skip ccxt (and its venv setup)")
    parser.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument(
        "--concurrency", nargs="+", type=int, default=list(CONCURRENCIES), metavar="N"
    )
    parser.add_argument("--rounds", type=int, help="timed rounds per case (default 9; quick 2)")
    parser.add_argument("--batch-seconds", type=float, help="wall time of one batch (default 0.4)")
    parser.add_argument(
        "--processes",
        type=int,
        help="worker generations per case (default 3; quick 1)",
    )
    parser.add_argument(
        "--profile",
        choices=("raw", "typed", "client", "ccxt"),
        help="profile this kind's timed batches with pyinstrument (slows it: ratios are then "
        "not valid); writes results/profile-KIND-SCENARIO-cN.txt instead of last.md",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def _client_status() -> tuple[bool, str]:
    try:
        module = importlib.import_module("coinflex_async")
        module.Client  # noqa: B018 - the attribute the runner needs
    except Exception as error:
        return False, f"coinflex_async not importable ({type(error).__name__}: {error})"
    return True, f"coinflex_async {getattr(module, '__version__', '?')}"


def _versions(ccxt_version: str | None) -> dict[str, str]:
    versions = {}
    for name in ("aiohttp", "msgspec", "coinflex_async"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except Exception:
            versions[name] = "n/a"
    if ccxt_version:
        versions["ccxt"] = ccxt_version
    return versions


def _settings(args: argparse.Namespace) -> RunSettings:
    base = QUICK if args.quick else FULL
    return RunSettings(
        rounds=args.rounds or base.rounds,
        batch_seconds=args.batch_seconds or base.batch_seconds,
        calibrate_seconds=base.calibrate_seconds,
        processes=args.processes or base.processes,
        profile_kind=args.profile,
        profile_dir=args.results_dir,
    )


def _interpreters(args: argparse.Namespace, notes: list[str]) -> tuple[dict[str, str], bool]:
    """``(kind -> interpreter, whether the client imports)``; what is left out goes in notes."""
    pythons = {"raw": sys.executable, "typed": sys.executable}
    client_ok, client_note = _client_status()
    if client_ok:
        pythons["client"] = sys.executable
    else:
        notes.append(client_note)
    if args.no_ccxt:
        notes.append("ccxt skipped (--no-ccxt)")
    else:
        ccxt_python, ccxt_note = ensure_ccxt_python()
        if ccxt_python is None:
            notes.append(ccxt_note)
        else:
            pythons["ccxt"] = ccxt_python
            notes.append(CCXT_METHODS)
    return pythons, client_ok


def _run_cases(
    args: argparse.Namespace, pythons: dict[str, str], settings: RunSettings
) -> list[CaseResult]:
    cases = []
    with CannedServer() as server:
        for scenario in args.scenarios:
            for concurrency in args.concurrency:
                case_started = time.perf_counter()
                case = run_case(scenario, concurrency, pythons, server, settings)
                cases.append(case)
                summary = ", ".join(
                    f"{kind} {cpu:,.0f} us"
                    for kind in case.kinds()
                    if (cpu := case.cpu_us_per_request(kind)) is not None
                )
                print(
                    f"{scenario} c={concurrency}: {summary} "
                    f"({time.perf_counter() - case_started:.1f} s)",
                    file=sys.stderr,
                )
    return cases


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    settings = _settings(args)
    started = time.perf_counter()
    notes: list[str] = []
    pythons, client_ok = _interpreters(args, notes)
    if args.quick:
        notes.append("--quick: a smoke test; its figures are too noisy to judge targets by")
    if args.profile:
        args.results_dir.mkdir(parents=True, exist_ok=True)
        notes.append(f"{args.profile} was profiled: its figures include pyinstrument's overhead")

    cases = _run_cases(args, pythons, settings)
    micro = [] if args.no_micro else run_micro(quick=args.quick, with_client=client_ok)

    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    generations = settings.rounds if settings.processes is None else settings.processes
    method = (
        f"{settings.rounds} timed rounds per case over {min(generations, settings.rounds)} "
        f"generation(s) of worker processes, batches of ~{settings.batch_seconds:g} s."
    )
    ccxt_version = CCXT_VERSION if "ccxt" in pythons else None
    machine = MachineInfo.collect(command, _versions(ccxt_version))
    report = RunReport(machine, method, cases, micro, notes)
    print(report.text())
    if args.profile:
        # A profiled run's figures carry the profiler's cost: keep them out of last.md.
        written = f"profiles in {args.results_dir}"
    elif args.quick:
        # Smoke-test figures must not replace the table docs/guide/performance.md copies (last.md).
        written = ", ".join(map(str, report.write(args.results_dir, "quick", markdown=False)))
    else:
        written = ", ".join(map(str, report.write(args.results_dir, "last", markdown=True)))
    print(f"wrote {written} ({time.perf_counter() - started:.0f} s in all)", file=sys.stderr)

    required = {"raw", "typed", "client"}
    if not client_ok or any(required & set(case.failures) for case in cases):
        return 1
    if args.check and not report.all_targets_met():
        return 1
    return 0
