"""What the live exchange sent where its docs differ: the shapes of a second public record.

The record: the CoinFLEX spot and perpetual connectors hummingbot shipped in 2022 (github
``hummingbot/hummingbot``, the last tree with them: the parent of 02a377502d, 2022-12-12). Their
unit tests' JSON payloads are the only public capture of live answers besides the docs;
docs/guide/live-exchange.md says what each shows and how strong it is as evidence. Each case
here is one shape of that record, rewritten as a body (the values are ours where the fixture's
were test scaffolding), naming its source file and helper. ``row`` labels a case: R for REST,
W for WebSocket, numbered as the project's survey of the record numbered them.

Abbreviations of the sources, all under ``test/hummingbot/connector/``: ``spot/`` is
``exchange/coinflex/test_coinflex_``, ``perp/`` is
``derivative/coinflex_perpetual/test_coinflex_perpetual_``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["CASES", "LIVE_FIELDS", "LiveCase", "case"]

# The wire keys the models gained from the record (not in the docs' examples), by model.
LIVE_FIELDS: dict[str, frozenset[str]] = {
    "Ticker": frozenset({"timestamp", "lastMarkPrice"}),  # R01
    "Market": frozenset({"markPrice", "markPriceLastUpdated"}),  # R02
}


@dataclass(frozen=True)
class LiveCase:
    """One live shape: ``row`` its label, ``source`` the file and helper it is in, ``evidence``
    how strong it is (docs/guide/live-exchange.md), ``path`` the endpoint or channel, ``body``
    the JSON."""

    row: str
    source: str
    evidence: str
    path: str
    body: Any

    def raw(self) -> bytes:
        return json.dumps(self.body).encode()


# A ticker item as the live exchange sent it: the docs' keys, plus ``timestamp`` (string ms)
# and ``lastMarkPrice``, in the order of the capture (the WebSocket ticker's order).
_TICKER_ITEM = {
    "last": "37645",
    "open24h": "38719",
    "high24h": "38840",
    "low24h": "36377",
    "volume24h": "3622970.9407847790",
    "currencyVolume24h": "96.986",
    "openInterest": "0",
    "marketCode": "BTC-USD",
    "timestamp": "1645546950025",
    "lastQty": "0.086",
    "markPrice": "37645",
    "lastMarkPrice": "37628",
}

_MARKET_ITEM = {
    "marketId": "2001000000000",
    "marketCode": "BTC-USD",
    "name": "BTC/USD",
    "referencePair": "BTC/USD",
    "base": "BTC",
    "counter": "USD",
    "type": "SPOT",
    "tickSize": "1",
    "qtyIncrement": "0.001",
    "marginCurrency": "USD",
    "contractValCurrency": "BTC",
    "upperPriceBound": "39203",
    "lowerPriceBound": "36187",
    "marketPrice": "37695",
    "markPrice": None,
    "listingDate": 1593316800000,
    "endDate": 0,
    "marketPriceLastUpdated": 1645547473153,
    "markPriceLastUpdated": 0,
}

CASES: tuple[LiveCase, ...] = (
    LiveCase(
        "R01",
        "spot/api_order_book_data_source.py test_get_last_trade_prices; spot/exchange.py "
        "_get_mock_ticker_data; perp/api_order_book_data_source.py _ticker_response",
        "strong: a BTC ticker captured 2022-02-22; both connectors read the answer as a list",
        "GET /v2/ticker",
        [_TICKER_ITEM],
    ),
    LiveCase(
        "R02",
        "spot/api_order_book_data_source.py test_fetch_trading_pairs",
        "strong for the field set: BTC/ETH/LTC markets captured 2022-02-22",
        "GET /v2/all/markets",
        {"event": "markets", "timestamp": "1639598493658", "data": [_MARKET_ITEM]},
    ),
    LiveCase(
        "R05",
        "spot/api_order_book_data_source.py _snapshot_response (asked as depth/{m}/1000 by "
        "both connectors' production code)",
        "medium-strong: the level; the values are test scaffolding",
        "GET /v2/depth/BTC-USD/1000",
        {
            "event": "depthL1000",
            "timestamp": 1027024,
            "data": [
                {
                    "bids": [["4.00000000", "431.00000000"]],
                    "asks": [["4.00000200", "12.00000000"]],
                    "marketCode": "BTC-USD",
                    "timestamp": 1027024,
                }
            ],
        },
    ),
    LiveCase(
        "R14",
        "spot/exchange.py _get_mock_order_data (OrderMatched)",
        "weak: orderId a JSON number (the Binance tests' idiom)",
        "GET /v2.1/orders",
        {
            "data": [
                {
                    "orderId": 1000000000000000001,
                    "clientOrderId": 1645546950025,
                    "status": "OrderMatched",
                    "marketCode": "BTC-USD",
                    "side": "BUY",
                    "orderType": "LIMIT",
                    "price": "37600",
                    "quantity": "0.01",
                    "remainQuantity": "0",
                    "filledQuantity": "0.01",
                    "matchIds": [
                        {
                            "448528458527567629": {
                                "matchQuantity": "0.01",
                                "matchPrice": "37600",
                                "timestamp": "1645546950100",
                                "orderMatchType": "TAKER",
                            }
                        }
                    ],
                    "fees": {"USD": "0.188"},
                    "timeInForce": "GTC",
                    "isTriggered": "false",
                    "orderOpenedTimestamp": "1645546950025",
                    "orderClosedTimestamp": "1645546950100",
                }
            ]
        },
    ),
    LiveCase(
        "R25",
        "spot/exchange.py test_cancel_order_succeeds_after_max_failures",
        "medium: the text is matched verbatim by the spot connector's production code",
        "DELETE /v2/orders/cancel",
        {
            "event": "cancelOrder",
            "data": [
                {
                    "success": "false",
                    "message": "Open order not found with clientOrderId or orderId",
                }
            ],
        },
    ),
    LiveCase(
        "W04",
        "spot/api_order_book_data_source.py _trade_update_event",
        "weak: tradeId and timestamp JSON numbers (Binance's 12345)",
        "trade:BTC-USD",
        {
            "table": "trade",
            "data": [
                {
                    "timestamp": 1645546950025,
                    "marketCode": "BTC-USD",
                    "tradeId": 1000000000000000001,
                    "side": "BUY",
                    "price": "37645",
                    "quantity": "0.086",
                }
            ],
        },
    ),
    LiveCase(
        "W06",
        "spot/exchange.py _get_mock_user_stream_order_data (FILLED, with match fields; here "
        "with the docs' notice, which the fixture lacks)",
        "weak: orderId and matchId JSON numbers",
        "order:all",
        {
            "table": "order",
            "data": [
                {
                    "notice": "OrderMatched",
                    "accountId": 3001,
                    "clientOrderId": 1645546950025,
                    "orderId": 1000000000000000001,
                    "price": "37600",
                    "quantity": "0.01",
                    "side": "BUY",
                    "status": "FILLED",
                    "marketCode": "BTC-USD",
                    "timeInForce": "GTC",
                    "timestamp": 1645546950100,
                    "matchId": 448528458527567629,
                    "matchPrice": "37600",
                    "matchQuantity": "0.01",
                    "orderMatchType": "TAKER",
                    "remainQuantity": "0",
                    "orderType": "LIMIT",
                    "fees": "0.188",
                    "feeInstrumentId": "USD",
                }
            ],
        },
    ),
)


def case(row: str) -> LiveCase:
    (found,) = (c for c in CASES if c.row == row)
    return found
