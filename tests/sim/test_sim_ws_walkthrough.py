"""The issue's "done when", in one go: a plain client that follows only the docs logs in,
subscribes to every documented channel, trades with every documented command and sees its
fills on every private channel."""

from __future__ import annotations

import time
from decimal import Decimal

import aiohttp

from coinflex_async.sim import Simulator, WebSocketSettings

from ._ws import WsClient

MARKET = "ETH-USD-SWAP-LIN"
CHANNELS = [
    f"depth:{MARKET}",
    f"depthL5:{MARKET}",
    f"depthL10:{MARKET}",
    f"depthL25:{MARKET}",
    f"trade:{MARKET}",
    f"ticker:{MARKET}",
    "ticker:all",
    f"candles60s:{MARKET}",
    f"market:{MARKET}",
    "market:all",
    "liquidationRFQ",
    "order:all",
    f"order:{MARKET}",
    "balance:all",
    "balance:USD",
    "position:all",
    f"position:{MARKET}",
]
FAST = WebSocketSettings(
    depth_interval=0.02,
    balance_interval=0.05,
    ticker_interval=0.05,
    candles_interval=0.05,
    market_interval=0.05,
)


async def test_docs_client_walkthrough(session: aiohttp.ClientSession) -> None:
    async with Simulator(websocket=FAST) as sim:  # the docs' limits
        sim.add_liquidity([MARKET], levels=3)  # asks 3001.5, 3003.0, 3004.5
        alice = sim.create_account(balances={"USD": "1000000"})
        client = await WsClient.connect(session, sim)
        await client.login(alice)
        replies = await client.subscribe(*CHANNELS)
        assert [reply["channel"] for reply in replies] == CHANNELS
        now = int(time.time() * 1000)
        order = {"marketCode": MARKET, "side": "BUY", "orderType": "LIMIT", "quantity": 2}
        resting = await client.request(
            {"op": "placeorder", "data": {**order, "price": 2990, "timestamp": now}}
        )
        await client.send(
            {
                "op": "placeorders",
                "dataArray": [
                    {"marketCode": MARKET, "side": "BUY", "orderType": "MARKET", "quantity": 1},
                    {**order, "orderType": "STOP_LIMIT", "stopPrice": 3200, "limitPrice": 3210},
                ],
            }
        )
        market_reply = await client.next(lambda m: m.get("event") == "placeorder")
        stop_reply = await client.next(lambda m: m.get("event") == "placeorder")
        assert market_reply["submitted"] and stop_reply["submitted"]
        modified = await client.request(
            {
                "op": "modifyorder",
                "data": {
                    "marketCode": MARKET,
                    "orderId": resting["data"]["orderId"],
                    "quantity": 1,
                },
            }
        )
        await client.send(
            {
                "op": "modifyorders",
                "dataArray": [
                    {"marketCode": MARKET, "orderId": modified["data"]["orderId"], "price": 3003}
                ],
            }
        )
        moved = await client.next(lambda m: m.get("event") == "modifyorder")
        assert moved["submitted"] is True
        cancelled = await client.request(
            {
                "op": "cancelorder",
                "data": {"marketCode": MARKET, "orderId": stop_reply["data"]["orderId"]},
            }
        )
        assert cancelled["submitted"] is True
        await client.send(
            {
                "op": "cancelorders",
                "dataArray": [{"marketCode": MARKET, "orderId": moved["data"]["orderId"]}],
            }
        )
        assert (await client.next(lambda m: m.get("event") == "cancelorder"))["submitted"]
        # Every channel spoke (liquidationRFQ aside: no liquidations here).
        for table in ("depth", "trade", "ticker", "candles60s", "market", "balance", "position"):
            await client.table(table)
        notices = set()
        while len(notices) < 4:
            notices.add((await client.table("order"))["data"][0]["notice"])
        assert notices == {"OrderOpened", "OrderMatched", "OrderModified", "OrderClosed"}
        # The fills (the MARKET buy, and the moved order at 3003) on the private channels.
        position = await client.table("position", instrumentId=MARKET, quantity="2.00")
        assert position["data"][0]["entryPrice"] == "3001.5"
        client.inbox = [m for m in client.inbox if m.get("table") != "balance"]
        balance = await client.table("balance")
        usd = next(item for item in balance["data"] if item["instrumentId"] == "USD")
        assert Decimal(usd["total"]) == alice.balance("USD") < 1000000  # fees paid
        await client.close()
