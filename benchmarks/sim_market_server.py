"""``python -m benchmarks.sim_market_server``: a simulator on the real clock (every default
market) whose ``RandomMarket`` the benchmark pauses and resumes through stdin.

Why: two processes, one with the market and one without, answered with p99s that differed by
-3.4..+1.6 ms from run to run on the shared machine -- noise above the 1 ms budget. One process
with the same warm state, the market running in some rounds and paused in the others, and the
rounds interleaved, puts the machine's load on both sets alike.

Protocol: it prints ``coinflex-sim``'s banner lines (``... listening on URL``, ``websocket:``,
``api key:``, ``api secret:``), then reads lines from stdin: ``pause`` and ``run`` are
answered ``paused`` and ``running`` once in effect; end of input stops it. While it runs it
also measures the event loop's lag (how late a 5 ms timer fires: what a request waits behind
whatever else the loop does); ``lag`` is answered ``lag RUNNING_MS PAUSED_MS`` (JSON lists of
the lags so far, each set since the last ``lag``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading

from coinflex_async.sim import Clock, MarketDriver, RandomMarket, Simulator, Venue

__all__ = ["PausableMarket", "main"]

# While paused the runner wakes this often (seconds) to see whether it may go on: ~10 no-op
# wake-ups a second, against the market's ~50 steps a second.
_POLL = 0.1
# The lag probe's timer, seconds.
_PROBE = 0.005
BALANCES = {"USD": "1000000", "BTC": "100", "ETH": "1000", "FLEX": "1000000"}


class PausableMarket:
    """A market driver that runs another one unless paused. A pause longer than a second is
    skipped on resume (``RandomMarket`` carries on from now after a hold-up)."""

    def __init__(self, driver: MarketDriver) -> None:
        self._driver = driver
        self._clock: Clock | None = None
        self.paused = False

    def attach(self, venue: Venue) -> None:
        self._clock = venue.clock
        self._driver.attach(venue)

    def next_due(self) -> float | None:
        due = self._driver.next_due()
        if self.paused and due is not None:
            assert self._clock is not None
            return max(due, self._clock() + _POLL)
        return due

    def act(self, now: float) -> None:
        if not self.paused:
            self._driver.act(now)


async def _probe(market: PausableMarket, lags: dict[bool, list[float]]) -> None:
    """How late a ``_PROBE`` timer fires, in ms, filed under whether the market was paused."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(_PROBE)
        lags[market.paused].append(round((loop.time() - started - _PROBE) * 1000, 3))


async def _serve() -> None:
    market = PausableMarket(RandomMarket())
    lags: dict[bool, list[float]] = {False: [], True: []}
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "")

    async with Simulator(rate_limits=None, market=market) as sim:
        account = sim.create_account(BALANCES)
        print(f"CoinFLEX simulator listening on {sim.url}", flush=True)
        print(f"websocket:  {sim.ws_url}", flush=True)
        print(f"api key:    {account.api_key}", flush=True)
        print(f"api secret: {account.api_secret}", flush=True)
        threading.Thread(target=read_stdin, daemon=True).start()
        probe = asyncio.create_task(_probe(market, lags))
        try:
            while command := await commands.get():
                if command in ("pause", "run"):
                    market.paused = command == "pause"
                    print("paused" if market.paused else "running", flush=True)
                elif command == "lag":
                    running, paused = (
                        json.dumps(lags[p], separators=(",", ":")) for p in (False, True)
                    )
                    print(f"lag {running} {paused}", flush=True)
                    lags[False].clear()
                    lags[True].clear()
        finally:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)


def main() -> int:
    asyncio.run(_serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
