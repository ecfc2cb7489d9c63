"""``python -m coinflex_async demo``: runs end to end against the embedded simulator, every
marked row of its tables is explained, and it ends with a market that moves by itself."""

from __future__ import annotations

import re

from coinflex_async._demo import run_demo


async def test_demo_runs_explains_its_marked_rows_and_ends_with_a_moving_market() -> None:
    lines = "\n".join(await run_demo()).splitlines()
    assert lines[-1] == "demo finished"
    check_marked_rows(lines)
    check_moving_market(lines)


def check_marked_rows(lines: list[str]) -> None:
    # A row label ending in "*" (alice*) needs a legend line starting with "* " after it.
    marked = [index for index, line in enumerate(lines) if re.match(r"^\S+\*\s", line)]
    assert marked, "the demo shows the modified order as alice*"
    for index in marked:
        # The legend belongs to the same block: before the next blank line or table title.
        block = []
        for line in lines[index + 1 :]:
            if not line or line.startswith("== "):
                break
            block.append(line)
        legends = [line for line in block if line.startswith("* ")]
        assert legends, f"no legend for {lines[index]!r}"
        assert "modify" in legends[0]


def check_moving_market(lines: list[str]) -> None:
    start = lines.index(next(line for line in lines if line.startswith("== a market that moves")))
    section = lines[start:]
    trades = [line for line in section if line.startswith("  [trade] ")]
    assert len(trades) >= 3, "the flow's trades stream in"
    assert len({line.rsplit(" @ ", 1)[1] for line in trades}) >= 2, "at more than one price"
    # Alice's bid, one tick above the best, is filled by the flow as the maker.
    assert any(line.startswith("  [alice] OrderMatched BUY") for line in section)
    fills = section[section.index("== alice: fills from the flow (GET /v2/trades)") + 3 :]
    assert fills[0].split()[0] == "BUY" and fills[0].split()[-1] == "MAKER"
