"""The driver: worker processes per client kind, timed batches alternated across kinds.

This machine's speed drifts by tens of percent within a minute, so a lone absolute time means
little. Every kind runs in its own long-lived worker; each round gives every kind one batch of
about the same wall time, back to back, in a rotating order; ratios are taken within a round and
the medians of those paired ratios are reported. A worker process keeps its own speed for life
(see ``benchmarks.processes``), so each case's rounds are spread over generations of fresh
workers.
"""

from __future__ import annotations

import json
import math
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from benchmarks.processes import PROJECT_ROOT, child_env
from benchmarks.server import CannedServer

__all__ = [
    "KINDS",
    "BatchRecord",
    "CaseResult",
    "RunSettings",
    "WorkerError",
    "WorkerProcess",
    "run_case",
]

KINDS = ("raw", "typed", "client", "ccxt")
_READY_TIMEOUT_S = 120.0
_COMMAND_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class RunSettings:
    """``rounds`` timed rounds per case, spread over ``processes`` generations of workers
    (``None``: a fresh generation for every round)."""

    rounds: int
    batch_seconds: float
    calibrate_seconds: float
    processes: int | None = None
    profile_kind: str | None = None
    profile_dir: Path | None = None


@dataclass(frozen=True)
class BatchRecord:
    kind: str
    round: int
    position: int
    n: int
    cpu: float
    wall: float
    server_cpu: float
    server_requests: int


@dataclass
class CaseResult:
    """One scenario at one concurrency: every batch, what failed, and remarks."""

    scenario: str
    concurrency: int
    batches: list[BatchRecord] = field(default_factory=list)
    batch_sizes: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def kinds(self) -> list[str]:
        return [kind for kind in KINDS if any(b.kind == kind for b in self.batches)]

    def _per_round(self, kind: str) -> dict[int, BatchRecord]:
        return {b.round: b for b in self.batches if b.kind == kind}

    def cpu_us_per_request(self, kind: str) -> float | None:
        values = [b.cpu / b.n * 1e6 for b in self._per_round(kind).values()]
        return statistics.median(values) if values else None

    def requests_per_second(self, kind: str) -> float | None:
        values = [b.n / b.wall for b in self._per_round(kind).values()]
        return statistics.median(values) if values else None

    def server_us_per_request(self, kind: str) -> float | None:
        values = [
            b.server_cpu / b.server_requests * 1e6
            for b in self._per_round(kind).values()
            if b.server_requests
        ]
        return statistics.median(values) if values else None

    def server_load(self) -> float | None:
        """The busiest median fraction of one core the server used during any kind's batches."""
        loads = []
        for kind in self.kinds():
            values = [b.server_cpu / b.wall for b in self._per_round(kind).values()]
            loads.append(statistics.median(values))
        return max(loads) if loads else None

    def median_ratio(self, kind: str, baseline: str) -> float | None:
        """The median over rounds of ``kind``'s CPU per request over ``baseline``'s."""
        ours, theirs = self._per_round(kind), self._per_round(baseline)
        ratios = [
            (ours[r].cpu / ours[r].n) / (theirs[r].cpu / theirs[r].n)
            for r in sorted(ours.keys() & theirs.keys())
            if theirs[r].cpu > 0
        ]
        return statistics.median(ratios) if ratios else None


class WorkerError(RuntimeError):
    pass


class WorkerProcess:
    """The driver's handle on one worker: JSON commands in, JSON answers out."""

    def __init__(
        self,
        kind: str,
        python: str,
        scenario: str,
        concurrency: int,
        base_url: str,
        profile_path: Path | None = None,
    ) -> None:
        self.kind = kind
        command = [python, "-m", "benchmarks.worker", kind, scenario, str(concurrency), base_url]
        if profile_path is not None:
            command += ["--profile", str(profile_path)]
        # Lives as long as the worker; stop() closes it.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=PROJECT_ROOT,
            env=child_env(),
            text=True,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read_answers, daemon=True)
        self._reader.start()

    def _read_answers(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._answers.put(line)
        self._answers.put("")

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-2000:].strip()

    def _next_answer(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise WorkerError(f"{self.kind} worker: no answer in {timeout:.0f} s") from None
        if not line:
            raise WorkerError(f"{self.kind} worker exited: {self._stderr_tail()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise WorkerError(f"{self.kind} worker: {answer['error']}")
        return answer

    def wait_ready(self) -> None:
        self._next_answer(_READY_TIMEOUT_S)

    def command(self, op: str, **arguments: Any) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self._process.stdin.flush()
        return self._next_answer(_COMMAND_TIMEOUT_S)

    def stop(self) -> None:
        process = self._process
        try:
            if process.poll() is None and process.stdin is not None:
                process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                process.stdin.close()
            process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            self._reader.join(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
            self._stderr.close()


def _batch_size(answer: dict[str, Any], settings: RunSettings, concurrency: int) -> int:
    rate = float(answer["n"]) / float(answer["wall"])
    return max(concurrency, math.ceil(rate * settings.batch_seconds))


class _Case:
    """One case being run: its result so far and its workers of the current generation."""

    def __init__(
        self,
        scenario: str,
        concurrency: int,
        pythons: dict[str, str],
        server: CannedServer,
        settings: RunSettings,
        log: IO[str],
    ) -> None:
        self.result = CaseResult(scenario, concurrency)
        self._pythons = dict(pythons)
        self._server = server
        self._settings = settings
        self._log = log
        self._workers: dict[str, WorkerProcess] = {}

    def _fail(self, kind: str, error: WorkerError) -> None:
        self.result.failures[kind] = str(error)
        self.result.batches = [b for b in self.result.batches if b.kind != kind]
        print(f"  {kind}: {error}", file=self._log)
        self._pythons.pop(kind, None)
        worker = self._workers.pop(kind, None)
        if worker is not None:
            worker.stop()

    def start_generation(self) -> None:
        result, settings = self.result, self._settings
        for kind, python in self._pythons.items():
            profile_path = None
            if settings.profile_kind == kind and settings.profile_dir is not None:
                name = f"profile-{kind}-{result.scenario}-c{result.concurrency}.txt"
                profile_path = settings.profile_dir / name
            self._workers[kind] = WorkerProcess(
                kind, python, result.scenario, result.concurrency, self._server.url, profile_path
            )
        # Every worker finishes starting before any is timed: an import elsewhere steals CPU.
        for kind, worker in list(self._workers.items()):
            try:
                worker.wait_ready()
            except WorkerError as error:
                self._fail(kind, error)
        for kind, worker in list(self._workers.items()):
            try:
                worker.command("check")
                size = result.batch_sizes.get(kind)
                if size is None:
                    calibration = worker.command("calibrate", seconds=settings.calibrate_seconds)
                    result.batch_sizes[kind] = _batch_size(
                        calibration, settings, result.concurrency
                    )
                else:
                    # A fresh process: open its connections, grow its heap, untimed.
                    worker.command("batch", n=max(result.concurrency, size // 8))
            except WorkerError as error:
                self._fail(kind, error)

    def run_round(self, round_number: int) -> None:
        order = list(self._workers)
        shift = round_number % len(order) if order else 0
        for position, kind in enumerate(order[shift:] + order[:shift]):
            self._run_batch(kind, round_number, position)

    def _run_batch(self, kind: str, round_number: int, position: int) -> None:
        server, result = self._server, self.result
        server_cpu, server_requests = server.stats()
        try:
            answer = self._workers[kind].command("batch", n=result.batch_sizes[kind])
        except WorkerError as error:
            self._fail(kind, error)
            return
        server_cpu_after, server_requests_after = server.stats()
        served = server_requests_after - server_requests
        if served != answer["n"]:
            result.notes.setdefault(
                kind, f"the server saw {served} requests for a batch of {answer['n']} calls"
            )
        result.batches.append(
            BatchRecord(
                kind=kind,
                round=round_number,
                position=position,
                n=answer["n"],
                cpu=answer["cpu"],
                wall=answer["wall"],
                server_cpu=server_cpu_after - server_cpu,
                server_requests=served,
            )
        )

    def stop_generation(self) -> None:
        for worker in self._workers.values():
            worker.stop()
        self._workers = {}


def run_case(
    scenario: str,
    concurrency: int,
    pythons: dict[str, str],
    server: CannedServer,
    settings: RunSettings,
    log: IO[str] = sys.stderr,
) -> CaseResult:
    """Runs one scenario at one concurrency for every kind in ``pythons`` (kind -> interpreter)."""
    case = _Case(scenario, concurrency, pythons, server, settings, log)
    wanted = settings.rounds if settings.processes is None else settings.processes
    generations = max(1, min(wanted, settings.rounds))
    for generation in range(generations):
        first = settings.rounds * generation // generations
        last = settings.rounds * (generation + 1) // generations
        case.start_generation()
        try:
            for round_number in range(first, last):
                case.run_round(round_number)
        finally:
            case.stop_generation()
    return case.result
