"""Canned response bodies, generated once from a fixed seed.

The v2 bodies follow the docs' examples exactly (string numbers, envelopes, ``"true"``/``"false"``,
9-decimal quantities); values vary like a real market's so no decoder gets a cache-friendly
repeat. ccxt 1.90.1's ``coinflex`` reads some scenarios from v3 endpoints (markets, candles,
depth, account), so those bodies exist in the v3 shape ccxt's own comments document, carrying
the same values.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from benchmarks.scenarios import (
    BALANCE_COUNT,
    CANDLE_COUNT,
    DEPTH_LEVELS,
    MARKET_CODE,
    TRADE_COUNT,
)

__all__ = ["ORDER_ID", "build_bodies", "place_order_body"]

NOW_MS = 1_651_312_416_050
ACCOUNT_ID = "13670827"
ORDER_ID = "1002124426084"
BALANCE_ASSETS = (
    "BTC",
    "ETH",
    "USD",
    "FLEX",
    "USDT",
    "BCH",
    "LTC",
    "DOT",
    "LINK",
    "XRP",
    "SOL",
    "AVAX",
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _price_path(rng: random.Random, count: int, start: float) -> list[float]:
    prices = []
    price = start
    for _ in range(count):
        price = max(1000.0, price + rng.gauss(0, 12))
        prices.append(round(price * 2) / 2)  # tick size 0.5
    return prices


def _trades(rng: random.Random) -> list[dict[str, str]]:
    prices = _price_path(rng, TRADE_COUNT, 38673.0)
    return [
        {
            "matchId": str(304734619669458401 + i * 7919 + rng.randrange(7919)),
            "matchQuantity": f"{rng.randrange(1, 5000) / 1000:.9f}",
            "matchPrice": f"{price:.9f}",
            "side": rng.choice(("BUY", "SELL")),
            "matchTimestamp": str(NOW_MS - (TRADE_COUNT - i) * 1_731 - rng.randrange(900)),
        }
        for i, price in enumerate(prices)
    ]


def _candles(rng: random.Random) -> list[dict[str, str]]:
    closes = _price_path(rng, CANDLE_COUNT, 51706.5)
    first_open_ms = (NOW_MS // 60_000 - CANDLE_COUNT) * 60_000
    candles = []
    open_ = 51700.0
    for i, close in enumerate(closes):
        high = max(open_, close) + rng.randrange(0, 40) / 2
        low = min(open_, close) - rng.randrange(0, 40) / 2
        volume = Decimal(rng.randrange(0, 4_000_000)) / 100
        candles.append(
            {
                "timestamp": str(first_open_ms + i * 60_000),
                "open": f"{open_:.8f}",
                "high": f"{high:.8f}",
                "low": f"{low:.8f}",
                "close": f"{close:.8f}",
                "volume24h": f"{volume * Decimal(close):.8f}",
                "currencyVolume24h": f"{volume:.8f}",
            }
        )
        open_ = close
    return candles


def _book_side(rng: random.Random, best: float, step: float) -> list[list[float]]:
    """``[price, quantity]`` levels; whole prices print as ints, as in the docs' example."""
    levels: list[list[float]] = []
    price = best
    for _ in range(DEPTH_LEVELS):
        shown_price = int(price) if price.is_integer() else price
        levels.append([shown_price, rng.randrange(1, 3000) / 1000])
        price += step * rng.randrange(1, 6)
    return levels


def _balances(rng: random.Random) -> list[dict[str, str]]:
    balances = []
    for asset in BALANCE_ASSETS[:BALANCE_COUNT]:
        total = rng.randrange(0, 10**12) / 10**6
        reserved = rng.randrange(0, int(total * 100) + 1) / 100
        balances.append(
            {
                "instrumentId": asset,
                "total": f"{total:.6f}".rstrip("0").rstrip("."),
                "available": f"{total - reserved:.6f}".rstrip("0").rstrip("."),
                "reserved": f"{reserved:.2f}".rstrip("0").rstrip("."),
                "quantityLastUpdated": str(NOW_MS - rng.randrange(10**8)),
            }
        )
    return balances


def place_order_body(client_order_id: str) -> bytes:
    """The docs' successful one-order answer, echoing the request's ``clientOrderId``."""
    return _dumps(
        {
            "accountId": ACCOUNT_ID,
            "event": "placeOrder",
            "timestamp": str(NOW_MS + 31),
            "data": [
                {
                    "success": "true",
                    "timestamp": str(NOW_MS + 2),
                    "clientOrderId": client_order_id,
                    "orderId": ORDER_ID,
                    "price": "50000.0",
                    "quantity": "0.001",
                    "side": "BUY",
                    "marketCode": MARKET_CODE,
                    "timeInForce": "GTC",
                    "orderType": "LIMIT",
                }
            ],
        }
    )


def build_bodies() -> dict[str, bytes]:
    """Every canned body by request path (query strings are not part of the key).

    ``/v2/orders/place`` is served from ``place_order_body`` instead, to echo the order's id.
    """
    rng = random.Random(20210311)
    trades = _trades(rng)
    candles = _candles(rng)
    asks = _book_side(rng, 54792.0, 0.5)
    bids = _book_side(rng, 54786.5, -0.5)
    balances = _balances(rng)
    depth_path = f"/v2/depth/{MARKET_CODE}/{DEPTH_LEVELS}"

    v2 = {
        "/v2/ping": {"success": "true"},
        f"/v2/publictrades/{MARKET_CODE}": {
            "event": "publicTrades",
            "timestamp": str(NOW_MS),
            "marketCode": MARKET_CODE,
            "data": trades,
        },
        f"/v2/candles/{MARKET_CODE}": {
            "event": "candles",
            "timestamp": str(NOW_MS),
            "timeframe": "60s",
            "data": candles,
        },
        depth_path: {
            "event": f"depthL{DEPTH_LEVELS}",
            "timestamp": str(NOW_MS),
            "data": [
                {
                    "asks": [[price, qty, 0, 0] for price, qty in asks],
                    "bids": [[price, qty, 0, 0] for price, qty in bids],
                    "marketCode": MARKET_CODE,
                    "timestamp": str(NOW_MS - 58),
                }
            ],
        },
        "/v2/balances": {
            "event": "balances",
            "timestamp": NOW_MS,
            "accountId": ACCOUNT_ID,
            "tradeType": "LINEAR",
            "data": balances,
        },
    }

    v3_for_ccxt = {
        "/v3/markets": {
            "success": True,
            "data": [
                {
                    "marketCode": MARKET_CODE,
                    "name": "BTC/USD Perp",
                    "referencePair": "BTC/USD",
                    "base": "BTC",
                    "counter": "USD",
                    "type": "FUTURE",
                    "tickSize": "0.5",
                    "minSize": "0.001",
                    "listedAt": "1593316800000",
                    "upperPriceBound": "56000",
                    "lowerPriceBound": "53000",
                    "markPrice": "54790",
                    "lastUpdatedAt": str(NOW_MS),
                }
            ],
        },
        "/v3/assets": {
            "success": True,
            "data": [
                {
                    "asset": asset,
                    "isCollateral": True,
                    "loanToValue": "0.950000000",
                    "networkList": [
                        {
                            "network": "ERC20",
                            "transactionPrecision": "8",
                            "isWithdrawalFeeChargedToUser": True,
                            "canDeposit": True,
                            "canWithdraw": True,
                            "minDeposit": "0.00010",
                            "minWithdrawal": "0.00010",
                        }
                    ],
                }
                for asset in BALANCE_ASSETS[:BALANCE_COUNT]
            ],
        },
        "/v3/candles": {
            "success": True,
            "timeframe": "60s",
            "data": [
                {
                    "open": candle["open"],
                    "high": candle["high"],
                    "low": candle["low"],
                    "close": candle["close"],
                    "volume": candle["volume24h"],
                    "currencyVolume": candle["currencyVolume24h"],
                    "openedAt": candle["timestamp"],
                }
                for candle in candles
            ],
        },
        "/v3/depth": {
            "success": True,
            "level": str(DEPTH_LEVELS),
            "data": {
                "marketCode": MARKET_CODE,
                "lastUpdatedAt": str(NOW_MS - 58),
                "asks": asks,
                "bids": bids,
            },
        },
        "/v3/account": {
            "success": True,
            "data": [
                {
                    "accountId": ACCOUNT_ID,
                    "name": "main",
                    "accountType": "LINEAR",
                    "balances": [
                        {
                            "asset": balance["instrumentId"],
                            "total": balance["total"],
                            "available": balance["available"],
                            "reserved": balance["reserved"],
                            "lastUpdatedAt": balance["quantityLastUpdated"],
                        }
                        for balance in balances
                    ],
                    "positions": [],
                    "collateral": "28.297558",
                    "notionalPositionSize": "6.82903188",
                    "portfolioVarMargin": "0.682589",
                    "riskRatio": "41.5216",
                    "maintenanceMargin": "0.34129450",
                    "marginRatio": "1.20",
                    "liquidating": False,
                    "feeTier": "0",
                    "createdAt": "1651232948406",
                }
            ],
        },
    }
    return {path: _dumps(body) for path, body in {**v2, **v3_for_ccxt}.items()}
