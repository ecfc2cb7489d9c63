"""The ``coinflex_sim`` fixture as a user gets it: pytest run in a fresh directory of its own
(no pyproject, no ini, so pytest-asyncio is in its default strict mode), in a subprocess, with
the plugin found through the package's ``pytest11`` entry point.

``nox -s plugin_project`` does the same from a fresh venv with only ``.[pytest]`` installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coinflex_async.sim.pytest_plugin import MISSING_PYTEST_ASYNCIO

USER_TESTS = textwrap.dedent(
    """
    import coinflex_async as cf


    async def test_balances(coinflex_sim):
        account = coinflex_sim.create_account(balances={"USD": "1000"})
        async with cf.Client(
            account.api_key, account.api_secret, base_url=coinflex_sim.url
        ) as client:
            balances = await client.private.balances()
        assert [(b.instrument_id, str(b.total)) for b in balances] == [("USD", "1000")]


    class TestGrouped:
        async def test_ping(self, coinflex_sim):
            async with cf.Client(base_url=coinflex_sim.url) as client:
                assert await client.public.ping() is True


    def test_plain():
        assert True
    """
)


# Shadows the installed pytest-asyncio when its directory comes first on sys.path.
NOT_INSTALLED = (
    "raise ModuleNotFoundError(\"No module named 'pytest_asyncio'\", name='pytest_asyncio')\n"
)


def run_pytest(directory: Path, *, hide_pytest_asyncio: bool = False) -> str:
    """pytest's output for ``directory``, run the way a user runs it there."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    env = dict(os.environ)
    if hide_pytest_asyncio:
        # As if it were not installed: importing it fails, and the plugins installed with it
        # (pytest-asyncio itself, pytest-aiohttp) are not loaded.
        hidden = directory / "_hidden"
        hidden.mkdir()
        (hidden / "pytest_asyncio.py").write_text(NOT_INSTALLED)
        env["PYTHONPATH"] = str(hidden)
        command += ["-p", "no:asyncio", "-p", "no:aiohttp"]
    finished = subprocess.run(
        command,
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return finished.stdout + finished.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    return tmp_path


def test_a_plain_async_test_gets_the_fixture_without_any_configuration(project: Path) -> None:
    output = run_pytest(project)
    assert "3 passed" in output, output


def test_pytest_plugins_in_a_conftest_still_works_next_to_the_entry_point(project: Path) -> None:
    (project / "conftest.py").write_text('pytest_plugins = ["coinflex_async.sim.pytest_plugin"]\n')
    output = run_pytest(project)
    assert "3 passed" in output, output


def test_without_pytest_asyncio_the_fixture_says_what_to_install(project: Path) -> None:
    output = run_pytest(project, hide_pytest_asyncio=True)
    assert "ModuleNotFoundError" not in output, output
    assert MISSING_PYTEST_ASYNCIO in output, output
    assert "2 errors" in output and "1 passed" in output, output
