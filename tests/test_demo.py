"""``python -m coinflex_async demo``: runs end to end against the embedded simulator, and every
marked row of its tables is explained."""

from __future__ import annotations

import re

from coinflex_async._demo import run_demo


async def test_demo_runs_and_explains_its_marked_rows() -> None:
    lines = "\n".join(await run_demo()).splitlines()
    assert lines[-1] == "demo finished"
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
