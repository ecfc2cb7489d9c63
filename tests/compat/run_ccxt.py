"""``nox -s ccxt_compat``: ccxt 1.90.1's coinflex, unmodified, trades against the standalone
simulator.

1. The Python 3.10 venv with ccxt 1.90.1 (``benchmarks/.venv-ccxt``, the one ``nox -s bench``
   uses; built on first use from the machine's Python 3.10, see ``benchmarks/ccxt_env.py``).
   No ccxt is a failure here, not a skip: this session exists to run it.
2. A certificate for 127.0.0.1 from a throwaway CA (trustme): ccxt signs its base URL less
   ``https://``, so the simulator serves HTTPS and ccxt signs the host as it did live.
3. ``python -m coinflex_async.sim --port 0 --api-key K --api-secret S --tls-cert --tls-key``.
4. ``tests/compat/ccxt_trading.py`` in the ccxt venv: the trading calls and their checks.
5. The simulator stops on SIGTERM with exit status 0 and nothing on stderr.

Run from the repository root: ``python -m tests.compat.run_ccxt``.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import trustme

from benchmarks.ccxt_env import ensure_ccxt_python

REPO_ROOT = Path(__file__).resolve().parents[2]
TRADING_SCRIPT = Path(__file__).with_name("ccxt_trading.py")
_BANNER_TIMEOUT_S = 60
_TRADING_TIMEOUT_S = 300


def _write_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """(certificate chain, private key, CA certificate) for 127.0.0.1."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    chain, key, ca = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    chain.write_bytes(b"".join(pem.bytes() for pem in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    return chain, key, ca


def _read_url(simulator: subprocess.Popen[str]) -> str:
    """The URL from the simulator's banner (it prints it once listening)."""
    found: list[str] = []

    def read() -> None:
        assert simulator.stdout is not None
        for line in simulator.stdout:
            if " listening on " in line:
                found.append(line.rsplit(" on ", 1)[1].strip())
            if line.startswith("Press Ctrl-C"):
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(_BANNER_TIMEOUT_S)
    if not found:
        raise RuntimeError(f"the simulator printed no URL within {_BANNER_TIMEOUT_S} s")
    return found[0]


def _stop(simulator: subprocess.Popen[str]) -> tuple[int, str]:
    if simulator.poll() is None:
        simulator.send_signal(signal.SIGTERM)
    try:
        _, stderr = simulator.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        simulator.kill()
        _, stderr = simulator.communicate()
    return simulator.returncode, stderr


def main() -> int:
    started = time.monotonic()
    python, note = ensure_ccxt_python()
    print(note, flush=True)
    if python is None:
        return 1
    api_key, api_secret = secrets.token_hex(16), secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as folder:
        chain, key, ca = _write_certificate(Path(folder))
        command = [
            sys.executable, "-m", "coinflex_async.sim", "--port", "0",
            "--api-key", api_key, "--api-secret", api_secret,
            "--tls-cert", str(chain), "--tls-key", str(key),
        ]  # fmt: skip
        simulator = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = _read_url(simulator)
            print(f"simulator at {url}; running {TRADING_SCRIPT.name} with {python}", flush=True)
            trading = subprocess.run(
                [python, str(TRADING_SCRIPT), "--url", url, "--api-key", api_key,
                 "--api-secret", api_secret, "--cafile", str(ca)],
                timeout=_TRADING_TIMEOUT_S,
            )  # fmt: skip
        finally:
            status, stderr = _stop(simulator)
    if stderr:
        print(f"the simulator wrote to stderr:\n{stderr}")
    if status != 0:
        print(f"the simulator exited with status {status}")
    print(f"ccxt_compat took {time.monotonic() - started:.1f} s", flush=True)
    return 0 if trading.returncode == 0 and status == 0 and not stderr else 1


if __name__ == "__main__":
    sys.exit(main())
