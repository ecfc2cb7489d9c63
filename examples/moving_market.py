"""Test a bot against a moving market: ``RandomMarket`` under a ``ManualClock``.

A small market-making strategy rests one bid and one ask a little away from the best prices,
re-placing them every 5 seconds, for one simulated minute. The market (a house market maker
and takers arriving at random, seeded) fills them. Because the clock only moves when the test
says so, the same seed gives the same fills, so the test can assert on them exactly.

Run it: ``python examples/moving_market.py`` (it takes a second or two).
"""

import asyncio
import time
from decimal import Decimal

import coinflex_async as cf
from coinflex_async.sim import ManualClock, RandomMarket, Simulator

MARKET = "BTC-USD-SWAP-LIN"
QUANTITY = Decimal("0.2")
EDGE = Decimal(5)  # how far behind the best prices the bot rests (USD)


async def quote_once(client: cf.Client, round_number: int) -> dict[str, Decimal]:
    """The strategy: cancel what is left, rest a bid and an ask just behind the best prices.
    Returns each order's price by orderId."""
    await client.private.cancel_all_orders(MARKET)
    book = await client.public.depth(MARKET, level=5)
    bid, ask = book.bids[0].price - EDGE, book.asks[0].price + EDGE
    placed = await client.private.place_orders(
        [
            # Explicit clientOrderIds keep the fills identical from run to run.
            {"market_code": MARKET, "side": "BUY", "quantity": QUANTITY,
             "order_type": "LIMIT", "price": bid, "client_order_id": str(2 * round_number + 1)},
            {"market_code": MARKET, "side": "SELL", "quantity": QUANTITY,
             "order_type": "LIMIT", "price": ask, "client_order_id": str(2 * round_number + 2)},
        ]
    )  # fmt: skip
    return {r.order_id: r.price for r in placed if r.order_id and r.price is not None}


async def run(seed: int, start: float) -> tuple[list[cf.Trade], dict[str, Decimal], Decimal]:
    """One simulated minute of the strategy from ``start`` (epoch seconds); its fills, its
    orders' prices, its position."""
    market = RandomMarket(seed=seed, markets=[MARKET])
    # The client stamps requests with the real time while the manual clock runs ahead of it:
    # the simulator's timestamp tolerance and the client's recvWindow allow an hour of that.
    async with Simulator(market=market, clock=ManualClock(start), timestamp_tolerance=3600) as sim:
        bot = sim.create_account(balances={"USD": "100000"})
        async with cf.Client(
            bot.api_key, bot.api_secret, base_url=sim.url, recv_window=3_600_000
        ) as client:
            prices: dict[str, Decimal] = {}
            for round_number in range(12):
                prices |= await quote_once(client, round_number)
                await sim.advance(5)  # the market moves 5 seconds, then the loop sends pushes
            fills = await client.private.trades(MARKET)
            public = {trade.match_id for trade in await client.public.trades(MARKET, limit=300)}
        position = sim.account(bot.api_key).position(MARKET)
    assert {fill.match_id for fill in fills} <= public, "every fill is a public trade"
    return fills, prices, position


async def main() -> None:
    start = time.time()
    fills, prices, position = await run(seed=7, start=start)
    assert fills, "a minute of a moving market fills some of the bot's quotes"
    for fill in fills:
        # A resting order fills at its own price, as the maker.
        assert fill.order_match_type == "MAKER"
        assert fill.match_price == prices[fill.order_id]
    bought = sum(f.match_quantity for f in fills if f.side == "BUY")
    sold = sum(f.match_quantity for f in fills if f.side == "SELL")
    assert position == bought - sold
    # The same seed and the same actions: the very same fills.
    again, _, _ = await run(seed=7, start=start)
    assert again == fills
    for fill in sorted(fills, key=lambda f: f.match_timestamp):
        print(f"{fill.match_timestamp}  {fill.side:<4}  {fill.match_quantity} @ {fill.match_price}")
    print(f"{len(fills)} fills; position {position} BTC")


if __name__ == "__main__":
    asyncio.run(main())
