"""Typical mistakes (over twenty) made with the order API, each one a type checker must flag.

Never run, only type-checked: tests/static_typing/test_static_typing.py runs ``mypy --strict``
on this file and asserts that mypy reports an error on exactly the lines marked
``# expect-error: <code>``, with that error code, and on no other line.
"""

from __future__ import annotations

from decimal import Decimal

import coinflex_async as cf

M = "BTC-USD-SWAP-LIN"


async def mistakes(client: cf.Client) -> None:
    private = client.private

    # -- the single-order calls' keywords --------------------------------------------------------
    # 1. a misspelt keyword
    await private.place_order(market_code=M, side="BUY", qty="1", order_type="LIMIT", price="1")  # expect-error: call-arg
    # 2. a misspelt side
    await private.place_order(market_code=M, side="BYU", quantity="1", order_type="LIMIT", price="1")  # expect-error: arg-type
    # 3. a float price (0.1 is not exactly 0.1 as a float)
    await private.place_order(market_code=M, side="BUY", quantity="1", order_type="LIMIT", price=0.1)  # expect-error: arg-type
    # 4. a float quantity
    await private.place_order(market_code=M, side="SELL", quantity=0.001, order_type="MARKET")  # expect-error: arg-type
    # 5. a required keyword forgotten (order_type)
    await private.place_order(market_code=M, side="BUY", quantity="1", price="54900")  # expect-error: call-arg
    # 6. an order type the exchange does not have
    await private.place_order(market_code=M, side="BUY", quantity="1", order_type="LIMT", price="1")  # expect-error: arg-type
    # 7. a time in force the exchange does not have
    await private.place_order(market_code=M, side="BUY", quantity="1", order_type="LIMIT", price="1", time_in_force="GTD")  # expect-error: arg-type
    # 8. positional arguments (every order field is a keyword)
    await private.place_order(M, "BUY", "1", "LIMIT", "54900")  # expect-error: call-arg
    # 9. an enum of the wrong kind
    await private.place_order(market_code=M, side=cf.OrderType.LIMIT, quantity="1", order_type="MARKET")  # expect-error: arg-type
    # 10. a response type the exchange does not have
    await private.place_order(market_code=M, side="BUY", quantity="1", order_type="MARKET", response_type="FAST")  # expect-error: arg-type
    # 11. modify without the order_id that names the order
    await private.modify_order(market_code=M, price="54900")  # expect-error: call-arg
    # 12. cancel by a float order ID
    await private.cancel_order(market_code=M, order_id=304384250571714215.0)  # expect-error: arg-type

    # -- the batch forms ---------------------------------------------------------------------------
    # 13. a struct built with a float
    cf.NewOrder(market_code=M, side="BUY", quantity=Decimal("1"), order_type="LIMIT", price=54900.5)  # expect-error: arg-type
    # 14. a lower-case side in a struct
    cf.ModifyOrder(order_id="1", market_code=M, side="buy")  # expect-error: arg-type
    # 15. a misspelt key in the dict form
    await private.place_orders([{"market_code": M, "side": "BUY", "quantity": "1", "order_type": "LIMIT", "prize": "1"}])  # expect-error: list-item
    # 16. a new order given to modify_orders
    await private.modify_orders([cf.NewOrder(market_code=M, side="BUY", quantity="1", order_type="MARKET")])  # expect-error: list-item

    # -- results -----------------------------------------------------------------------------------
    placed = await private.place_order(market_code=M, side="BUY", quantity="1", order_type="LIMIT", price="1")
    # 17. a misspelt status compared with
    if placed.status == "FILLD":  # expect-error: comparison-overlap
        pass
    # 18. a Decimal mixed with a float
    print(placed.quantity * 0.5)  # expect-error: operator
    # 19. a batch result used without checking it succeeded (its order_id may be None)
    results = await private.place_orders([cf.NewOrder(market_code=M, side="BUY", quantity="1", order_type="MARKET")])
    print(results[0].order_id.isdigit())  # expect-error: union-attr
    # 20. a forgotten await
    pending = private.place_order(market_code=M, side="BUY", quantity="1", order_type="MARKET")
    print(pending.order_id)  # expect-error: attr-defined

    # -- the other order-shaped calls --------------------------------------------------------------
    # 21. a redeem type in the wrong case
    await private.redeem("flexUSD", "1", type="INSTANT")  # expect-error: arg-type
    # 22. a float amount to mint
    await private.mint("flexUSD", 1.5)  # expect-error: arg-type
    # 23. a trade's side compared in lower case
    for trade in await private.trades(M):
        if trade.side == "sell":  # expect-error: comparison-overlap
            pass

    # -- the same keywords over the WebSocket ------------------------------------------------------
    async with client.stream() as ws:
        # 24. a misspelt keyword on a WebSocket order
        await ws.place_order(market_code=M, side="BUY", qty="1", order_type="LIMIT", price="1")  # expect-error: call-arg
        # 25. a float price on a WebSocket modify
        await ws.modify_order(market_code=M, order_id="1", price=0.1)  # expect-error: arg-type

    # -- typed subscriptions -----------------------------------------------------------------------
    async with client.stream() as ws:
        books = await ws.subscribe_depth(M, level=10)
        async for book in books:
            # 26. a misspelt field on a book
            print(book.seq_numb)  # expect-error: attr-defined
            # 27. a misspelt field on a book's level
            print(book.bids[0].prize)  # expect-error: attr-defined
        # 28. a depth level the exchange does not have
        await ws.subscribe_depth(M, level=20)  # expect-error: arg-type
        # 29. a candle granularity the exchange does not have
        await ws.subscribe_candles(M, 120)  # expect-error: arg-type
        async for trade_event in await ws.subscribe_trades(M):
            # 30. a misspelt field on a trade
            print(trade_event.trade_price)  # expect-error: attr-defined
        async for update in await ws.subscribe_orders():
            if isinstance(update, cf.OrderEvent):
                # 31. a status the docs do not list
                if update.status == "FILLD":  # expect-error: comparison-overlap
                    pass
                # 32. a notice the docs do not list
                if update.notice == "OrderCancelled":  # expect-error: comparison-overlap
                    pass
                # 33. a misspelt field on an order event
                print(update.client_order)  # expect-error: attr-defined
            # 34. an order update used without telling it from a Resynced
            print(update.order_id)  # expect-error: union-attr
