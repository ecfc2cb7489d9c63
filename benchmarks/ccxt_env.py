"""A Python 3.10 virtualenv with ccxt 1.90.1, the last ccxt release with CoinFLEX.

ccxt 1.90.1 needs Python <= 3.10, so it cannot share the project's interpreter. The venv lives in
``benchmarks/.venv-ccxt`` (gitignored) and is reused when it already holds ccxt 1.90.1.
Any failure returns ``None`` with the reason: the run then goes on without ccxt.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["CCXT_METHODS", "CCXT_VERSION", "VENV_DIR", "ensure_ccxt_python", "find_python310"]

CCXT_VERSION = "1.90.1"
CCXT_METHODS = (
    "ccxt calls: ping = fetch_status (GET /v2/ping), trades = fetch_trades (GET /v2/publictrades),"
    " candles = fetch_ohlcv (GET /v3/candles), depth = fetch_order_book (GET /v3/depth),"
    " balances = fetch_balance (signed GET /v3/account), place_order = create_order (signed POST"
    " /v2/orders/place); markets loaded once, untimed. It runs on Python 3.10 with aiohttp 3.10"
    " (ccxt 1.90.1 needs Python <= 3.10), the others on this interpreter"
)
VENV_DIR = Path(__file__).resolve().parent / ".venv-ccxt"
_INSTALL_TIMEOUT_S = 420


def _is_python310(python: str) -> bool:
    try:
        completed = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return completed.stdout.strip() == "True"


def find_python310() -> str | None:
    """A working Python 3.10: pyenv's builds first (its shims fail unless 3.10 is selected)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(glob.glob(str(pyenv_root / "versions" / "3.10*" / "bin" / "python3.10")))
    candidates.reverse()  # the newest patch release first
    candidates += [
        path
        for path in (shutil.which("python3.10"), "/usr/bin/python3.10", "/usr/local/bin/python3.10")
        if path
    ]
    if sys.version_info[:2] == (3, 10):
        candidates.insert(0, sys.executable)
    for candidate in candidates:
        if _is_python310(candidate):
            return candidate
    return None


def _venv_python(venv_dir: Path) -> Path:
    if sys.platform == "win32":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def _has_ccxt(python: Path) -> bool:
    if not python.exists():
        return False
    completed = subprocess.run(
        [str(python), "-c", "import ccxt.async_support, sys; sys.stdout.write(ccxt.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return completed.returncode == 0 and completed.stdout.strip() == CCXT_VERSION


def ensure_ccxt_python(venv_dir: Path = VENV_DIR) -> tuple[str | None, str]:
    """``(interpreter with ccxt 1.90.1, note)``, or ``(None, why not)``."""
    python = _venv_python(venv_dir)
    try:
        if _has_ccxt(python):
            return str(python), f"ccxt {CCXT_VERSION} from {venv_dir}"
        base = find_python310()
        if base is None:
            return (
                None,
                "ccxt skipped: no Python 3.10 interpreter found (ccxt 1.90.1 needs <= 3.10)",
            )
        print(f"setting up ccxt {CCXT_VERSION} in {venv_dir} with {base} ...", file=sys.stderr)
        subprocess.run([base, "-m", "venv", "--clear", str(venv_dir)], check=True, timeout=120)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"ccxt=={CCXT_VERSION}",
            ],
            check=True,
            timeout=_INSTALL_TIMEOUT_S,
        )
        if not _has_ccxt(python):
            return None, f"ccxt skipped: ccxt {CCXT_VERSION} does not import in {venv_dir}"
        return str(python), f"ccxt {CCXT_VERSION} installed in {venv_dir}"
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"ccxt skipped: setting up {venv_dir} failed: {error}"
