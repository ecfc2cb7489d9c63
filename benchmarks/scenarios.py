"""The benchmark scenarios: one API call each, and the sizes the canned responses carry."""

from __future__ import annotations

__all__ = [
    "API_KEY",
    "API_SECRET",
    "BALANCE_COUNT",
    "CANDLE_COUNT",
    "CCXT_SYMBOL",
    "CONCURRENCIES",
    "DATA_SCENARIOS",
    "DEPTH_LEVELS",
    "MARKET_CODE",
    "SCENARIOS",
    "TRADE_COUNT",
]

SCENARIOS = ("ping", "trades", "candles", "depth", "balances", "place_order")
CONCURRENCIES = (1, 32)

# Scenarios whose response carries market or account data to parse: where ccxt runs, the client
# should use at most half of its CPU per request there.
DATA_SCENARIOS = ("trades", "candles", "depth", "balances")

MARKET_CODE = "BTC-USD-SWAP-LIN"
CCXT_SYMBOL = "BTC/USD:USD"
TRADE_COUNT = 100
CANDLE_COUNT = 5000
DEPTH_LEVELS = 100
BALANCE_COUNT = 12

# The canned server checks no signature; these only need the shape of real credentials.
API_KEY = "Rc6Gb8KjqHbVXDUuRYeyPWRyqBc1kTxDMUwUFNS2fSQ="
API_SECRET = "b1pHMyGvXcaEbEfd4w0tVlvtjlyHXgIOCb1FKNU0ZjU="
