"""Unit-testing a bot with aioresponses: what works, kept true by ``nox -s aioresponses``.

aioresponses replaces ``aiohttp.ClientSession._request``, where aiohttp (3.12+) runs client
middlewares; coinflex_async signs requests in one, so under aioresponses nothing is signed and
the mocked answers come back decoded as usual. That is enough to test a bot's own logic
against canned answers, public and private. It is not a test of signing, retries, rate limits
or order recovery: for those, test against the simulator (the ``coinflex_sim`` fixture).

aioresponses 0.7.9 fails on aiohttp 3.14 (``ClientResponse.__init__() missing ...
'stream_writer'``), so this runs on aiohttp 3.13.
"""

from decimal import Decimal

import pytest
from aioresponses import aioresponses

import coinflex_async as cf

URL = "https://v2api.coinflex.com"
KEY, SECRET = "test-key", "test-secret"


@pytest.fixture
def mocked():
    with aioresponses() as mock:
        yield mock


def sent_headers(mocked, method, url):
    """The headers of the one request aioresponses saw for ``method url``."""
    (call,) = [
        call
        for (verb, seen), calls in mocked.requests.items()
        for call in calls
        if verb == method and str(seen) == url
    ]
    return call.kwargs.get("headers") or {}


async def test_a_public_call_returns_typed_models(mocked):
    mocked.get(
        f"{URL}/v2/ticker",
        payload={
            "event": "ticker",
            "timestamp": "1615430915625",
            "data": [
                {
                    "marketCode": "BTC-USD-SWAP-LIN",
                    "last": "54900.5",
                    "markPrice": "54901",
                    "open24h": "54000",
                    "volume24h": "11295421",
                    "currencyVolume24h": "1025.7",
                    "high24h": "55100",
                    "low24h": "53800",
                    "openInterest": "1726003",
                    "lastQty": "0.01",
                }
            ],
        },
    )
    async with cf.Client() as client:
        (ticker,) = await client.public.ticker()
    assert ticker.market_code == "BTC-USD-SWAP-LIN"
    assert ticker.last == Decimal("54900.5")


async def test_a_private_call_is_answered_but_not_signed(mocked):
    mocked.get(
        f"{URL}/v2/balances",
        payload={
            "event": "balances",
            "timestamp": 1611665626191,
            "accountId": "1",
            "tradeType": "LINEAR",
            "data": [
                {
                    "instrumentId": "USD",
                    "total": "100",
                    "available": "80",
                    "reserved": "20",
                    "quantityLastUpdated": "1593627415234",
                }
            ],
        },
    )
    async with cf.Client(KEY, SECRET) as client:
        (usd,) = await client.private.balances()
    assert (usd.instrument_id, usd.available) == ("USD", Decimal("80"))
    # The signing middleware never ran: aioresponses answered before it.
    assert "Signature" not in sent_headers(mocked, "GET", f"{URL}/v2/balances")


async def test_an_order_is_answered_and_a_refusal_raises(mocked):
    accepted = {
        "success": "true",
        "clientOrderId": "1001",
        "orderId": "304354590153349202",
        "marketCode": "BTC-USD-SWAP-LIN",
        "side": "BUY",
        "quantity": "0.001",
        "price": "54900",
        "orderType": "LIMIT",
        "timeInForce": "GTC",
        "timestamp": "1615430915602",
    }
    refused = {
        **accepted,
        "success": "false",
        "orderId": "0",
        "code": "710002",
        "message": "FAILED sanity bound check",
    }
    envelope = {"event": "placeOrder", "accountId": "1", "timestamp": "1615430915625"}
    mocked.post(f"{URL}/v2/orders/place", payload={**envelope, "data": [accepted]})
    mocked.post(f"{URL}/v2/orders/place", payload={**envelope, "data": [refused]})
    order = {
        "market_code": "BTC-USD-SWAP-LIN",
        "side": cf.Side.BUY,
        "quantity": "0.001",
        "order_type": cf.OrderType.LIMIT,
        "price": "54900",
        "client_order_id": "1001",
    }
    async with cf.Client(KEY, SECRET) as client:
        result = await client.private.place_order(**order)
        assert result.order_id == "304354590153349202"
        with pytest.raises(cf.OrderRejectedError) as refusal:
            await client.private.place_order(**order)
    assert refusal.value.code == "710002"
