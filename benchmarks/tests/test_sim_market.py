"""The RandomMarket benchmark's parts, run small: two coinflex-sim processes start and their
CPU is read; the pausable server answers REST and WebSocket round trips in interleaved rounds
with its market running and paused, and reports its event loop's lag; a ManualClock run steps
and trades."""

from __future__ import annotations

from benchmarks.sim_market import Server, measure_cpu, measure_hour, measure_interleaved


async def test_the_parts_run_small() -> None:
    servers = {
        "no market": await Server.start(),
        "random": await Server.start("--market", "random"),
    }
    try:
        cpu = await measure_cpu(servers, 1.0)
    finally:
        for server in servers.values():
            await server.stop()
    assert set(cpu) == {"no market", "random"}
    assert all(0 <= share < 2 for share in cpu.values())
    assert cpu["random"] > 0  # the market works even when nobody asks anything

    server = await Server.start_pausable()
    try:
        before = server.cpu_seconds()
        latency = await measure_interleaved(server, rounds=8, round_seconds=0.2, rate=20.0)
        assert server.cpu_seconds() > before
        assert await server.command("pause") == "paused"
        assert await server.command("run") == "running"
    finally:
        await server.stop()
    assert set(latency.reports) == {"running A", "running B", "paused A", "paused B"}
    for report in latency.reports.values():
        assert report.rest_ms and len(report.ws_ms) == len(report.rest_ms)
        assert all(ms > 0 for ms in report.rest_ms + report.ws_ms)
    # The probe timed the loop in both states (a 5 ms timer: ~40 a round).
    assert all(len(lags) >= 20 for lags in latency.lag_ms.values())
    assert all(lag >= 0 for lags in latency.lag_ms.values() for lag in lags)
    assert any("p99 delay of ws answers" in line for line in latency.lines())

    hour = await measure_hour(10 / 3600)
    # Ten simulated seconds of eight markets at ~2 takers a second each.
    assert 80 <= hour.trades <= 600
    assert hour.cpu_seconds > 0 and hour.wall_seconds > 0
    # Eight markets re-quote 4 times a second and take ~2 times: ~480 steps (some coincide).
    assert 300 <= len(hour.step_ms) <= 500
    assert "one market step's CPU ms p50" in hour.line(10 / 3600)
