"""Tables and files of a run: the text printed, ``results/last.md`` and ``results/last.json``."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.driver import KINDS, CaseResult
from benchmarks.micro import MicroResult
from benchmarks.scenarios import DATA_SCENARIOS

__all__ = ["MachineInfo", "RunReport", "TYPED_FLOOR_TARGET", "cpu_model"]

TYPED_FLOOR_TARGET = 1.15
CCXT_DATA_TARGET = 0.5
_MISS = " ✗"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@dataclass
class MachineInfo:
    date: str
    command: str
    platform: str
    cpu: str
    cores: int | None
    python: str
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def collect(cls, command: str, versions: dict[str, str]) -> MachineInfo:
        return cls(
            date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            command=command,
            platform=platform.platform(),
            cpu=cpu_model(),
            cores=os.cpu_count(),
            python=sys.version.split()[0],
            versions=versions,
        )


def _us(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _ratio(value: float | None, limit: float | None = None) -> str:
    if value is None:
        return "n/a"
    text = f"{value:.2f}"
    return text + _MISS if limit is not None and value > limit else text


def _table(headers: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(width) if i >= right_from else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i >= right_from else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


@dataclass
class RunReport:
    machine: MachineInfo
    method: str
    cases: list[CaseResult]
    micro: list[MicroResult]
    notes: list[str]

    def _kinds(self) -> list[str]:
        return [k for k in KINDS if any(k in case.kinds() for case in self.cases)]

    def case_table(self) -> str:
        kinds = self._kinds()
        headers = ["scenario", "conc", *(f"{k} us/req" for k in kinds)]
        headers += ["client req/s", "client/typed", "client/raw", "typed/raw"]
        if "ccxt" in kinds:
            headers.append("client/ccxt")
        headers += ["server us/req", "server load"]
        rows = []
        for case in self.cases:
            row = [case.scenario, str(case.concurrency)]
            row += [_us(case.cpu_us_per_request(k)) for k in kinds]
            rps = case.requests_per_second("client")
            row.append("n/a" if rps is None else f"{rps:,.0f}")
            row.append(_ratio(case.median_ratio("client", "typed"), TYPED_FLOOR_TARGET))
            row.append(_ratio(case.median_ratio("client", "raw")))
            row.append(_ratio(case.median_ratio("typed", "raw")))
            if "ccxt" in kinds:
                ccxt_limit = CCXT_DATA_TARGET if case.scenario in DATA_SCENARIOS else 1.0
                row.append(_ratio(case.median_ratio("client", "ccxt"), ccxt_limit))
            reference = "client" if "client" in case.kinds() else "typed"
            row.append(_us(case.server_us_per_request(reference)))
            load = case.server_load()
            row.append("n/a" if load is None else f"{load:.0%}")
            rows.append(row)
        return _table(headers, rows, right_from=1)

    def micro_table(self) -> str:
        rows = []
        for result in self.micro:
            target = "" if result.target_us is None else f"<= {result.target_us:g}"
            if result.us_per_op is None:
                value = result.note
            else:
                value = (
                    f"{result.us_per_op:.2f}" if result.us_per_op < 100 else _us(result.us_per_op)
                )
                if result.meets_target is False:
                    value += _MISS
            rows.append([result.group, result.name, value, target])
        return _table(["group", "micro-benchmark", "us/op", "target"], rows, right_from=2)

    def target_lines(self) -> list[str]:
        lines = []
        typed_misses, ccxt_misses, measured, ccxt_measured = [], [], 0, 0
        for case in self.cases:
            label = f"{case.scenario} c={case.concurrency}"
            ratio = case.median_ratio("client", "typed")
            if ratio is not None:
                measured += 1
                if ratio > TYPED_FLOOR_TARGET:
                    typed_misses.append(f"{label} {ratio:.2f}")
            versus_ccxt = case.median_ratio("client", "ccxt")
            if versus_ccxt is not None:
                ccxt_measured += 1
                limit = CCXT_DATA_TARGET if case.scenario in DATA_SCENARIOS else 1.0
                if versus_ccxt > limit:
                    ccxt_misses.append(f"{label} {versus_ccxt:.2f} (limit {limit:g})")

        def verdict(count: int, misses: list[str]) -> str:
            if not count:
                return "n/a (not measured)"
            return "met" if not misses else "MISSED: " + "; ".join(misses)

        lines.append(
            f"client CPU/request <= {TYPED_FLOOR_TARGET}x typed floor, every case: "
            + verdict(measured, typed_misses)
        )
        lines.append(
            "client CPU/request <= ccxt, and <= half of ccxt's where it parses data: "
            + verdict(ccxt_measured, ccxt_misses)
        )
        for result in self.micro:
            if result.target_us is not None:
                status = {True: "met", False: "MISSED", None: "n/a"}[result.meets_target]
                lines.append(f"{result.name} <= {result.target_us:g} us: {status}")
        return lines

    def all_targets_met(self) -> bool:
        return not any("MISSED" in line for line in self.target_lines())

    def _notes(self) -> list[str]:
        notes = list(self.notes)
        for case in self.cases:
            for label, remarks in (("failed", case.failures), ("note", case.notes)):
                for kind, remark in remarks.items():
                    # A worker's traceback ends with the line that says what went wrong.
                    last_line = remark.strip().splitlines()[-1] if remark.strip() else remark
                    notes.append(
                        f"{case.scenario} c={case.concurrency}, {kind} {label}: {last_line}"
                    )
        return notes

    def text(self) -> str:
        m = self.machine
        versions = ", ".join(f"{name} {version}" for name, version in m.versions.items())
        parts = [
            f"coinflex_async benchmarks, {m.date}: `{m.command}`",
            f"{m.platform}; {m.cpu}; {m.cores} cores; Python {m.python}; {versions}",
            "",
            self.method,
            "Client process CPU per request (median over rounds); ratios are medians of "
            "per-round paired ratios; server load is the canned server's share of one core.",
            "",
            self.case_table(),
        ]
        if self.micro:
            parts += ["", self.micro_table()]
        parts += ["", "Targets:", *(f"- {line}" for line in self.target_lines())]
        notes = self._notes()
        if notes:
            parts += ["", "Notes:", *(f"- {note}" for note in notes)]
        return "\n".join(parts) + "\n"

    def write(self, directory: Path, stem: str, *, markdown: bool) -> list[Path]:
        """``STEM.json`` (and ``STEM.md`` when ``markdown``) in ``directory``; returns them."""
        directory.mkdir(parents=True, exist_ok=True)
        written = [directory / f"{stem}.json"]
        written[0].write_text(json.dumps(self.as_json(), indent=1) + "\n", encoding="utf-8")
        if markdown:
            written.append(directory / f"{stem}.md")
            written[1].write_text(self.text(), encoding="utf-8")
        return written

    def as_json(self) -> dict[str, Any]:
        cases = []
        for case in self.cases:
            summary = {
                kind: {
                    "cpu_us_per_request": case.cpu_us_per_request(kind),
                    "requests_per_second": case.requests_per_second(kind),
                    "server_cpu_us_per_request": case.server_us_per_request(kind),
                    "batch_size": case.batch_sizes.get(kind),
                }
                for kind in case.kinds()
            }
            ratios = {
                f"{a}/{b}": case.median_ratio(a, b)
                for a, b in (
                    ("client", "typed"),
                    ("client", "raw"),
                    ("client", "ccxt"),
                    ("typed", "raw"),
                )
            }
            cases.append(
                {
                    "scenario": case.scenario,
                    "concurrency": case.concurrency,
                    "kinds": summary,
                    "median_ratios": ratios,
                    "server_load": case.server_load(),
                    "failures": case.failures,
                    "notes": case.notes,
                    "batches": [asdict(b) for b in case.batches],
                }
            )
        return {
            "machine": asdict(self.machine),
            "method": self.method,
            "cases": cases,
            "micro": [asdict(m) for m in self.micro],
            "targets": self.target_lines(),
            "notes": self._notes(),
        }
