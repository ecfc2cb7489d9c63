"""``coinflex`` and ``python -m coinflex_async``: dispatches to the demo, the simulator or the
command line (``_cli``, which needs the ``cli`` extra). Nothing imports this module."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

__all__ = ["main"]


_NEEDS_EXTRA = (
    'coinflex: error: this command needs the command-line extra: pip install "coinflex_async[cli]"'
)


def main(argv: Sequence[str] | None = None) -> int:
    """``coinflex`` / ``python -m coinflex_async``.

    ``demo`` and ``sim`` run with the core install alone; every other command is in
    ``coinflex_async._cli``, which needs the ``cli`` extra (click, rich).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sim"]:
        from coinflex_async.sim.__main__ import main as sim_main

        return sim_main(args[1:], prog="coinflex sim")
    try:
        from coinflex_async._cli import main as cli_main
    except ImportError as exc:
        if exc.name not in ("click", "rich"):
            raise
        return _plain_main(args)
    return cli_main(args)


def _plain_main(args: list[str]) -> int:
    """Without the extra: ``demo`` (and ``sim`` above) only."""
    parser = argparse.ArgumentParser(
        prog="coinflex",
        epilog='Market data, account and history commands: pip install "coinflex_async[cli]"',
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the client against the embedded simulator")
    commands.add_parser("sim", help="serve the local simulated exchange")
    if args[:1] and not args[0].startswith("-") and args[0] not in ("demo", "sim"):
        print(_NEEDS_EXTRA, file=sys.stderr)
        return 2
    parsed = parser.parse_args(args)
    if parsed.command == "demo":
        from coinflex_async._demo import run_demo

        asyncio.run(run_demo())
    return 0


if __name__ == "__main__":
    sys.exit(main())
