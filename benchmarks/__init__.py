"""Client CPU per request against floors, for coinflex_async: run as ``python -m benchmarks``.

The package must stay importable by the Python 3.10 interpreter that runs ccxt's workers, so this
module imports nothing and every module a worker loads uses only 3.10 syntax.
"""

__all__: list[str] = []
