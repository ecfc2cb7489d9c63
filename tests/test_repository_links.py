"""No file of the repository points outside it, and every relative link in it resolves.

A user has only the repository: a link to ``../shared/API.md`` (as the README once had) or to
an absolute path on the machine that wrote it is a dead end, and so is a mention of a document
the repository does not hold ("see API.md"). ``mkdocs build --strict`` checks the links between
pages of docs/; this test checks every Markdown file of the repository (the README,
RELIABILITY.md, benchmarks/PROFILE.md, docs/ ...) and mkdocs.yml: links resolve (anchors into
Markdown files included), and a repository path written as code (`` `tests/test_x.py` ``)
exists. Every tracked text file (code comments and docstrings too) names only documents the
repository has.
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
# A document named by its file name (README.md, RELIABILITY.md, API.md): upper-case names, as
# the project's documents are spelt.
DOCUMENT_NAME = re.compile(r"(?<![\w/.-])([A-Z][A-Z0-9_]*\.md)\b")
# ``STEM.md`` in benchmarks/report.py is a pattern (STEM: the results' name), not a document.
NOT_DOCUMENTS = {"STEM.md"}
# A path into the repository written as code in prose: `coinflex_async/_history.py`.
REPOSITORY_PATH = re.compile(
    r"`((?:coinflex_async|tests|benchmarks|docs|examples|tools|\.ci)/[^`\s]*)`"
)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
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


def prose_of(text: str) -> str:
    """``text`` without its fenced code blocks (they show commands and output, not links)."""
    return re.sub(r"```.*?```", "", text, flags=re.DOTALL)


def anchors(markdown: str) -> set[str]:
    """The anchors of a Markdown file's headings, as GitHub and mkdocs spell them: lower case,
    punctuation dropped, spaces as hyphens (``## 1. No order placed twice`` ->
    ``1-no-order-placed-twice``)."""
    return {
        re.sub(r"[^\w\- ]", "", heading.replace("`", "")).strip().lower().replace(" ", "-")
        for heading in HEADING.findall(prose_of(markdown))
    }


def link_targets(text: str) -> list[str]:
    prose = prose_of(text)
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
    fragment = target.partition("#")[2]
    markdown = resolved.read_text(encoding="utf-8") if resolved.suffix == ".md" else ""
    if fragment and markdown and fragment not in anchors(markdown):
        return "an anchor that does not exist"
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


def text_files() -> list[tuple[Path, str]]:
    found = []
    for path in tracked_files():
        if path == Path(__file__).resolve():  # names them to look for them
            continue
        try:
            found.append((path, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    return found


def test_every_document_named_is_in_the_repository() -> None:
    held = {path.name for path in tracked_files()}
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path, text in text_files()
        for name in DOCUMENT_NAME.findall(text)
        if name not in held and name not in NOT_DOCUMENTS
    ]
    assert not offenders, offenders


def ignored_by_git(path: str) -> bool:
    """Whether git ignores ``path``: an output the repository's tools write (results, venvs)."""
    done = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, timeout=60)
    return done.returncode == 0


@pytest.mark.parametrize("document", documents(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_repository_path_in_the_prose_exists(document: Path) -> None:
    prose = prose_of(document.read_text(encoding="utf-8"))
    missing = [
        path
        for path in REPOSITORY_PATH.findall(prose)
        # A test's node ID names its file: tests/test_x.py::test_y.
        if not (REPO / re.split("#|::", path)[0]).exists() and not ignored_by_git(path)
    ]
    assert not missing, f"{document.relative_to(REPO)} names {missing}"


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
        ("RELIABILITY.md#1-no-order-placed-twice-none-lost-silently", None),
        ("RELIABILITY.md#no-such-section", "an anchor that does not exist"),
        ("docs/guide/rate-limits.md#a-fleet-of-processes-limits-shared-through-redis", None),
        ("https://example.com/", None),
    ],
)
def test_the_check_tells_good_links_from_bad(target: str, reason: str | None) -> None:
    assert problem(REPO / "README.md", target) == reason
    assert link_targets(f"see [the text]({target}) here") == [target]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("the table of API.md (tests/api_table.py)", ["API.md"]),
        ("as DESIGN.md prescribes", ["DESIGN.md"]),
        ("see RELIABILITY.md, section 2", ["RELIABILITY.md"]),
        ("docs/guide/errors.md and tests/test_docs.py", []),
    ],
)
def test_the_check_finds_document_names(text: str, named: list[str]) -> None:
    assert DOCUMENT_NAME.findall(text) == named
    held = {path.name for path in tracked_files()}
    assert ("API.md" in held, "DESIGN.md" in held) == (False, False)


def test_anchors_are_spelt_as_the_sites_spell_them() -> None:
    assert anchors("## WebSocket: `client.stream()`\n## 1. No order placed twice\n") == {
        "websocket-clientstream",
        "1-no-order-placed-twice",
    }
