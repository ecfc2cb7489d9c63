"""The types catch mistakes: ``mypy --strict`` flags each of the typical mistakes in
mistakes.py on its marked line (and nothing else there), and finds nothing in correct.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
MISTAKES = HERE / "mistakes.py"
CORRECT = HERE / "correct.py"

MARKER = re.compile(r"# expect-error: ([a-z-]+)\s*$")
ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")

pytest.importorskip("mypy", reason="mypy (in the test extra) checks the types")


def expected_errors() -> dict[int, str]:
    """Line number -> the error code its ``# expect-error: <code>`` marker names."""
    lines = MISTAKES.read_text(encoding="utf-8").splitlines()
    return {
        number: match.group(1)
        for number, line in enumerate(lines, start=1)
        if (match := MARKER.search(line))
    }


@pytest.fixture(scope="module")
def mypy_errors() -> dict[str, dict[int, set[str]]]:
    """File name -> line -> the error codes mypy reports there, from one run on both files."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--show-error-codes",
            "--no-pretty",
            "--no-error-summary",
            str(MISTAKES.relative_to(ROOT)),
            str(CORRECT.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # 0: no errors, 1: errors found; anything else is mypy itself failing.
    assert run.returncode in (0, 1), run.stdout + run.stderr
    errors: dict[str, dict[int, set[str]]] = {MISTAKES.name: {}, CORRECT.name: {}}
    for line in run.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            by_line = errors[Path(match["path"]).name]
            by_line.setdefault(int(match["line"]), set()).add(match["code"])
        else:
            assert ": note: " in line, f"unexpected mypy output: {line}"
    return errors


def test_the_mistakes_file_has_at_least_twenty_mistakes() -> None:
    assert len(expected_errors()) >= 20


def test_each_mistake_is_flagged_on_its_line_with_its_code(
    mypy_errors: dict[str, dict[int, set[str]]],
) -> None:
    found = mypy_errors[MISTAKES.name]
    missed = {
        line: code for line, code in expected_errors().items() if code not in found.get(line, ())
    }
    assert missed == {}, f"mistakes mypy did not flag (line: expected code): {missed}"


def test_nothing_but_the_mistakes_is_flagged(mypy_errors: dict[str, dict[int, set[str]]]) -> None:
    unmarked = {
        line: codes
        for line, codes in mypy_errors[MISTAKES.name].items()
        if line not in expected_errors()
    }
    assert unmarked == {}


def test_correct_usage_type_checks_clean(mypy_errors: dict[str, dict[int, set[str]]]) -> None:
    assert mypy_errors[CORRECT.name] == {}
