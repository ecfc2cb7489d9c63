"""The RandomMarket benchmark's parts, run small: two coinflex-sim processes start, their CPU
is read, both answer REST and WebSocket round trips, and a ManualClock run steps and trades."""

from __future__ import annotations

from benchmarks.sim_market import Server, measure_cpu, measure_hour, measure_latency


async def test_the_parts_run_small() -> None:
    servers = {
        "no market": await Server.start(),
        "random": await Server.start("--market", "random"),
    }
    try:
        cpu = await measure_cpu(servers, 1.0)
        assert set(cpu) == {"no market", "random"}
        assert all(0 <= share < 2 for share in cpu.values())
        assert cpu["random"] > 0  # the market works even when nobody asks anything
        latency = await measure_latency(servers, 0.5, rate=10.0)
    finally:
        for server in servers.values():
            await server.stop()
    for report in latency.values():
        assert report.rest_ms and len(report.ws_ms) == len(report.rest_ms)
        assert all(ms > 0 for ms in report.rest_ms + report.ws_ms)
    hour = await measure_hour(10 / 3600)
    # Ten simulated seconds of eight markets at ~2 takers a second each.
    assert 80 <= hour.trades <= 600
    assert hour.cpu_seconds > 0 and hour.wall_seconds > 0
    # Eight markets re-quote 4 times a second and take ~2 times: ~480 steps (some coincide).
    assert 300 <= len(hour.step_ms) <= 500
    assert "one market step's CPU ms p50" in hour.line(10 / 3600)
