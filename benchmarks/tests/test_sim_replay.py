"""The replay benchmark run small: the CSV it writes replays trade for trade, on pace."""

from __future__ import annotations

from pathlib import Path

from benchmarks.sim_replay import play, write_trades


async def test_a_small_replay_plays_every_trade_on_pace(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    write_trades(path, 2_000, step_ms=10)
    assert path.read_text().count("\n") == 2_001  # the header, then one row a trade
    result = await play(path, 2_000, step_ms=10, speed=100)  # 20 s recorded: 0.2 s here
    assert result.printed == 2_000
    assert 0 < result.received <= 2_000
    assert result.span == 1999 * 10 / 1000 / 100
    assert result.elapsed >= result.span
    assert len(result.lines()) == 3 and result.rss_mib
