"""The simulator WebSocket benchmark's harness, run small: the server starts, the scanner
and the traders get their pushes, and the report adds up (bench_smoke runs it with the
floor)."""

from __future__ import annotations

from benchmarks.sim_ws import Report, run_load


async def test_small_scanner_load_against_the_simulator() -> None:
    report = await run_load(
        "sim", markets=4, connections=2, seconds=0.8, rate=10.0, every=False, warmup=0.3
    )
    assert report.kind == "sim" and 0 < report.cpu_share < 2
    # 4 depth subscriptions for ~0.8 s at 50 ms: about 64 messages (room for a loaded box).
    assert report.depth_expected >= 56
    assert report.depth_received >= report.depth_expected // 2
    assert report.orders_sent >= 4 and report.trades_received >= 2
    assert report.round_lateness_ms and report.lag_ms


def test_report_line_names_the_figures() -> None:
    line = Report("sim", 0.25, 100, 99, lag_ms=[1.0, 3.0], round_lateness_ms=[0.5]).line()
    assert "25.0% of a core" in line and "99/100" in line and "p50 2.0" in line
