"""``Simulator``: the exchange in a box, started and stopped with ``async with``."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import ssl
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import TracebackType

from aiohttp import web

from ._accounts import Account, Fees
from ._app import ExchangeApp
from ._auth import Authenticator
from ._clock import Clock, ManualClock, system_clock
from ._drivers import DriverRunner, HouseAccount, MarketDriver, Venue
from ._engine import Engine
from ._faults import Fault, FaultPlan
from ._ledger import FundingPayment, Ledger
from ._limits import RateLimiter, RateLimits, SimStats
from ._markets import DEFAULT_ASSETS, DEFAULT_MARKETS, FLEX_ASSETS, MarketSpec, MarketType
from ._numbers import ZERO, to_decimal
from ._requests import NewOrderRequest
from ._seed import SeededHistory, seed_history
from ._ws_gateway import WEBSOCKET_PATH, WebSocketGateway, WebSocketSettings

__all__ = ["DEFAULT_RATE_LIMITS", "SimAccount", "Simulator"]

DEFAULT_RATE_LIMITS = RateLimits()

# What the market maker of add_liquidity() and the standalone demo account start with.
_HOUSE_BALANCES = {
    "USD": "1000000000000",
    "BTC": "1000000000",
    "ETH": "1000000000",
    "FLEX": "1000000000",
}


class SimAccount:
    """One simulated account: its credentials, and a read-only view of its state for tests."""

    def __init__(self, engine: Engine, account: Account) -> None:
        self._engine = engine
        self._account = account

    @property
    def account_id(self) -> str:
        """The account's ID, as the exchange's answers carry it (``accountId``)."""
        return self._account.account_id

    @property
    def api_key(self) -> str:
        """The account's API key, for ``cf.Client(api_key, ...)``."""
        assert self._account.api_key is not None
        return self._account.api_key

    @property
    def api_secret(self) -> str:
        """The account's API secret, for ``cf.Client(..., api_secret)``."""
        assert self._account.api_secret is not None
        return self._account.api_secret

    def __repr__(self) -> str:
        return f"SimAccount(account_id={self.account_id!r}, api_key={self._account.api_key!r})"

    def balance(self, asset: str) -> Decimal:
        """Total balance of ``asset`` (available + reserved)."""
        balance = self._account.balances.get(asset)
        return balance.total if balance is not None else ZERO

    def available(self, asset: str) -> Decimal:
        """Balance of ``asset`` free to trade or withdraw (0 if none)."""
        balance = self._account.balances.get(asset)
        return balance.available if balance is not None else ZERO

    def reserved(self, asset: str) -> Decimal:
        """Balance of ``asset`` held by working orders (0 if none)."""
        balance = self._account.balances.get(asset)
        return balance.reserved if balance is not None else ZERO

    def position(self, market_code: str) -> Decimal:
        """Signed position quantity in a FUTURE or REPO market (0 if none)."""
        position = self._account.positions.get(market_code)
        return position.quantity if position is not None else ZERO

    def entry_price(self, market_code: str) -> Decimal:
        """Average entry price of the position in a FUTURE or REPO market (0 if none)."""
        position = self._account.positions.get(market_code)
        return position.entry_price if position is not None else ZERO

    @property
    def open_order_ids(self) -> list[str]:
        """IDs of the account's working orders."""
        return list(self._account.open_orders)

    @property
    def order_count(self) -> int:
        """How many orders the engine has accepted for this account."""
        return len(self._account.history)

    def orders_with_client_id(self, client_order_id: str) -> list[str]:
        """IDs of the accepted orders that carry ``client_order_id``, oldest first."""
        return [
            order.order_id for order in self._account.by_client_order_id.get(client_order_id, [])
        ]

    def deposit(self, asset: str, amount: Decimal | str | int) -> None:
        """Add (or, negative, remove) funds."""
        self._account.credit(asset, to_decimal(amount), self._engine.now_ms())


class Simulator:
    """A local CoinFLEX v2 exchange, REST and WebSocket, on ``host:port`` (port 0: a free one).

    >>> async with Simulator() as sim:                            # doctest: +SKIP
    ...     alice = sim.create_account(balances={"USD": "100000"})
    ...     print(sim.url, alice.api_key)

    ``rate_limits=None`` turns rate limiting off; ``clock`` replaces ``time.time`` (see
    ``ManualClock``); ``seed`` seeds the RNG of probabilistic faults;
    ``timestamp_tolerance`` is how far (seconds) a request's Timestamp may be from the clock
    (REST, and the WebSocket login); ``websocket`` sets the WebSocket API's cadences, keep-alive
    and limits (``WebSocketSettings``; by default the docs' limits, none if ``rate_limits`` is
    None); ``ssl_context`` (a server context with a certificate loaded) serves HTTPS and WSS
    instead of HTTP and WS, for clients that only speak HTTPS or sign their base URL less
    ``https://`` (ccxt).

    ``market`` moves the market (``RandomMarket``, ``Replay``; any ``MarketDriver``): on the
    real clock by itself, under a ``ManualClock`` only through ``await sim.advance(seconds)``.
    Without one the books start with ``add_liquidity()``'s resting orders, as ``coinflex-sim``
    does (``liquidity=False``: empty books), and move only through accounts' orders.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        markets: Sequence[MarketSpec] | None = None,
        rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS,
        clock: Clock | None = None,
        fees: Fees | None = None,
        seed: int | None = 0,
        timestamp_tolerance: float = 30.0,
        shutdown_timeout: float = 1.0,
        ssl_context: ssl.SSLContext | None = None,
        websocket: WebSocketSettings | None = None,
        market: MarketDriver | None = None,
        liquidity: bool = True,
    ) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self._requested_port = port
        self._port: int | None = None
        self.clock: Clock = clock if clock is not None else system_clock
        self.engine = Engine(
            markets if markets is not None else DEFAULT_MARKETS,
            DEFAULT_ASSETS,
            self.clock,
            fees if fees is not None else Fees(),
        )
        now = self.engine.now_ms()
        for listed in self.engine.markets.values():
            listed.mark_updated = now
        flex_accounts = {
            name: self.engine.create_account({}, _new_key(), _new_secret()) for name in FLEX_ASSETS
        }
        self.ledger = Ledger(self.engine, flex_accounts)
        self.stats = SimStats()
        self.faults = FaultPlan(seed, self.stats.faults_injected)
        self.rate_limits = rate_limits
        self._authenticator = Authenticator(self._find_account, self.clock, timestamp_tolerance)
        self._limiter = RateLimiter(rate_limits, self.stats)
        self.gateway = WebSocketGateway(
            engine=self.engine,
            faults=self.faults,
            stats=self.stats,
            settings=_websocket_settings(websocket, rate_limits),
            clock=self.clock,
            timestamp_tolerance=timestamp_tolerance,
        )
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self._client_ids = itertools.count(1)
        self._drivers = DriverRunner([market] if market is not None else [], self.clock)
        if market is not None:
            market.attach(self._venue())
        elif liquidity:
            self.add_liquidity()

    def _house_balances(self) -> dict[str, str]:
        """What a market maker starts with: plenty of USD and of every listed market's coin."""
        coins = {market.base: _HOUSE_BALANCES["BTC"] for market in self.engine.markets.values()}
        return {**coins, **_HOUSE_BALANCES}

    def _venue(self) -> Venue:
        def house() -> HouseAccount:
            account = self.create_account(self._house_balances())
            return HouseAccount(self.engine, self.engine.accounts[account.account_id])

        return Venue(self.engine, self.clock, maker=house(), taker=house())

    # -- lifecycle --------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application, for serving it some other way (e.g. ``aiohttp_server``)."""
        application = ExchangeApp(
            engine=self.engine,
            ledger=self.ledger,
            authenticator=self._authenticator,
            limiter=self._limiter,
            faults=self.faults,
            stats=self.stats,
        ).application
        # The gateway's push rounds and the market drivers start and stop with the application.
        self.gateway.install(application)
        application.on_startup.append(self._start_drivers)
        application.on_shutdown.append(self._stop_drivers)
        return application

    async def _start_drivers(self, application: web.Application) -> None:
        self._drivers.start()

    async def _stop_drivers(self, application: web.Application) -> None:
        await self._drivers.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        runner = web.AppRunner(
            self.make_app(), access_log=None, shutdown_timeout=self._shutdown_timeout
        )
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self.host, self._requested_port, ssl_context=self.ssl_context
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the simulator has not been started")
        return self._port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (``https://`` with ``ssl_context``), the base URL to give a
        client."""
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://HOST:PORT/v2/websocket`` (``wss://`` with ``ssl_context``), the WebSocket API
        on the same port."""
        scheme = "ws" if self.ssl_context is None else "wss"
        return f"{scheme}://{self.host}:{self.port}{WEBSOCKET_PATH}"

    # -- accounts ---------------------------------------------------------------------------

    def create_account(
        self,
        balances: Mapping[str, Decimal | str | int] | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> SimAccount:
        """A new account with these starting balances; key and secret are generated unless
        given."""
        account = self.engine.create_account(
            {asset: to_decimal(amount) for asset, amount in (balances or {}).items()},
            api_key if api_key is not None else _new_key(),
            api_secret if api_secret is not None else _new_secret(),
        )
        return SimAccount(self.engine, account)

    def account(self, api_key: str) -> SimAccount:
        found = self.engine.accounts_by_key.get(api_key)
        if found is None:
            raise KeyError("no account with this api_key")
        return SimAccount(self.engine, found)

    def flex_protocol_account(self, flex_protocol: str) -> SimAccount:
        """The account behind ``flexUSD`` / ``flexBTC`` / ``flexETH`` / ``flexFLEX``: mints
        deposit into it, and the public flex-protocol endpoints show it. Its key can trade."""
        return SimAccount(self.engine, self.ledger.flex_accounts[flex_protocol])

    def _find_account(self, api_key: str) -> Account | None:
        return self.engine.accounts_by_key.get(api_key)

    # -- market control ---------------------------------------------------------------------

    async def advance(self, seconds: float) -> None:
        """Under a ``ManualClock``: move the clock by ``seconds`` and the market with it (each
        driver acts at each of its due times, in time order), then let the event loop send
        the WebSocket pushes that caused. The same seed and the same user actions between
        calls give the same trades, books and fills."""
        if not isinstance(self.clock, ManualClock):
            raise RuntimeError("advance() needs clock=ManualClock(...)")
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._drivers.step_until(self.clock.now + seconds)
        # Pushes are queued by the engine's listeners; a few loop turns hand them to sockets.
        for _ in range(3):
            await asyncio.sleep(0)

    def inject(self, fault: Fault) -> Fault:
        """Arm a fault (see ``Fault``); ``sim.faults.clear()`` disarms all."""
        return self.faults.inject(fault)

    def set_mark_price(self, market_code: str, price: Decimal | str | int) -> None:
        """Move a market's mark price (and with it the sanity bounds); may trigger stops."""
        self.engine.set_mark_price(market_code, to_decimal(price))

    def add_liquidity(
        self,
        market_codes: Iterable[str] | None = None,
        *,
        levels: int = 5,
        quantity: Decimal | str | int | None = None,
    ) -> SimAccount:
        """Have a market maker rest ``levels`` bids and asks around each market's mark price
        (default ``1000 x qtyIncrement`` each). Returns the market maker's account."""
        maker = self.create_account(self._house_balances())
        codes = list(market_codes) if market_codes is not None else list(self.engine.markets)
        for code in codes:
            market = self.engine.market(code)
            tick = market.tick_size
            if market.type == MarketType.REPO:
                step = tick * 10
            else:
                step = max(
                    tick, (market.mark_price * Decimal("0.0005") / tick).to_integral_value() * tick
                )
            size = to_decimal(quantity) if quantity is not None else market.qty_increment * 1000
            for level in range(1, levels + 1):
                for side, price in (
                    ("BUY", market.mark_price - step * level),
                    ("SELL", market.mark_price + step * level),
                ):
                    if price <= 0 and market.type != MarketType.REPO:
                        continue
                    request = NewOrderRequest(
                        client_order_id=str(next(self._client_ids)),
                        market_code=code,
                        side=side,
                        quantity=size,
                        order_type="LIMIT",
                        time_in_force="MAKER_ONLY",
                        price=price.quantize(tick),
                    )
                    self.engine.place_order(self.engine.accounts[maker.account_id], request)
        return maker

    def apply_funding(
        self, market_code: str | None = None, rate: Decimal | str | None = None
    ) -> list[FundingPayment]:
        """One funding round for one swap (default: all). ``rate`` defaults to the REPO
        market's last rate or the market's configured rate."""
        return self.ledger.apply_funding(market_code, None if rate is None else to_decimal(rate))

    def run_delivery_auction(self) -> int:
        """Settle every pending delivery now; returns how many were settled or cancelled."""
        return len(self.ledger.run_delivery_auction())

    def seed_history(
        self,
        account: SimAccount,
        *,
        start: int,
        end: int,
        trades_per_day: int = 1000,
        seed: int = 0,
        market_code: str = "BTC-USD-SWAP-LIN",
        flex_asset: str = "flexUSD",
        collateral_asset: str = "BTC",
        events_per_day: int = 4,
        tie_share: float = 0.05,
    ) -> SeededHistory:
        """Write a long past for ``account`` between ``start`` and ``end`` (ms), the same for
        the same ``seed``: ``trades_per_day`` fills in ``market_code`` (each with its filled
        order, a public trade and the candles; ``tie_share`` of them share the previous fill's
        millisecond), an hourly funding rate and payment, and ``events_per_day`` each of mints
        and redemptions of ``flex_asset`` and borrows and repayments against
        ``collateral_asset``. History only: balances and positions stay as they are. Call it
        before trading in that market. Returns the counts written."""
        return seed_history(
            self.engine,
            self.ledger,
            self.engine.accounts[account.account_id],
            start=start,
            end=end,
            trades_per_day=trades_per_day,
            seed=seed,
            market_code=market_code,
            flex_asset=flex_asset,
            collateral_asset=collateral_asset,
            events_per_day=events_per_day,
            tie_share=tie_share,
        )


def _websocket_settings(
    websocket: WebSocketSettings | None, rate_limits: RateLimits | None
) -> WebSocketSettings:
    """Given settings as they are; else the docs' defaults, without limits when REST has
    none (``rate_limits=None`` turns rate limiting off everywhere)."""
    if websocket is not None:
        return websocket
    return WebSocketSettings() if rate_limits is not None else WebSocketSettings().without_limits()


def _new_key() -> str:
    return secrets.token_hex(16)


def _new_secret() -> str:
    return secrets.token_urlsafe(32)
