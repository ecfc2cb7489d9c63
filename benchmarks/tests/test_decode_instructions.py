"""benchmarks.decode_instructions: each case's program decodes its body with this checkout
(run without valgrind here: the count itself needs valgrind and a minute a case)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.decode_instructions import CASES, program
from benchmarks.processes import PROJECT_ROOT, child_env


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_decodes_its_body(case: str) -> None:
    code = program(str(PROJECT_ROOT), case, 1) + "\nprint(type(decode(body)).__name__)\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in {"Envelope", "_OrderEventMessage", "_TradeEventMessage"}
