"""A local CoinFLEX v2 exchange, REST and WebSocket (aiohttp.web), for demos, tests and
benchmarks.

It is a second, independent reader of the exchange's documentation: it imports nothing from
the client, parses requests itself and writes the docs' JSON (event names, envelopes,
string-typed numbers, ``"true"``/``"false"`` strings) from its own state, so end-to-end
tests cross-check the client.

Three ways to run it::

    async with Simulator() as sim:                 # in-process, free port on 127.0.0.1
        alice = sim.create_account(balances={"USD": "100000", "BTC": "10"})
        ...  # sim.url, sim.ws_url, alice.api_key, alice.api_secret, alice.account_id

    async def test_bot(coinflex_sim): ...           # pytest, with coinflex_async[pytest]

    coinflex-sim --port 8080                        # standalone until Ctrl-C/SIGTERM (also
                                                    # python -m coinflex_async.sim); prints URL,
                                                    # key, secret, balances of a funded account

``Simulator(ssl_context=...)`` / ``coinflex-sim --tls-cert --tls-key`` serve HTTPS. A client
that hangs up mid-request is logged at DEBUG and counted as status 499 in ``sim.stats``.

Markets that move: ``Simulator(market=RandomMarket(seed=7))`` drives every listed market (a
seeded random walk of the mid, a house market maker re-quoting ``levels`` bids and asks around
it four times a second, takers arriving at ``trades_per_second``), through the engine like any
account, so trades, depth, ticker, candles, the mark price, stops and users' resting orders
follow. On the real clock it moves by itself; with ``clock=ManualClock(t)`` only through
``await sim.advance(seconds)``, and the same seed and actions give the same trades, books and
fills. Without a market the books start with ``add_liquidity()``'s orders, as ``coinflex-sim``
does (``liquidity=False`` / ``--no-liquidity``: empty); ``coinflex-sim --market random --seed N``
serves a random market. A market driver is any ``MarketDriver`` (``attach``, ``next_due``,
``act``), acting through the ``Venue`` it is given (``_drivers.py``, ``_random_market.py``).

Test controls: ``sim.inject(Fault...)`` / ``sim.faults.clear()``, ``sim.stats``,
``sim.set_mark_price``, ``sim.add_liquidity`` (a market maker's resting orders),
``sim.apply_funding``, ``sim.run_delivery_auction``, ``sim.seed_history`` (months of fills,
orders, funding, mint/redeem/borrow/repay history from a seed), ``ManualClock`` (``clock=``), and
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
- WebSocket: ``_ws_gateway.py`` (handshake, login, subscribe, dispatch, keep-alive, push
  rounds; ``WebSocketSettings``), ``_ws_channels.py`` (who hears what; the pushes),
  ``_ws_commands.py`` (order commands and their error codes), ``_ws_connection.py`` (one
  socket: frames, faults at send), ``_wire_ws.py`` (the WebSocket docs' JSON shapes). The
  engine tells the gateway about every change through ``_events.py`` (``Engine.add_listener``;
  nothing is built while nobody listens).
- Cross-cutting: ``_auth.py`` (signatures), ``_limits.py`` (rate limits, ``SimStats``),
  ``_faults.py`` (``Fault``), ``_clock.py``, ``_numbers.py``, ``_errors.py``.

What it does like the exchange
------------------------------
- Every endpoint of the v2 REST docs with the documented shapes. Where the examples differ
  between endpoints they are followed one by one: the envelope ``timestamp`` is a number for
  /v2/accountinfo, /v2/balances, /v2/positions, /v2/trades and cancel-all, a string
  elsewhere; /v2/orders shows times as numbers, the flex-protocol orders as strings; only
  the depth levels are JSON numbers; /v2/delivery/public/funding answers a bare list with
  ``YYYY-MM-DD hh:mm:ss`` times; GET /v2.1/delivery/orders has no ``accountId``. Prices and
  quantities of orders and trades carry the market's decimals (``"54900.0"``, ``"0.002"``);
  other amounts are plain decimals, never with an exponent.
- Where the live exchange answered otherwise than the docs, and the evidence is strong, as
  the live exchange did (docs/guide/live-exchange.md; the record is hummingbot's CoinFLEX
  connectors of 2022): GET /v2/ticker is a bare list, no envelope, each item with
  ``timestamp`` and ``lastMarkPrice`` (the ``ticker`` channel's item; a BTC ticker captured
  on 2022-02-22, read as a list by both connectors); REST depth levels are ``[price,
  quantity]`` (the changelog of 2021-09-17: "Removed last two elements in depth"; the
  WebSocket books keep four); GET /v2/depth takes any positive level and answers at most the
  whole book (both connectors asked for 1,000; the docs give no maximum); every market
  carries ``"markPrice": null`` and ``"markPriceLastUpdated": 0`` (the markets captured on
  2022-02-19/22); a cancel of an order that is not open says "Open order not found with
  clientOrderId or orderId" (code 40035; the spot connector matched the text verbatim; the
  docs' "Open order not found with id" stays for a modify).
- Markets: BTC-USD, ETH-USD, FLEX-USD (SPOT), BTC-/ETH-/FLEX-USD-SWAP-LIN (perpetual swaps,
  listed as type FUTURE), BTC-/ETH-USD-REPO-LIN (REPO, priced as a rate), each with its tick
  size and quantity increment (``markets=`` takes other ``MarketSpec``s).
- Authentication: ``AccessKey``, ``Timestamp``, ``Signature``, ``Nonce`` headers; the
  signature is base64 HMAC-SHA256 of ``Timestamp\\nNonce\\nVERB\\nHost\\nPath\\nBody`` where
  Host is the Host header as received, Path the raw path without the query, and Body the raw
  body, else the raw query string, else ``""``. Timestamps: ``YYYY-MM-DDThh:mm:ss[.ffffff]``
  (UTC) or millisecond epoch integers. HTTP 401 with code 20025 (key missing or unknown),
  20023 (timestamp missing or unreadable), 20024 (more than ``timestamp_tolerance``, 30 s,
  from the clock), 20000 (nonce or signature missing, signature wrong, or an exact replay:
  the same key, nonce and signature already accepted). Nonces need not increase nor differ
  (the docs' examples send 123 every time; ccxt the millisecond clock): only a replay is
  refused, remembered for twice the tolerance (at most 100,000 requests; beyond that the
  oldest is forgotten early and only its timestamp guards it). Public endpoints (market
  data, flex-protocol) need no key.
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
- History endpoints answer the newest ``limit`` items in ``[startTime, endTime]``, newest
  first. As the changelog of 2021-12-21 says, /v2/trades, /v2/publictrades, /v2.1/orders,
  /v2/mint, /v2/redeem, /v2/borrow, /v2/repay and the flex-protocol trades and deliveries
  take ``startTime`` (default 24 hours before ``endTime``) and ``endTime`` (default now) at
  most 7 days apart, else HTTP 400 code 20001; /v2/funding-payments takes ``limit`` up to
  500 (default 500, since 2021-10-26). Larger limits than an endpoint's maximum: HTTP 400.
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

The WebSocket API (``sim.ws_url`` = ``ws://HOST:PORT/v2/websocket``)
--------------------------------------------------------------------
- One engine behind REST and WebSocket: an order placed over either shows in GET
  /v2.1/orders and on the order channel; REST fills move the WebSocket channels.
- On connect the server sends ``{"event": "nonce", "nonce": "<hex>"}`` (the docs' example
  waits for a message with a ``nonce`` before logging in); it means nothing else.
- Requests: ``{"op", "tag", "args"}`` (subscribe / unsubscribe) or ``{"op", "tag", "data"}``
  (login, placeorder, cancelorder, modifyorder) or ``"dataArray"`` (placeorders,
  cancelorders, modifyorders). ``tag`` (int or string, at most 32 characters, else 20034) is
  echoed as a string. Replies: ``{"event", "success", "tag", "channel", "timestamp"}`` per
  subscribed channel (``channel`` the args value as a string), ``{"event", "success": false,
  "tag", "message", "code", "timestamp"}`` on failure; commands answer ``{"event",
  "submitted", "tag", "timestamp", "data"}`` (+ ``message``, ``code`` when refused), one
  reply per order with the singular event (``placeorder`` for each item of
  ``placeorders``), before the order-channel notices the order caused. A request that is
  not JSON: ``{"event": "error", ..., "code": "20009"}``; longer than
  ``max_message_length`` (4096): 20027; unknown op: 20003. The text frame ``ping`` is
  answered ``pong``; protocol pings get pongs.
- login: ``Base64(HmacSHA256(secret, timestamp + "GET/auth/self/verify"))``; 20025 unknown
  key, 20023 timestamp missing, 20024 timestamp more than ``timestamp_tolerance`` (30 s)
  from the clock, 20000 wrong signature, 20005 already logged in. Private channels and
  order commands before login: 05001.
- Channels: ``depth``, ``depthL5``, ``depthL10``, ``depthL25`` (whole-book snapshots every
  50 ms, ``table`` "depth" for all four as the docs' field table says, ``seqNum`` +1 per
  market per round, levels JSON numbers ``[price, qty, 0, 0]``, ``checksum`` the CRC32 of
  ``bid1price:bid1qty:ask1price:ask1qty:...`` over 25 levels -- the docs do not define it);
  ``trade`` (each fill; ``side`` the taker's in lower case, as the example); ``ticker``
  (500 ms; ``ticker:all`` one message with every market); ``candles<N>s`` for the docs'
  11 granularities (500 ms, the current candle; ``table`` "candles60s"); ``market`` (1 s);
  ``liquidationRFQ`` (accepted, never pushed: no liquidations here); ``order`` (``all`` or
  a market), ``position`` (``all``: every open position plus the one that changed; or one
  instrument), ``balance`` (250 ms; ``all`` or one asset).
- Order channel: OrderOpened when an order is accepted (and again, ``isTriggered`` "True",
  when a stop fires), OrderMatched per fill (``status`` FILLED / PARTIAL_FILL, fees and
  ``orderMatchType``), OrderModified when a modify only shrinks a resting order (same id),
  OrderClosed otherwise (CANCELED_BY_USER, CANCELED_BY_AMEND for a modify that moves the
  order, CANCELED_BY_FOK, CANCELED_BY_MAKER_ONLY, CANCELED_ALL_BY_IOC /
  CANCELED_PARTIAL_BY_IOC -- MARKET remainders too). A fully filled order ends with its last
  OrderMatched. ``orderType`` of stop orders is ``STOP_LIMIT``. A cancel or modify of an
  order that is no longer open is ``submitted`` and the order channel gets the docs'
  failure notice (event CANCEL / AMEND, code 100004, numbers as JSON numbers). REST
  cancel-all sends ``{"event": "CANCEL", "submitted": true, "timestamp"}`` to the
  account's logged-in sockets.
- Order commands: placeorder LIMIT, MARKET, STOP_LIMIT (STOP accepted too) with GTC, IOC,
  FOK, MAKER_ONLY, MAKER_ONLY_REPRICE (rests one tick inside the opposite best instead of
  taking); clientOrderId optional (assigned, as REST). Codes: 20011/20015 marketCode
  missing/unknown, 20012/20016 side, 20013/20017 orderType, 20018 timeInForce, 20006
  quantity, 20014/20008 clientOrderId, 20021/20022/20028 price, 20020/20029/20030 stop
  prices, 20019 orderId, 20010 cancel without ids, 20024 ``timestamp`` + ``recvWindow``
  (default 1000 ms) passed, and the engine's 20001/710002/710003/710006. modifyorder takes
  ``orderId`` or ``orderID``, may change side, price, quantity. placeorder and modifyorder
  items count against 50 per second per account (20007 beyond).
- Limits (``WebSocketSettings``): 200 handshakes per minute per IP (HTTP 429), 50 requests/s
  per logged-in connection, 1/s before login (20007), 50 orders/s per account; none of them
  with ``rate_limits=None`` unless ``websocket=`` says otherwise. A connection
  with no subscription that sends nothing for ``idle_timeout`` (60 s) is closed (code 1000).
  A client that stops reading is cut off once ``max_send_buffer`` bytes wait for it.
  ``sim.stats.websocket`` counts connections, refusals, messages, rate limiting and idle
  closes; ``sim.stats.depth_lateness`` / ``depth_slots_missed`` show whether the depth
  rounds keep their cadence.
- Faults (``sim.inject``, same seeded plan as REST): ``Fault.ws_close(close_code=1001,
  op=...)`` a clean close, ``Fault.ws_reset(op=...)`` the TCP connection dropped,
  ``Fault.ws_stall(seconds, op=...)`` everything to that connection held for ``seconds``
  then sent, ``Fault.ws_malformed(op=...)`` a non-JSON text frame before the message;
  these fire when the server is about to send a message whose event or table is ``op``
  (None: any). ``Fault.ws_refuse(seconds)`` answers handshakes HTTP 503 for ``seconds``;
  ``Fault.ws_drop_reply(op="placeorder")`` applies the command and sends no reply. With
  ``times`` / ``probability`` as REST faults; counted in ``sim.stats.faults_injected``.

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
- WebSocket: no liquidations (liquidationRFQ stays quiet); ticker ``lastMarkPrice`` is the
  mark price; the docs' examples disagree on a few value types (``clientOrderId`` 1 or "1",
  modify replies with numbers or strings): the simulator writes strings throughout except
  the depth levels, ``seqNum``, ``checksum``, ``source`` and the failure notices.
"""

from __future__ import annotations

from ._accounts import Fees
from ._clock import Clock, ManualClock
from ._drivers import MarketDriver, Venue
from ._faults import FAULT_KINDS, WS_FAULT_KINDS, Fault, FaultPlan
from ._limits import RateLimit, RateLimits, SimStats
from ._markets import DEFAULT_MARKETS, MarketSpec, MarketType
from ._random_market import RandomMarket
from ._replay import Replay, ReplayError
from ._seed import SeededHistory
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
    "MarketDriver",
    "MarketSpec",
    "MarketType",
    "RandomMarket",
    "RateLimit",
    "RateLimits",
    "Replay",
    "ReplayError",
    "SeededHistory",
    "SimAccount",
    "SimStats",
    "WS_FAULT_KINDS",
    "Simulator",
    "Venue",
    "WebSocketSettings",
]
