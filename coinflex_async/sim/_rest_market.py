"""Public REST endpoints: market data and the flex-protocol views."""

from __future__ import annotations

import bisect
from typing import Any

import msgspec
from aiohttp import web

from . import _wire as wire
from ._accounts import Account
from ._auth import parse_timestamp
from ._book import CANDLE_TIMEFRAMES
from ._errors import SimError
from ._markets import FLEX_ASSETS, MarketType
from ._rest_pipeline import Call, Handlers, newest
from ._wire_ws import ticker_item

__all__ = ["MarketDataHandlers"]

WEEK_MS = 7 * 86_400_000

# Only the depth endpoint shows numbers as JSON numbers: [price, quantity].
_number_encoder = msgspec.json.Encoder(decimal_format="number")


class MarketDataHandlers(Handlers):
    def _flex_account(self, call: Call) -> tuple[str, Account]:
        name = call.path_param("flexProtocol")
        account = self.ledger.flex_accounts.get(name)
        if account is None:
            raise SimError(
                "20001",
                "Invalid parameter: flexProtocol must be one of " + ", ".join(FLEX_ASSETS),
            )
        return name, account

    # -- public market data -----------------------------------------------------------------

    def ping(self, call: Call) -> Any:
        return {"success": "true"}

    def markets(self, call: Call) -> Any:
        data = [wire.market_item(market) for market in self.engine.markets.values()]
        return wire.envelope("markets", call.now, data)

    def assets(self, call: Call) -> Any:
        data = [wire.asset_item(asset) for asset in self.engine.assets]
        data += [
            wire.contract_asset_item(market)
            for market in self.engine.markets.values()
            if market.type != MarketType.SPOT
        ]
        return wire.envelope("assets", call.now, data)

    def public_trades(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 100, maximum=300, minimum=1)
        start, end = call.time_range(week=True)
        trades = market.trades_between(start, end)[-limit:]
        data = [wire.public_trade_item(market, trade) for trade in reversed(trades)]
        return wire.envelope("publicTrades", call.now, data, {"marketCode": market.code})

    def ticker(self, call: Call) -> Any:
        # A bare list, no envelope, each item as the WebSocket ticker's (with ``timestamp`` and
        # ``lastMarkPrice``): what the live exchange answered (hummingbot's fixtures of
        # 2022-02-22; both connectors read the answer as a list). The docs show an envelope.
        return [ticker_item(market, call.now) for market in self.engine.markets.values()]

    def public_funding(self, call: Call) -> Any:
        limit = call.integer("column", 100, maximum=1000, minimum=1)
        instrument = call.text("instrumentId")
        start = _funding_start(call.text("startTime"))
        data = []
        for record in reversed(self.ledger.public_funding):
            if instrument is not None and record.market_code != instrument:
                continue
            if record.timestamp < start:
                break
            data.append(wire.public_funding_item(record))
            if len(data) >= limit:
                break
        # The docs show this endpoint's answer as a bare list, without an envelope.
        return data

    def candles(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        timeframe_text = call.text("timeframe") or "3600s"
        seconds = (
            int(timeframe_text[:-1])
            if timeframe_text[:-1].isdigit() and timeframe_text.endswith("s")
            else 0
        )
        if seconds not in CANDLE_TIMEFRAMES:
            choices = ", ".join(f"{tf}s" for tf in CANDLE_TIMEFRAMES)
            raise SimError("20001", f"Invalid parameter: timeframe must be one of {choices}")
        limit = call.integer("limit", 500, maximum=5000, minimum=1)
        end = call.integer("endTime", call.now)
        start = call.integer("startTime", end - limit * seconds * 1000)
        starts = market.candle_starts[seconds]
        lo = bisect.bisect_left(starts, start)
        hi = bisect.bisect_right(starts, end)
        chosen = starts[max(lo, hi - limit) : hi]
        candles = market.candles[seconds]
        data = [wire.candle_item(market, candles[begin]) for begin in chosen]
        return wire.envelope("candles", call.now, data, {"timeframe": timeframe_text})

    def funding_rates(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 50, maximum=500, minimum=1)
        start, end = call.time_range(default_start=call.now - WEEK_MS)
        records = self.ledger.funding_rates.get(market.code, [])
        data = [wire.funding_rate_item(r) for r in newest(records, start, end, limit)]
        return wire.envelope("fundingRates", call.now, data)

    def depth(self, call: Call) -> Any:
        market = self._market(call.path_param("marketCode"))
        level_text = call.path_param("level")
        # Any positive level, the whole book at most: the docs give no maximum, and the live
        # exchange's clients asked for 1,000 (hummingbot's connectors, for every book).
        if not level_text.isascii() or not level_text.isdigit() or int(level_text) < 1:
            raise SimError("20001", "Invalid parameter: level must be a positive integer")
        level = int(level_text)
        body = wire.envelope(f"depthL{level}", call.now, [wire.depth_item(market, level, call.now)])
        return web.Response(body=_number_encoder.encode(body), content_type="application/json")

    # -- flex protocol (public) -------------------------------------------------------------

    def flex_balances(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        data = [wire.balance_item(asset, balance) for asset, balance in account.balances.items()]
        return wire.envelope(
            "flexBalances", call.now, data, {"tradeType": "LINEAR", "flexProtocol": name}
        )

    def flex_positions(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        data = [
            wire.position_item(self.engine, account, position, with_liquidation=False)
            for position in account.positions.values()
            if position.quantity
        ]
        return wire.envelope("flexPositions", call.now, data, {"flexProtocol": name})

    def flex_orders(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        data = [
            wire.open_order_item(order, flex=True)
            for order in reversed(account.open_orders.values())
        ]
        return wire.envelope("flexOrders", call.now, data, {"flexProtocol": name})

    def flex_trades(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 100, maximum=500, minimum=1)
        start, end = call.time_range(week=True)
        data = [
            wire.trade_item(fill)
            for fill in newest(account.trades.get(market.code, []), start, end, limit)
        ]
        return wire.envelope("flexTrades", call.now, data, {"flexProtocol": name})

    def flex_deliveries(self, call: Call) -> Any:
        name, account = self._flex_account(call)
        limit = call.integer("limit", 100, maximum=500, minimum=1)
        start, end = call.time_range(week=True)
        orders = self.ledger.deliveries.get(account.account_id, [])
        data = [wire.delivery_item(o) for o in reversed(orders) if start <= o.last_updated <= end][
            :limit
        ]
        return wire.envelope("flexDeliveryOrders", call.now, data, {"flexProtocol": name})


def _funding_start(text: str | None) -> int:
    """startTime of /v2/delivery/public/funding: ``YYYY-MM-DD hh:mm:ss`` (UTC) or ms."""
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    seconds = parse_timestamp(text.replace(" ", "T", 1))
    if seconds is None:
        raise SimError("20001", "Invalid parameter: startTime must look like 2020-12-08 20:00:00")
    return int(seconds * 1000)
