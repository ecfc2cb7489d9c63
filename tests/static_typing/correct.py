"""Correct use of the order API, in every form the docs allow: ``mypy --strict`` must find
nothing here (tests/static_typing/test_static_typing.py). Never run, only type-checked."""

from __future__ import annotations

from decimal import Decimal

import coinflex_async as cf

M = "BTC-USD-SWAP-LIN"


async def placing(client: cf.Client) -> None:
    private = client.private
    # Enums or their strings; decimals as str, Decimal or int.
    placed = await private.place_order(
        market_code=M,
        side=cf.Side.BUY,
        quantity="0.001",
        order_type=cf.OrderType.LIMIT,
        price=Decimal("54900"),
        time_in_force=cf.TimeInForce.MAKER_ONLY,
    )
    await private.place_order(market_code=M, side="SELL", quantity=1, order_type="MARKET")
    await private.place_order(
        market_code=M,
        side="BUY",
        quantity="1",
        order_type="STOP",
        stop_price="55000",
        limit_price="55100",
        time_in_force="GTC",
        client_order_id=1612249737724,
        recv_window=5000,
        response_type="ACK",
    )
    # An accepted order's identifying fields need no None check.
    order_id: str = placed.order_id
    client_order_id: str = placed.client_order_id
    side: cf.SideValue = placed.side
    market_code: str = placed.market_code
    kind: cf.OrderTypeValue = placed.order_type
    time_in_force: cf.TimeInForceValue = placed.time_in_force
    doubled: Decimal = placed.quantity * 2
    if placed.side == cf.Side.BUY and placed.status == "FILLED":
        print(order_id, client_order_id, side, doubled, market_code, kind, time_in_force)
    if placed.notice == "OrderClosed" and placed.price is not None:
        print(placed.price + placed.quantity)
    # It is still an OrderResult.
    result: cf.OrderResult = placed
    print(result.success)

    modified = await private.modify_order(order_id=placed.order_id, market_code=M, price="54950")
    await private.cancel_order(market_code=M, order_id=modified.order_id)
    await private.cancel_order(market_code=M, client_order_id=placed.client_order_id)


async def batches(client: cf.Client) -> None:
    private = client.private
    dict_order: cf.NewOrderDict = {
        "market_code": M,
        "side": "BUY",
        "quantity": "0.001",
        "order_type": "LIMIT",
        "price": "54900",
    }
    results = await private.place_orders(
        [
            dict_order,
            cf.NewOrder(
                market_code=M, side=cf.Side.SELL, quantity=Decimal("1"), order_type="MARKET"
            ),
            {"market_code": M, "side": "SELL", "quantity": 1, "order_type": "MARKET"},
        ]
    )
    ids = [r.order_id for r in results if r.success and r.order_id is not None]
    await private.modify_orders(
        [cf.ModifyOrder(order_id=ids[0], market_code=M, quantity="0.002")]
        + [{"order_id": order_id, "market_code": M, "price": "54901"} for order_id in ids[1:]]
    )
    cancels: list[cf.CancelOrder | cf.CancelOrderDict] = [
        cf.CancelOrder(market_code=M, order_id=ids[0]),
        {"market_code": M, "client_order_id": "1612249737724"},
    ]
    for cancelled in await private.cancel_orders(cancels):
        if cancelled.status == "CANCELED_BY_USER":
            print(cancelled.order_id)


async def others(client: cf.Client) -> None:
    private = client.private
    await private.redeem("flexUSD", "1", type=cf.RedeemType.INSTANT)
    await private.redeem("flexUSD", Decimal("1"), type="Normal")
    await private.mint("flexUSD", 100)
    closed = await private.close_borrow("USD", price="29633.5", quantity=Decimal("1"))
    print(closed.success)
    for order in await private.open_orders():
        if order.side == "SELL" and order.order_type == "LIMIT":
            print(order.time_in_force == "GTC")
    for entry in await private.orders(market_code=M):
        if entry.status == "OrderMatched":
            print(entry.order_id)


async def streaming(client: cf.Client) -> None:
    async with client.stream() as ws:
        async for book in await ws.subscribe_depth(M, level=5):
            print(book.bids[0].price - book.asks[0].price, book.seq_num)
            break
        whole = await ws.subscribe_depth(M)
        await whole.aclose()
        async for trade in await ws.subscribe_trades(M):
            print(trade.price * trade.quantity, trade.trade_id)
            break
        async for ticker in await ws.subscribe_ticker():
            print(ticker.market_code, ticker.last)
            break
        async for candle in await ws.subscribe_candles(M, 60):
            print(candle.candle.close)
            break
        async for market in await ws.subscribe_market(M):
            print(market.tick_size)
            break
        async for liquidation in await ws.subscribe_liquidations():
            print(liquidation.market_code)
            break
        async for update in await ws.subscribe_orders(M):
            if isinstance(update, cf.Resynced):
                print(len(update.snapshot.open_orders))
            elif isinstance(update, cf.OrderFailureEvent):
                print(update.code, update.order_id)
            elif update.notice == "OrderMatched" and update.status == "PARTIAL_FILL":
                print(update.match_price, update.side == "BUY", update.order_type == "LIMIT")
            break
        async for balance in await ws.subscribe_balances("USD"):
            if not isinstance(balance, cf.Resynced):
                print(balance.available)
            break
        async for position in await ws.subscribe_positions():
            if not isinstance(position, cf.Resynced):
                print(position.instrument_id)
            break
        feed: cf.Subscription[cf.TradeEvent] = await ws.subscribe_trades(M, max_queue=10)
        print(feed.channels, feed.backlog)
        several = await ws.subscribe(f"trade:{M}", f"depthL5:{M}")
        await several.aclose()


async def placing_over_the_websocket(client: cf.Client) -> None:
    async with client.stream() as ws:
        # The same result type as REST's: an accepted order's identifying fields need no check.
        placed = await ws.place_order(market_code=M, side="BUY", quantity="1", order_type="MARKET")
        order_id: str = placed.order_id
        time_in_force: cf.TimeInForceValue = placed.time_in_force
        results: list[cf.OrderResult] = await ws.place_orders([{"market_code": M, "side": "SELL",
            "quantity": "1", "order_type": "LIMIT", "price": "1"}])  # fmt: skip
        print(order_id, time_in_force, results)
