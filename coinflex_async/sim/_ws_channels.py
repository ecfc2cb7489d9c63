"""WebSocket subscriptions: which connection hears which channel, the periodic pushes (depth
every 50 ms, balance 250 ms, ticker and candles 500 ms, market 1 s) and the real-time ones
the engine's events drive (order, trade, position).

Each public message is encoded once per round and the same frame goes to every subscriber;
each connection gets one write per round. A depth snapshot is re-rendered only when its book
changed since the last round.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

from . import _wire_ws as wire
from ._accounts import Account, Position
from ._book import CANDLE_TIMEFRAMES, Candle, Market
from ._engine import Engine
from ._errors import SimError
from ._events import CancelAllEvent, EngineEvent, OrderEvent, PositionEvent, TradeEvent
from ._wire import liquidation_price
from ._ws_connection import Connection, text_frame

__all__ = ["WS_CANDLE_TIMEFRAMES", "Channels"]

# Depth channels and how many levels each carries (None: the whole book).
DEPTH_LEVELS: dict[str, int | None] = {"depth": None, "depthL5": 5, "depthL10": 10, "depthL25": 25}
WS_CANDLE_TIMEFRAMES = (60, 180, 300, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)
_CANDLE_CHANNELS = {f"candles{seconds}s": seconds for seconds in WS_CANDLE_TIMEFRAMES}
_PRIVATE = frozenset({"order", "balance", "position"})
_WHOLE_BOOK = 1_000_000

_PUBLIC_BY_MARKET = frozenset({"trade", "ticker", "market"})

_encoder = msgspec.json.Encoder()
# The order channel's failure notices show their amounts as JSON numbers.
_number_encoder = msgspec.json.Encoder(decimal_format="number")

Subscribers = dict[Connection, None]  # an insertion-ordered set
Json = dict[str, Any]


def _kind(name: str) -> str:
    if name in DEPTH_LEVELS:
        return "depth"
    if name in _CANDLE_CHANNELS:
        return "candles"
    return name


class Channels:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Public channel -> its subscribers, grouped by kind (depth, trade, ticker, ...).
        self.public: dict[str, dict[str, Subscribers]] = {
            kind: {} for kind in ("depth", "trade", "ticker", "candles", "market", "liquidationRFQ")
        }
        # Logged-in connections by account id (private channels, cancel-all notices).
        self.accounts: dict[str, Subscribers] = {}
        self._depth_cache: dict[tuple[str, int | None], tuple[tuple[int, int], str, str, int]] = {}
        self._seq_nums: dict[str, int] = {}

    # -- subscriptions ----------------------------------------------------------------------

    def check(self, channel: object, connection: Connection) -> str:
        """The channel named by one ``args`` value, or SimError (code, message)."""
        if not isinstance(channel, str) or not channel:
            raise SimError("20002", "args must be a list of channel names")
        name, _, key = channel.partition(":")
        if name == "liquidationRFQ" and not key:
            return channel
        if name in _PRIVATE:
            if not connection.logged_in:
                raise SimError("05001", "Your operation authority is invalid")
            if key == "all":
                return channel
            if name == "balance":
                if any(asset.instrument_id == key for asset in self.engine.assets):
                    return channel
                assert connection.account is not None
                if key in connection.account.balances:
                    return channel
                raise SimError("20002", f"Unknown asset in {channel}")
        elif name in ("ticker", "market") and key == "all":
            return channel
        elif not (name in DEPTH_LEVELS or name in _CANDLE_CHANNELS or name in _PUBLIC_BY_MARKET):
            raise SimError("20002", f"Unknown channel {name!r}")
        if key not in self.engine.markets:
            raise SimError("20015", "marketCode is invalid")
        return channel

    def add(self, connection: Connection, channel: str) -> None:
        connection.channels.add(channel)
        name = channel.partition(":")[0]
        if name not in _PRIVATE:
            self.public[_kind(name)].setdefault(channel, {})[connection] = None

    def remove(self, connection: Connection, channel: str) -> None:
        connection.channels.discard(channel)
        name = channel.partition(":")[0]
        if name in _PRIVATE:
            return
        group = self.public[_kind(name)]
        subscribers = group.get(channel)
        if subscribers is not None:
            subscribers.pop(connection, None)
            if not subscribers:
                del group[channel]

    def logged_in(self, connection: Connection) -> None:
        assert connection.account is not None
        self.accounts.setdefault(connection.account.account_id, {})[connection] = None

    def forget(self, connection: Connection) -> None:
        """A closed connection: out of every channel."""
        for channel in list(connection.channels):
            self.remove(connection, channel)
        if connection.account is not None:
            online = self.accounts.get(connection.account.account_id)
            if online is not None:
                online.pop(connection, None)
                if not online:
                    del self.accounts[connection.account.account_id]

    # -- real-time pushes (engine events) ---------------------------------------------------

    def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, TradeEvent):
            subscribers = self.public["trade"].get(f"trade:{event.market.code}")
            if subscribers:
                frame = text_frame(_encoder.encode(wire.trade_push(event.market, event.trade)))
                for connection in list(subscribers):
                    connection.send_frames([frame], ("trade",))
            return
        account = event.order.account if isinstance(event, OrderEvent) else event.account
        online = self.accounts.get(account.account_id)
        if not online:
            return
        if isinstance(event, OrderEvent):
            self._push_order(online, event)
        elif isinstance(event, PositionEvent):
            self._push_position(online, account, event.position)
        elif isinstance(event, CancelAllEvent):
            payload = _encoder.encode(wire.cancel_all_notice(event.timestamp))
            for connection in list(online):
                connection.send(payload, "CANCEL")

    def _push_order(self, online: Subscribers, event: OrderEvent) -> None:
        wanted = ("order:all", f"order:{event.order.market.code}")
        frame: bytes | None = None
        for connection in list(online):
            if wanted[0] in connection.channels or wanted[1] in connection.channels:
                if frame is None:
                    frame = text_frame(_encoder.encode(wire.order_push(event)))
                connection.send_frames([frame], ("order",))

    def push_order_notice(self, account: Account, market_code: str, notice: Json) -> None:
        """An order command's failure notice (CANCEL / AMEND) to the account's order channel."""
        online = self.accounts.get(account.account_id)
        if not online:
            return
        payload = _number_encoder.encode(notice)
        for connection in list(online):
            if "order:all" in connection.channels or f"order:{market_code}" in connection.channels:
                connection.send(payload, str(notice["event"]))

    def _push_position(self, online: Subscribers, account: Account, position: Position) -> None:
        now = self.engine.now_ms()
        single = f"position:{position.market.code}"
        for connection in list(online):
            if "position:all" in connection.channels:
                shown = [p for p in account.positions.values() if p.quantity or p is position]
                payload = self._position_payload(account, now, shown)
                connection.send(payload, "position")
            if single in connection.channels:
                connection.send(self._position_payload(account, now, [position]), "position")

    def _position_payload(self, account: Account, now: int, positions: list[Position]) -> bytes:
        equity = self.engine.risk.collateral_value(account)  # once, not once per position
        liquidation = {
            p.market.code: liquidation_price(self.engine, account, p, equity) for p in positions
        }
        return _encoder.encode(wire.position_push(account, now, positions, liquidation))

    # -- periodic pushes --------------------------------------------------------------------

    def push_depth(self, now: int) -> None:
        group = self.public["depth"]
        if not group:
            return
        seq_nums: dict[str, int] = {}
        rounds: dict[Connection, list[bytes]] = {}
        for channel, subscribers in group.items():
            name, _, code = channel.partition(":")
            market = self.engine.markets[code]
            seq_num = seq_nums.get(code)
            if seq_num is None:
                seq_num = seq_nums[code] = self._seq_nums.get(code, 0) + 1
                self._seq_nums[code] = seq_num
            frame = text_frame(self._depth_payload(market, DEPTH_LEVELS[name], seq_num, now))
            for connection in subscribers:
                frames = rounds.get(connection)
                if frames is None:
                    rounds[connection] = [frame]
                else:
                    frames.append(frame)
        for connection, frames in rounds.items():
            connection.send_frames(frames, ("depth",))

    def _depth_payload(self, market: Market, levels: int | None, seq_num: int, now: int) -> bytes:
        key = (market.code, levels)
        versions = (market.asks.version, market.bids.version)
        cached = self._depth_cache.get(key)
        if cached is None or cached[0] != versions:
            count = levels if levels is not None else _WHOLE_BOOK
            asks, bids = market.asks.depth(count), market.bids.depth(count)
            cached = (
                versions,
                wire.depth_levels(asks),
                wire.depth_levels(bids),
                wire.depth_checksum(asks, bids),
            )
            self._depth_cache[key] = cached
        text = wire.depth_push(market, seq_num, now, cached[1], cached[2], cached[3])
        return text.encode()

    def push_balances(self, now: int) -> None:
        for online in list(self.accounts.values()):
            for connection in list(online):
                wanted = [c for c in connection.channels if c.startswith("balance:")]
                if not wanted:
                    continue
                account = connection.account
                assert account is not None
                frames = [text_frame(self._balance_payload(account, c, now)) for c in wanted]
                connection.send_frames(frames, ("balance",))

    def _balance_payload(self, account: Account, channel: str, now: int) -> bytes:
        asset = channel.partition(":")[2]
        if asset == "all":
            balances: Iterable[Any] = account.balances.items()
        else:
            balances = [(asset, account.balance(asset))]
        return _encoder.encode(wire.balance_push(account, now, balances))

    def push_tickers(self, now: int) -> None:
        items: dict[str, Json] = {}

        def item(market: Market) -> Json:
            found = items.get(market.code)
            if found is None:
                found = items[market.code] = wire.ticker_item(market, now)
            return found

        def render(key: str) -> Json:
            markets = self.engine.markets.values() if key == "all" else [self.engine.markets[key]]
            return {"table": "ticker", "data": [item(market) for market in markets]}

        self._push_group("ticker", render)

    def push_candles(self, now: int) -> None:
        def render_channel(name: str, key: str) -> Json:
            seconds = _CANDLE_CHANNELS[name]
            market = self.engine.markets[key]
            return wire.candle_push(seconds, market, _current_candle(market, seconds, now), now)

        group = self.public["candles"]
        if group:
            self._push_rendered(
                group,
                {channel: render_channel(*channel.split(":", 1)) for channel in group},
                "candles",
            )

    def push_markets(self, now: int) -> None:
        def render(key: str) -> Json:
            markets = self.engine.markets.values() if key == "all" else [self.engine.markets[key]]
            return wire.market_push([wire.market_item(market) for market in markets])

        self._push_group("market", render)

    def _push_group(self, kind: str, render: Callable[[str], Json]) -> None:
        """One message per channel of ``kind``, rendered from its key (a market or all)."""
        group = self.public[kind]
        if group:
            messages = {channel: render(channel.partition(":")[2]) for channel in group}
            self._push_rendered(group, messages, kind)

    def _push_rendered(
        self, group: dict[str, Subscribers], messages: dict[str, Json], name: str
    ) -> None:
        rounds: dict[Connection, list[bytes]] = {}
        for channel, subscribers in group.items():
            frame = text_frame(_encoder.encode(messages[channel]))
            for connection in subscribers:
                rounds.setdefault(connection, []).append(frame)
        for connection, frames in rounds.items():
            connection.send_frames(frames, (name,))


def _current_candle(market: Market, seconds: int, now: int) -> Candle | None:
    """The candle of the period containing ``now``: the engine's own for the REST
    timeframes, else folded from the period's trades; None before any trade in it."""
    start = now - now % (seconds * 1000)
    if seconds in CANDLE_TIMEFRAMES:
        return market.candles[seconds].get(start)
    trades = market.trades_between(start, now)
    if not trades:
        return None
    prices = [trade.price for trade in trades]
    return Candle(
        start,
        prices[0],
        max(prices),
        min(prices),
        prices[-1],
        sum((t.price * t.quantity for t in trades), Decimal(0)),
        sum((t.quantity for t in trades), Decimal(0)),
    )
