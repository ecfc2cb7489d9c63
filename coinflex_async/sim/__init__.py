"""A local CoinFLEX v2 REST exchange (aiohttp.web) for demos, tests and benchmarks.

It is a second, independent reader of the exchange's documentation: it imports nothing from
the client, parses requests itself and writes the docs' JSON (event names, envelopes,
string-typed numbers, ``"true"``/``"false"`` strings) from its own state, so end-to-end
tests cross-check the client.

Three ways to run it::

    async with Simulator() as sim:                 # in-process, free port on 127.0.0.1
        alice = sim.create_account(balances={"USD": "100000", "BTC": "10"})
        ...  # sim.url, alice.api_key, alice.api_secret, alice.account_id

    pytest_plugins = ["coinflex_async.sim.pytest_plugin"]   # async fixture `coinflex_sim`

    python -m coinflex_async.sim --port 8080        # standalone until Ctrl-C/SIGTERM; prints
                                                    # URL, key and secret of a funded account

Test controls: ``sim.inject(Fault...)`` / ``sim.faults.clear()``, ``sim.stats``,
``sim.set_mark_price``, ``sim.add_liquidity`` (a market maker's resting orders),
``sim.apply_funding``, ``sim.run_delivery_auction``, ``ManualClock`` (``clock=``), and
``SimAccount.balance/available/reserved/position/entry_price/deposit``.

Where things are
----------------
- ``_simulator.py``: ``Simulator`` and ``SimAccount``, the public face; ``__main__.py`` the CLI.
- The exchange's state and rules: ``_engine.py`` (matching, stops, modify/cancel, order
  queries), ``_book.py`` (markets, book sides, public trades, candles), ``_accounts.py``
  (accounts, balances, positions, orders, fills), ``_risk.py`` (valuation, margin, what
  working orders hold back), ``_ledger.py`` (delivery, mint/redeem, borrow/repay, funding),
  ``_markets.py`` (market and asset definitions), ``_requests.py`` (parsing order items).
- REST: ``_app.py`` (the route table), ``_rest_pipeline.py`` (rate limits -> faults ->
  authentication -> endpoint), endpoints by domain in ``_rest_market.py``,
  ``_rest_account.py``, ``_rest_orders.py``, ``_rest_funds.py``; ``_wire.py`` writes the
  docs' JSON shapes.
- Cross-cutting: ``_auth.py`` (signatures), ``_limits.py`` (rate limits, ``SimStats``),
  ``_faults.py`` (``Fault``), ``_clock.py``, ``_numbers.py``, ``_errors.py``.

What it does like the exchange
------------------------------
- Every endpoint of the v2 REST docs with the documented shapes. Where the examples differ
  between endpoints they are followed one by one: the envelope ``timestamp`` is a number for
  /v2/accountinfo, /v2/balances, /v2/positions, /v2/trades and cancel-all, a string
  elsewhere; /v2/orders shows times as numbers, the flex-protocol orders as strings; only
  the depth levels are JSON numbers ``[price, quantity, 0, 0]``; /v2/delivery/public/funding
  answers a bare list with ``YYYY-MM-DD hh:mm:ss`` times; GET /v2.1/delivery/orders has no
  ``accountId``. Prices and quantities of orders and trades carry the market's decimals
  (``"54900.0"``, ``"0.002"``); other amounts are plain decimals, never with an exponent.
- Markets: BTC-USD, ETH-USD, FLEX-USD (SPOT), BTC-/ETH-/FLEX-USD-SWAP-LIN (perpetual swaps,
  listed as type FUTURE), BTC-/ETH-USD-REPO-LIN (REPO, priced as a rate), each with its tick
  size and quantity increment (``markets=`` takes other ``MarketSpec``s).
- Authentication: ``AccessKey``, ``Timestamp``, ``Signature``, ``Nonce`` headers; the
  signature is base64 HMAC-SHA256 of ``Timestamp\\nNonce\\nVERB\\nHost\\nPath\\nBody`` where
  Host is the Host header as received, Path the raw path without the query, and Body the raw
  body, else the raw query string, else ``""``. Timestamps: ``YYYY-MM-DDThh:mm:ss[.ffffff]``
  (UTC) or millisecond epoch integers. HTTP 401 with code 20025 (key missing or unknown),
  20023 (timestamp missing or unreadable), 20024 (more than ``timestamp_tolerance``, 30 s,
  from the clock), 20000 (nonce or signature missing, signature wrong, or the (key, nonce)
  pair already used). Nonces need not increase, only be unique; they are remembered for
  twice the tolerance. Public endpoints (market data, flex-protocol) need no key.
- Matching: price-time priority; LIMIT, MARKET (sweeps up to the sanity bound, the rest is
  cancelled) and STOP orders (stop-limit: ``stopPrice`` and ``limitPrice``; a buy stop fires
  when the last trade price, or the mark price before any trade, reaches it from below, a
  sell stop from above, then works as a limit order); GTC, IOC, FOK, MAKER_ONLY.
- Per-order results as the docs' examples: ``success`` "true"/"false"; a failed item carries
  ``code`` and ``message`` and echoes what was sent (a refused placement has ``orderId`` "0").
  Codes: 40032 malformed item (missing key, wrong type, unknown enum, non-numeric
  clientOrderId), 200050 unknown market, 20001 price off the tick grid or quantity off the
  increment (or a MARKET MAKER_ONLY order, or a side change in modify), 710002/710003 limit
  price below/above the sanity bounds (mark price +-10%, REPO +-0.01), 710006 balance or
  margin too small, 40035 open order not found. ``responseType`` FULL adds ``status``,
  ``remainQuantity``, ``notice`` and ``isTriggered`` (as the cancel example) to the keys of
  the ACK answer (the place example). Statuses: OPEN, PARTIALLY_FILLED, FILLED,
  CANCELED_BY_USER, CANCELED_BY_IOC, CANCELED_BY_FOK, CANCELED_BY_MAKER_ONLY; notices
  OrderOpened, OrderMatched (filled), OrderClosed. An order that ends at once (FOK, IOC,
  MAKER_ONLY that would cross) is still accepted (success "true", notice OrderClosed).
  An order placed without ``clientOrderId`` is given one, as the live exchange did (ccxt
  sends none): a numeric string, the millisecond clock x 1000, counted on to stay unique.
  At most 8 orders per request; a bad batch (too many or no orders, ``responseType`` not
  FULL/ACK, ``timestamp`` + ``recvWindow`` passed, invalid JSON) is refused whole with HTTP
  400 and ``{"success": false, "code": "20001" (JSON: "20009"), "message": ...}``.
- Modify is cancel-replace, as the docs' example shows: the order gets a new ``orderId``
  (same ``clientOrderId`` unless a new one is given) and loses its time priority; the new
  quantity is the order's quantity from then on; if the replacement is refused the old
  order stays as it was.
- GET /v2.1/orders lists every accepted order (never refused ones), newest first, by
  orderId, clientOrderId, marketCode and creation time: OrderOpened (working; with fill
  details once partly filled), OrderMatched (filled), OrderClosed (cancelled, replaced or
  ended unfilled). Fees there are negative (paid), in /v2/trades positive (as the docs).
- Balances: a spot order reserves what it may spend (a buy: limit price x quantity x (1 +
  taker fee); a sell: the quantity); fills move base and counter. Swap and repo fills move a
  position (average entry price; realized PnL to the USD balance; unrealized at the mark).
- Public trades, ticker (rolling 24 h; zeros before any trade), depth and candles (60s to
  86400s; only periods with trades) follow from the fills.
- Rate limits per client IP with exact sliding windows: 100 requests/s and 2,500 per
  5 minutes over all endpoints; POST /v2.1/delivery/orders 2 per 10 s; POST /v2/mint and
  POST /v2/redeem each 1/s and 2 per 10 s (``RateLimits``; ``rate_limits=None``: off).
  Over a limit: HTTP 429 ``{"success": false, "code": "20007", "message": "Too many
  requests"}`` with ``Retry-After`` in whole seconds (>= 1), and the request is not applied.
  ``sim.stats`` counts requests, statuses, routes, 429s and injected faults and keeps every
  arrival time per limit: ``sim.stats.max_in_window("rest_per_second")`` is the most
  requests any 1 s window held (``include_refused=False``: the most let through).
- Other errors: 404 for an unknown route or market (code 20001 / 200050), 400 with 20001
  for a bad parameter, 500 with 50001 if the simulator itself fails.
- Faults (``Fault``): latency, status (500/503/...; 503 in the gateway's JSON shape
  ``{"status", "error", "message", "requestId"}``), html_502, reset_before (not applied),
  reset_after (applied, then the connection is dropped), malformed_json, truncated_json
  (applied; 200 with a broken body), slow_body (applied; headers, then a trickled body); by
  method and path (exact or prefix), for the next N requests or with a probability from a
  seeded RNG (``seed=``); counted in ``sim.stats.faults_injected``.

What is simplified
------------------
- Mark price = last trade price (the configured start price before any trade, or what
  ``sim.set_mark_price`` sets). The sanity bounds follow it.
- Margin: collateral = balances at USD value x a weight per coin (USD, flexUSD 1; BTC, ETH
  0.9; FLEX 0.5) + unrealized PnL; initial margin 10% of the notional (FLEX swap 20%) for
  positions and working swap/repo orders; orders that only reduce a position need none.
  accountinfo: ``portfolioVarMargin`` = position margin, ``riskRatio`` = collateral /
  margin ("0.0000" with no margin), ``estLiquidationPrice`` = where equity would meet half
  the initial margin. No liquidation, no auto-deleveraging, no interest; balances may go
  negative through losses.
- Fees: maker 0.02%, taker 0.05% of the notional (``Fees``), in the counter asset (USD);
  none on REPO markets.
- REPO markets match like the others; a fill opens a position in the REPO instrument itself
  (no spot or swap legs are booked). Their last traded rate is the funding rate of the swap
  of the same coin (else the swap's configured rate, 0.00001).
- Funding runs only when asked: ``sim.apply_funding()`` charges each swap position
  quantity x mark price x rate (longs pay a positive rate) to its USD balance and records
  the payment and the rate (under the swap and its REPO market).
- Delivery: a request needs the position (710004) and, for a long, the USD, for a short the
  coin (710006); it settles at the next whole-hour auction (on the first request after it)
  or at ``sim.run_delivery_auction()``, at the mark price: a long pays USD and receives the
  coin, a short the reverse, and the position shrinks by what was delivered.
- Mint/redeem: flexUSD, flexBTC, flexETH, flexFLEX are 1:1 with USD, BTC, ETH, FLEX and
  earn nothing; the coin goes to the flexAsset's protocol account (the account the public
  flex-protocol endpoints show; ``sim.flex_protocol_account``). Instant redemptions pay at
  once, Normal ones at the next whole hour.
- Borrow/repay: USD only, lent at collateral x price x weight, no interest; a repay returns
  collateral in proportion (PARTIAL / CANCELLED when it cannot). Close-borrow sells the
  collateral on the coin's spot market (BTC-USD for BTC-USD-SWAP-LIN too) with a FOK order
  (MARKET, or LIMIT at ``price``), answers with that order, and repays the loan's share from
  the proceeds; if the order cannot fill nothing changes.
- Everything lives in memory in one process; one engine per Simulator.
"""

from __future__ import annotations

from ._accounts import Fees
from ._clock import Clock, ManualClock
from ._faults import FAULT_KINDS, WS_FAULT_KINDS, Fault, FaultPlan
from ._limits import RateLimit, RateLimits, SimStats
from ._markets import DEFAULT_MARKETS, MarketSpec, MarketType
from ._simulator import DEFAULT_RATE_LIMITS, SimAccount, Simulator
from ._ws_gateway import WebSocketSettings

__all__ = [
    "DEFAULT_MARKETS",
    "DEFAULT_RATE_LIMITS",
    "FAULT_KINDS",
    "Clock",
    "Fault",
    "FaultPlan",
    "Fees",
    "ManualClock",
    "MarketSpec",
    "MarketType",
    "RateLimit",
    "RateLimits",
    "SimAccount",
    "SimStats",
    "WS_FAULT_KINDS",
    "Simulator",
    "WebSocketSettings",
]
