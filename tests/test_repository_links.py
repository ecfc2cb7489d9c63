"""No file of the repository points outside it, and every relative link in it resolves.

A user has only the repository: a link to ``../shared/API.md`` (as the README once had) or to
an absolute path on the machine that wrote it is a dead end. ``mkdocs build --strict`` checks
the links between pages of docs/; this test checks every Markdown file of the repository (the
README, RELIABILITY.md, benchmarks/PROFILE.md, docs/ ...) and mkdocs.yml.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# [text](target) and ![alt](target), <a href="target">, <img src="target">, and reference
# definitions "[name]: target".
INLINE_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
# Where the project's reference texts live on the machines that wrote it, outside the repository.
OUTSIDE_PLACES = ("../shared/", "/work/shared")
EXTERNAL = ("http://", "https://", "mailto:")
SKIPPED_DIRS = {".git", ".venv", ".nox", "site", "node_modules", "__pycache__"}


def tracked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        return [
            path
            for path in REPO.rglob("*")
            if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(REPO).parts)
        ]
    return [REPO / name for name in listed.decode().split("\0") if name]


def documents() -> list[Path]:
    return [path for path in tracked_files() if path.suffix == ".md" or path.name == "mkdocs.yml"]


def link_targets(text: str) -> list[str]:
    # Code blocks show commands and output, not links.
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    found = INLINE_LINK.findall(prose) + HTML_LINK.findall(prose)
    return found + REFERENCE_DEFINITION.findall(prose)


def problem(document: Path, target: str) -> str | None:
    """Why ``target`` (a link in ``document``) is not a link into the repository, or None."""
    if target.startswith(EXTERNAL) or target.startswith("#"):
        return None
    path = target.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path) or path.startswith("file:"):
        return "an absolute path"
    resolved = (document.parent / path).resolve()
    if not resolved.is_relative_to(REPO):
        return "outside the repository"
    if not resolved.exists():
        return "a file that does not exist"
    return None


def test_the_documents_are_found() -> None:
    names = {path.relative_to(REPO).as_posix() for path in documents()}
    assert {"README.md", "mkdocs.yml", "docs/index.md"} <= names


@pytest.mark.parametrize("document", documents(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_link_stays_inside_the_repository_and_resolves(document: Path) -> None:
    bad = [
        f"{target}: {reason}"
        for target in link_targets(document.read_text(encoding="utf-8"))
        if (reason := problem(document, target)) is not None
    ]
    assert not bad, f"{document.relative_to(REPO)} links to {bad}"


def test_no_file_names_the_reference_texts_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path == Path(__file__).resolve():  # names them to look for them
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [
            f"{path.relative_to(REPO)}: {place}" for place in OUTSIDE_PLACES if place in text
        ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("../shared/API.md", "outside the repository"),
        ("/work/shared/API.md", "an absolute path"),
        ("docs/no-such-page.md", "a file that does not exist"),
        ("RELIABILITY.md#1-no-order-placed-twice", None),
        ("https://example.com/", None),
    ],
)
def test_the_check_tells_good_links_from_bad(target: str, reason: str | None) -> None:
    assert problem(REPO / "README.md", target) == reason
    assert link_targets(f"see [the text]({target}) here") == [target]
