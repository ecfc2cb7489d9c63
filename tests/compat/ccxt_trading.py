"""ccxt 1.90.1's ``coinflex``, unmodified, trading against the standalone simulator.

Runs in the Python 3.10 venv that holds ccxt (``benchmarks/.venv-ccxt``); started by
``tests/compat/run_ccxt.py``, which starts the simulator. It makes ccxt's v2 trading calls
(create_order, fetch_open_orders, fetch_orders, fetch_order, fetch_my_trades, edit_order,
cancel_order, cancel_all_orders) and checks what ccxt parsed from the answers; any failure
exits non-zero with the reason.

What the harness gives ccxt, without touching its code:
- its REST base URL, ``https://127.0.0.1:PORT``, and ``cafile`` for the simulator's
  certificate. ccxt signs its base URL less ``https://``, which over HTTPS is exactly the Host
  the simulator checks, as it was for the live exchange;
- its markets, through ``set_markets``: ccxt loads them from GET /v3/markets, which the v2
  simulator does not serve. They are built from the simulator's GET /v2/all/markets the way
  ccxt's own ``fetch_markets`` builds them from the v3 answer (v3's ``minSize`` is v2's
  ``qtyIncrement``; no market here has a ``settlementAt``).
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-not-found]

SWAP = "BTC/USD:USD"
SPOT = "BTC/USD"


def unified_market(item: dict[str, Any]) -> dict[str, Any]:
    """One v2 market item as ccxt 1.90.1's ``coinflex.fetch_markets`` would have parsed it."""
    market_type = item["type"]
    base, quote = item["base"], item["counter"]
    symbol = f"{base}/{quote}"
    kind = None
    if market_type == "SPOT":
        kind = "spot"
    elif market_type == "FUTURE":  # perpetual swaps: no settlementAt
        kind = "swap"
        symbol += ":" + quote
    else:  # REPO, SPREAD
        symbol = item["marketCode"]
    return {
        "id": item["marketCode"],
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "settle": quote,
        "baseId": base,
        "quoteId": quote,
        "settleId": quote,
        "type": kind,
        "spot": kind == "spot",
        "margin": False,
        "future": False,
        "swap": kind == "swap",
        "option": False,
        "active": True,
        "contract": kind == "swap",
        "linear": True if kind == "swap" else None,
        "inverse": False if kind == "swap" else None,
        "contractSize": None,
        "expiry": None,
        "expiryDatetime": None,
        "strike": None,
        "optionType": None,
        "precision": {
            "amount": float(item["qtyIncrement"]),
            "price": float(item["tickSize"]),
        },
        "limits": {
            "leverage": {"min": None, "max": None},
            "amount": {"min": None, "max": None},
            "price": {
                "min": float(item["lowerPriceBound"]),
                "max": float(item["upperPriceBound"]),
            },
            "cost": {"min": None, "max": None},
        },
        "info": item,
    }


class Checks:
    def __init__(self) -> None:
        self.count = 0

    def that(self, condition: bool, what: str, got: object = None) -> None:
        self.count += 1
        if not condition:
            raise AssertionError(f"{what}; got {got!r:.3000}")


async def v2_markets(url: str, cafile: str) -> list[dict[str, Any]]:
    context = ssl.create_default_context(cafile=cafile)
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(url + "/v2/all/markets") as response,
    ):
        response.raise_for_status()
        body = await response.json()
    return list(body["data"])


async def trade(exchange: Any, check: Checks) -> None:
    swap = exchange.market(SWAP)
    mark = Decimal(swap["info"]["marketPrice"])
    low, lower = float(mark * Decimal("0.95")), float(mark * Decimal("0.96"))

    # create_order: ccxt sends no clientOrderId; the exchange assigns a numeric one.
    resting = await exchange.create_order(SWAP, "limit", "buy", 0.002, low)
    check.that(resting["id"] is not None and resting["status"] == "open", "limit order", resting)
    check.that(str(resting["clientOrderId"]).isdigit(), "assigned clientOrderId", resting)
    check.that((resting["amount"], resting["price"]) == (0.002, low), "amount, price", resting)
    check.that(resting["side"] == "buy" and resting["type"] == "limit", "side, type", resting)

    # Several at once: ccxt's nonce is the millisecond clock, so some may share a nonce. They
    # differ in price: two identical orders signed in one millisecond would be byte-identical
    # requests (ccxt's Timestamp header has whole seconds), which is what a replay looks like.
    batch = await asyncio.gather(
        *(exchange.create_order(SWAP, "limit", "buy", 0.001, lower - step) for step in range(4)),
        exchange.create_order(SPOT, "limit", "buy", 0.001, low),
    )
    check.that(all(order["status"] == "open" for order in batch), "concurrent orders", batch)
    client_ids = {order["clientOrderId"] for order in [resting, *batch]}
    check.that(len(client_ids) == 6, "each order its own clientOrderId", client_ids)

    # A market order takes the simulator's market maker's asks: a fill to fetch later.
    # (ccxt reads "filled" of a new order from matchQuantity, which the live exchange added to
    # FULL answers; the simulator answers as the docs' examples, without it: fetch_order has
    # the filled quantity.)
    taken = await exchange.create_order(SWAP, "market", "buy", 0.003)
    check.that((taken["status"], taken["remaining"]) == ("closed", 0.0), "market order", taken)

    open_orders = await exchange.fetch_open_orders(SWAP)
    open_ids = {order["id"] for order in open_orders}
    swap_ids = {resting["id"], *(order["id"] for order in batch[:4])}
    check.that(open_ids >= swap_ids, "fetch_open_orders lists the resting orders", open_orders)
    check.that(taken["id"] not in open_ids, "the filled order is not open", open_orders)
    listed = next(order for order in open_orders if order["id"] == resting["id"])
    # (ccxt takes an open order's price from limitPrice, which the live exchange filled in for
    # LIMIT orders; the docs' example, and so the simulator, has null there: read "price".)
    check.that(
        (listed["clientOrderId"], float(listed["info"]["price"]), listed["remaining"])
        == (resting["clientOrderId"], low, 0.002),
        "open order as placed",
        listed,
    )

    # Concurrent reads: ccxt signs them back to back, several in one millisecond, so with the
    # same nonce; the live exchange accepted that. They differ (limit), so their signatures
    # do: only a replay of the very same signed request is refused.
    views = await asyncio.gather(
        *(exchange.fetch_orders(SWAP, limit=limit) for limit in range(1, 11))
    )
    check.that(
        [len(view) for view in views] == [min(limit, 6) for limit in range(1, 11)],  # 6 so far
        "concurrent fetch_orders with limits 1..10",
        views,
    )

    history = await exchange.fetch_orders(SWAP)
    statuses = {order["id"]: order["status"] for order in history}
    check.that(statuses.get(taken["id"]) == "closed", "fetch_orders: filled is closed", history)
    check.that(statuses.get(resting["id"]) == "open", "fetch_orders: resting is open", history)
    one = await exchange.fetch_order(taken["id"], SWAP)
    check.that((one["id"], one["filled"]) == (taken["id"], 0.003), "fetch_order", one)

    trades = await exchange.fetch_my_trades(SWAP)
    mine = [fill for fill in trades if fill["order"] == taken["id"]]
    filled = sum(Decimal(str(fill["amount"])) for fill in mine)
    check.that(filled == Decimal("0.003"), "fetch_my_trades: the market order's fills", trades)
    check.that(
        all(fill["side"] == "buy" and fill["takerOrMaker"] == "taker" for fill in mine),
        "fills are taker buys",
        mine,
    )

    # edit_order is POST /v2/orders/modify: a new order id at the new price.
    edited = await exchange.edit_order(resting["id"], SWAP, "limit", "buy", 0.002, lower)
    check.that(edited["price"] == lower and edited["id"] != resting["id"], "edit_order", edited)

    cancelled = await exchange.cancel_order(edited["id"], SWAP)
    check.that(
        (cancelled["id"], cancelled["status"]) == (edited["id"], "canceled"),
        "cancel_order",
        cancelled,
    )

    answer = await exchange.cancel_all_orders(SWAP)
    check.that(answer["data"]["marketCode"] == "BTC-USD-SWAP-LIN", "cancel_all_orders", answer)
    check.that(await exchange.fetch_open_orders(SWAP) == [], "no open swap orders left")
    spot_open = await exchange.fetch_open_orders(SPOT)
    check.that([order["id"] for order in spot_open] == [batch[4]["id"]], "spot untouched")
    answer = await exchange.cancel_all_orders()
    check.that("msg" in answer["data"], "cancel_all_orders without a symbol", answer)
    check.that(await exchange.fetch_open_orders() == [], "no open orders at all")


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--api-secret", required=True)
    parser.add_argument("--cafile", required=True)
    args = parser.parse_args(argv)
    exchange = ccxt.coinflex(
        {
            "apiKey": args.api_key,
            "secret": args.api_secret,
            "cafile": args.cafile,
            # ccxt's throttle would space requests 120 ms apart; off, the concurrent orders
            # below go out together and some share a millisecond nonce, as they did live.
            "enableRateLimit": False,
            "urls": {"api": {"rest": args.url}},
        }
    )
    check = Checks()
    try:
        items = await v2_markets(args.url, args.cafile)
        exchange.set_markets([unified_market(item) for item in items])
        await trade(exchange, check)
    except Exception as error:  # report ccxt's own exceptions (ExchangeError ...) as they are
        print(f"ccxt {ccxt.__version__} against the simulator FAILED after {check.count} checks:")
        print(f"  {type(error).__name__}: {error}")
        return 1
    finally:
        await exchange.close()
    print(f"ccxt {ccxt.__version__} against the simulator: all {check.count} checks hold")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
