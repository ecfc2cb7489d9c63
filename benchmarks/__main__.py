"""``python -m benchmarks``: the whole suite (see ``benchmarks.cli``)."""

from benchmarks.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    raise SystemExit(main())
