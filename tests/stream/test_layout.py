"""The stream's rooms keep their shape: each module a size a reader can hold, none imports the
client (the stream gets a StreamContext), and the rooms import each other without circles."""

from __future__ import annotations

import ast
from pathlib import Path

import coinflex_async.stream as stream_package

PACKAGE = Path(stream_package.__file__).parent
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")


def imports_of(path: Path) -> set[str]:
    """The modules ``path`` imports, as dotted names relative to coinflex_async."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = "stream" if node.level == 1 else ""
            found.add(f"{base}.{node.module}".strip(".") if node.module else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_each_room_is_a_size_a_reader_can_hold() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES}
    assert len(sizes) >= 8
    assert max(sizes.values()) < 400, sizes


def test_no_room_imports_the_client_or_its_resources() -> None:
    for path in MODULES:
        names = imports_of(path)
        assert not any(n.startswith(("_client", "resources")) for n in names), (path, names)


def test_the_rooms_import_each_other_without_circles() -> None:
    graph = {
        p.stem: {n.partition(".")[2] for n in imports_of(p) if n.startswith("stream.")}
        for p in MODULES
    }
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"import circle: {' -> '.join((*path, node))}"
        if node in done:
            return
        for nxt in graph.get(node, ()):
            visit(nxt, (*path, node))
        done.add(node)

    for node in graph:
        visit(node, ())
    assert "connection" not in graph["readers"] and "session" not in graph["routing"]


def test_no_room_repeats_an_attempt_by_hand() -> None:
    """Retries (asks asked again, commands made again on the next connection, reconnects) run
    on the one retry engine, ``_retry.run``: no loop in the stream catches an error and goes
    round again, and only the engine's callers read the policy's waits."""
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for loop in (n for n in ast.walk(tree) if isinstance(n, (ast.While, ast.For))):
            for handler in (n for n in ast.walk(loop) if isinstance(n, ast.ExceptHandler)):
                leaves = any(
                    isinstance(n, (ast.Return, ast.Raise, ast.Break)) for n in ast.walk(handler)
                )
                assert leaves, f"{path.name}:{handler.lineno}: an error caught in a loop"
        calls = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        if "wait_after" in calls:
            assert path.name == "retries.py", f"{path.name} reads the policy's waits itself"
    engine_users = {p.name for p in MODULES if "from .._retry import" in p.read_text("utf-8")}
    assert {"connection.py", "retries.py"} <= engine_users
