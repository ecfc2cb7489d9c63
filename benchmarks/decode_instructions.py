"""``python -m benchmarks.decode_instructions [--tree DIR]``: CPU instructions per decode of the
answers that carry identifiers (REST public trades, a place-order answer, a depth book for
comparison; a WebSocket order update and trade), counted by valgrind's callgrind.

Why instructions: identifiers are read from JSON strings or numbers (``models._base.Id``), at
the cost of a generated ``__post_init__`` per model with ids; the change per decode is a few
percent, under the run-to-run noise of CPU time on a shared machine. ``--tree`` measures another
checkout's package (e.g. ``git archive <commit> coinflex_async benchmarks | tar -x -C /tmp/t``)
with this one's bodies, for a before/after. Needs ``valgrind``; about a minute per case.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from benchmarks.processes import PROJECT_ROOT, child_env
from benchmarks.ws_instructions import collected, per_message

# Case -> (decoder expression, body expression); both evaluated in _PROGRAM's namespace.
CASES = {
    "REST public trades (300)": (
        "decoder_for(Envelope[list[models.PublicTrade]])",
        "bodies['/v2/publictrades/' + MARKET_CODE]",
    ),
    "REST place_order answer": (
        "decoder_for(Envelope[list[models.OrderResult]])",
        "place_order_body('1234567')",
    ),
    "REST depth book (no ids)": (
        "decoder_for(Envelope[list[models.OrderBook]])",
        "bodies[f'/v2/depth/{MARKET_CODE}/{DEPTH_LEVELS}']",
    ),
    "WebSocket order update": ("TABLES['order'].message_decoder", "ORDER_UPDATE"),
    "WebSocket trade": ("TABLES['trade'].message_decoder", "TRADE"),
}
# Decodes per run: (small, large); the difference cancels start-up.
COUNTS = {"REST public trades (300)": (20, 120), "REST depth book (no ids)": (20, 120)}
DEFAULT_COUNTS = (2000, 12000)

ORDER_UPDATE = (
    b'{"table":"order","data":[{"notice":"OrderMatched","accountId":"1076","clientOrderId":"16",'
    b'"orderId":"1000000000000000001","price":"9600.0","quantity":"0.1","side":"BUY",'
    b'"status":"PARTIAL_FILL","marketCode":"BTC-USD-SWAP-LIN","timeInForce":"GTC",'
    b'"timestamp":"1592490254168","matchId":"448528458527567629","matchPrice":"9600.0",'
    b'"matchQuantity":"0.1","orderMatchType":"MAKER","remainQuantity":"0.9","orderType":"LIMIT",'
    b'"fees":"3.7","feeInstrumentId":"FLEX"}]}'
)
TRADE = (
    b'{"table":"trade","data":[{"tradeId":"2778148208082945","price":"5556.91","quantity":"5",'
    b'"side":"BUY","marketCode":"BTC-USD-SWAP-LIN","timestamp":"1594299886890"}]}'
)

_PROGRAM = """
import sys
sys.path.insert(0, {tree!r})
from coinflex_async import models
try:  # the stream's tables: coinflex_async.stream.protocol since the stream became a package
    from coinflex_async.stream.protocol import TABLES
except ImportError:  # an older tree (--tree): one module, _stream
    from coinflex_async._stream import _TABLES as TABLES
from coinflex_async.models._base import Envelope, decoder_for
ORDER_UPDATE, TRADE = {order_update!r}, {trade!r}
from benchmarks.payloads import build_bodies, place_order_body
from benchmarks.scenarios import DEPTH_LEVELS, MARKET_CODE
bodies = build_bodies()
decode = ({decoder}).decode
body = {body}
decode(body)
for _ in range({count}):
    decode(body)
"""
_CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")


def program(tree: str, case: str, count: int) -> str:
    """The Python program that decodes ``case``'s body ``count`` times with ``tree``'s package."""
    decoder, body = CASES[case]
    return _PROGRAM.format(
        tree=tree, decoder=decoder, body=body, count=count, order_update=ORDER_UPDATE, trade=TRADE
    )


def count_run(tree: str, case: str, count: int) -> int:
    """Instructions of one process decoding ``case``'s body ``count`` times."""
    done = subprocess.run(
        [*_CALLGRIND, sys.executable, "-c", program(tree, case, count)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=PROJECT_ROOT,
        check=True,
    )
    return collected(done.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tree", default=str(PROJECT_ROOT), help="the checkout to measure")
    args = parser.parse_args(argv)
    for case in CASES:
        few, many = COUNTS.get(case, DEFAULT_COUNTS)
        small = (few, count_run(args.tree, case, few))
        large = (many, count_run(args.tree, case, many))
        print(f"{case}: {per_message(small, large):,.0f} instructions a decode", flush=True)


if __name__ == "__main__":
    main()
