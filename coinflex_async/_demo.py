"""The demo (``coinflex demo``, ``python -m coinflex_async demo``): the client against the
embedded simulator.

Starts :mod:`coinflex_async.sim` on a free loopback port and runs a short session through the
client: market data, then two accounts trading against each other (place, modify, fill, cancel),
their balances, positions and history, printed as tables; then a depth and an order stream over
the WebSocket printed live while the two trade; last, a market that moves by itself
(``RandomMarket``): its trades streaming in and Alice's bid filled by the flow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import coinflex_async as cf

__all__ = ["run_demo", "table"]

MARKET = "BTC-USD-SWAP-LIN"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: a title line, a header, a rule, the rows."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [f"\n== {title}", line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    if not cells:
        out.append("(none)")
    return "\n".join(out)


async def run_demo(out: list[str] | None = None) -> list[str]:
    """Run the demo session; return (and print) its lines."""
    from coinflex_async.sim import Simulator

    lines: list[str] = [] if out is None else out

    def show(text: str) -> None:
        lines.append(text)
        print(text)

    # Empty books first: the two accounts' orders are the whole market, so each step shows.
    async with Simulator(liquidity=False) as sim:
        show(f"coinflex_async {cf.__version__} demo against the local simulator at {sim.url}")
        alice = sim.create_account(balances={"USD": "100000", "BTC": "2"})
        bob = sim.create_account(balances={"USD": "100000", "BTC": "2"})

        async with (
            cf.Client(base_url=sim.url) as public_client,
            cf.Client(alice.api_key, alice.api_secret, base_url=sim.url) as a,
            cf.Client(bob.api_key, bob.api_secret, base_url=sim.url) as b,
        ):
            public = public_client.public
            show(f"\nping: {await public.ping()}")
            markets = await public.markets()
            show(
                table(
                    "markets (GET /v2/all/markets)",
                    ["market", "type", "tick", "qty step", "price"],
                    [
                        (m.market_code, m.type, m.tick_size, m.qty_increment, m.market_price)
                        for m in markets
                    ],
                )
            )

            # Alice bids below the market; Bob offers above it: nothing trades yet.
            bid = await a.private.place_order(
                market_code=MARKET,
                side=cf.Side.BUY,
                quantity="0.25",
                order_type=cf.OrderType.LIMIT,
                price="49900",
            )
            ask = await b.private.place_order(
                market_code=MARKET,
                side=cf.Side.SELL,
                quantity="0.1",
                order_type=cf.OrderType.LIMIT,
                price="50100",
            )
            extra = await b.private.place_order(
                market_code=MARKET,
                side=cf.Side.SELL,
                quantity="0.2",
                order_type=cf.OrderType.LIMIT,
                price="50500",
            )
            book = await public.depth(MARKET, level=5)
            show(
                table(
                    f"order book {MARKET} (GET /v2/depth)",
                    ["side", "price", "quantity"],
                    [("ask", lvl.price, lvl.quantity) for lvl in reversed(book.asks)]
                    + [("bid", lvl.price, lvl.quantity) for lvl in book.bids],
                )
            )

            # Alice raises her bid through Bob's offer: 0.1 fills, 0.15 keeps working.
            modified = await a.private.modify_order(
                order_id=bid.order_id, market_code=MARKET, price="50100"
            )
            show(
                table(
                    "orders placed and modified (POST /v2/orders/place, /modify)",
                    ["who", "client order id", "order id", "side", "qty", "price", "status"],
                    [
                        (
                            "alice",
                            bid.client_order_id,
                            bid.order_id,
                            bid.side,
                            bid.quantity,
                            bid.price,
                            bid.notice or bid.status,
                        ),
                        (
                            "bob",
                            ask.client_order_id,
                            ask.order_id,
                            ask.side,
                            ask.quantity,
                            ask.price,
                            ask.notice or ask.status,
                        ),
                        (
                            "bob",
                            extra.client_order_id,
                            extra.order_id,
                            extra.side,
                            extra.quantity,
                            extra.price,
                            extra.notice or extra.status,
                        ),
                        (
                            "alice*",
                            modified.client_order_id,
                            modified.order_id,
                            modified.side,
                            modified.quantity,
                            modified.price,
                            modified.notice or modified.status,
                        ),
                    ],
                )
            )
            show(
                "* alice's bid after POST /v2/orders/modify raised its price: modify replaces"
                " the order (a new order id, the same client order id)"
            )
            cancelled = await b.private.cancel_order(market_code=MARKET, order_id=extra.order_id)
            show(f"\nbob cancels {cancelled.order_id}: {cancelled.status or cancelled.notice}")

            for name, client in (("alice", a), ("bob", b)):
                balances = await client.private.balances()
                show(
                    table(
                        f"{name}: balances (GET /v2/balances)",
                        ["asset", "total", "available", "reserved"],
                        [(x.instrument_id, x.total, x.available, x.reserved) for x in balances],
                    )
                )
                positions = await client.private.positions()
                show(
                    table(
                        f"{name}: positions (GET /v2/positions)",
                        ["instrument", "quantity", "entry price", "pnl"],
                        [
                            (p.instrument_id, p.quantity, p.entry_price, p.position_pnl)
                            for p in positions
                        ],
                    )
                )
            trades = await a.private.trades(MARKET)
            show(
                table(
                    "alice: trades (GET /v2/trades)",
                    ["match id", "side", "qty", "price", "fees", "maker/taker"],
                    [
                        (
                            t.match_id,
                            t.side,
                            t.match_quantity,
                            t.match_price,
                            t.fees,
                            t.order_match_type,
                        )
                        for t in trades
                    ],
                )
            )
            history = await b.private.orders(market_code=MARKET)
            show(
                table(
                    "bob: order history (GET /v2.1/orders)",
                    ["order id", "status", "side", "qty", "price", "filled"],
                    [
                        (o.order_id, o.status, o.side, o.quantity, o.price, o.filled_quantity)
                        for o in history
                    ],
                )
            )
            open_orders = await a.private.open_orders()
            show(
                table(
                    "alice: open orders (GET /v2/orders)",
                    ["order id", "side", "qty", "remaining", "price"],
                    [
                        (o.order_id, o.side, o.quantity, o.remaining_quantity, o.price)
                        for o in open_orders
                    ],
                )
            )
            tickers = [t for t in await public.ticker() if t.market_code == MARKET]
            show(
                table(
                    f"ticker {MARKET} (GET /v2/ticker)",
                    ["last", "mark", "24h volume", "last qty"],
                    [(t.last, t.mark_price, t.volume24h, t.last_qty) for t in tickers],
                )
            )
            try:
                await a.private.place_order(
                    market_code=MARKET, side="BUY", quantity="0.1", order_type="LIMIT"
                )
            except cf.ValidationError as exc:
                show(f"\nbad input is refused before sending: ValidationError: {exc}")
            await _live(a, b, sim.ws_url, show)
    await _moving_market(show)
    show("\ndemo finished")
    return lines


async def _live(a: cf.Client, b: cf.Client, ws_url: str, show: Callable[[str], None]) -> None:
    """Alice watches the book and her orders over the WebSocket while the two trade."""
    show(f"\n== live over the WebSocket ({ws_url}): depthL5:{MARKET} and alice's order:all")
    async with a.stream() as ws:
        books = await ws.subscribe(f"depthL5:{MARKET}")
        orders = await ws.subscribe("order:all")
        seen_orders: list[cf.OrderEvent] = []

        async def print_books() -> None:
            last = None
            async for book in books:
                top = (book.bids[:1], book.asks[:1])
                if top != last:  # a book comes every 50 ms: show it when the top changes
                    last = top
                    bid = f"{book.bids[0].quantity} @ {book.bids[0].price}" if book.bids else "-"
                    ask = f"{book.asks[0].quantity} @ {book.asks[0].price}" if book.asks else "-"
                    show(f"  [depth #{book.seq_num}] best bid {bid} | best ask {ask}")

        async def print_orders() -> None:
            async for event in orders:
                seen_orders.append(event)
                match = f" match {event.match_quantity} @ {event.match_price}" * bool(
                    event.match_id
                )
                show(
                    f"  [order] {event.notice} {event.side} {event.quantity} @ {event.price}"
                    f" id {event.order_id} ({event.status}){match}"
                )

        watchers = [asyncio.ensure_future(print_books()), asyncio.ensure_future(print_orders())]
        try:
            await asyncio.sleep(0.2)
            # Bob sells into Alice's resting bid (over REST); Alice's order channel shows the fill.
            await b.private.place_order(
                market_code=MARKET, side="SELL", quantity="0.05", order_type="LIMIT", price="50100"
            )
            # Alice offers and withdraws over the WebSocket.
            offer = await ws.place_order(
                market_code=MARKET, side="SELL", quantity="0.02", order_type="LIMIT", price="50400"
            )
            show(f"  ws.place_order -> {offer.order_id} (client order id {offer.client_order_id})")
            await asyncio.sleep(0.2)
            await ws.cancel_order(market_code=MARKET, order_id=offer.order_id)
            for _ in range(40):  # until the three order updates arrived (at most 2 s)
                if len(seen_orders) >= 3:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
        finally:
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)


async def _moving_market(
    show: Callable[[str], None], watch: float = 2.0, wait: float = 5.0
) -> None:
    """A market that moves by itself (``RandomMarket``): its trades stream in, and a bid of
    Alice's one tick above the best bid is filled by the flow's next seller (watched for
    ``watch`` seconds, and up to ``wait`` until the fill)."""
    from coinflex_async.sim import RandomMarket, Simulator

    market = RandomMarket(seed=7, trades_per_second=5.0, markets=[MARKET])
    show(f"\n== a market that moves: Simulator(market=RandomMarket(seed=7)), {MARKET}")
    async with Simulator(market=market) as sim:
        alice = sim.create_account(balances={"USD": "100000"})
        async with cf.Client(alice.api_key, alice.api_secret, base_url=sim.url) as client:
            async with client.stream() as ws:
                feed = await ws.subscribe(f"trade:{MARKET}", "order:all")
                printer = asyncio.ensure_future(_print_flow(feed, show))
                try:
                    clock = asyncio.get_running_loop().time
                    started = clock()
                    order_id = await _outbid(client, None)
                    while clock() - started < (watch if order_id is None else wait):
                        await asyncio.sleep(0.5)
                        if order_id is not None:  # not filled yet: keep it the best bid
                            order_id = await _outbid(client, order_id)
                finally:
                    printer.cancel()
                    await asyncio.gather(printer, return_exceptions=True)
            fills = await client.private.trades(MARKET)
        show(
            table(
                "alice: fills from the flow (GET /v2/trades)",
                ["side", "qty", "price", "maker/taker"],
                [(t.side, t.match_quantity, t.match_price, t.order_match_type) for t in fills],
            )
        )


async def _outbid(client: cf.Client, order_id: str | None) -> str | None:
    """Rest (or move) Alice's 0.05 bid one tick above the best bid; None once it is filled."""
    book = await client.public.depth(MARKET, level=1)
    price = book.bids[0].price + Decimal("0.5")  # the swap's tick
    if order_id is None:
        placed = await client.private.place_order(
            market_code=MARKET, side="BUY", quantity="0.05", order_type="LIMIT", price=price
        )
        return placed.order_id
    if not any(o.order_id == order_id for o in await client.private.open_orders()):
        return None
    with contextlib.suppress(cf.APIError):  # filled in the meantime: nothing to move
        moved = await client.private.modify_order(
            order_id=order_id, market_code=MARKET, price=price, quantity="0.05"
        )
        return moved.order_id
    return None


async def _print_flow(feed: Any, show: Callable[[str], None]) -> None:
    async for event in feed:
        if isinstance(event, cf.TradeEvent):
            show(f"  [trade] {event.side:<4} {event.quantity} @ {event.price}")
        elif isinstance(event, cf.OrderEvent) and event.notice in ("OrderOpened", "OrderMatched"):
            match = f": {event.match_quantity} @ {event.match_price}" * bool(event.match_id)
            show(f"  [alice] {event.notice} BUY {event.quantity} @ {event.price}{match}")
