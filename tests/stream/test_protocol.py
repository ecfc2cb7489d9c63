"""stream.protocol: the docs' language, pure (URL, channels, answers, login)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

import coinflex_async as cf
from coinflex_async._signing import Credentials
from coinflex_async.stream import ws_url
from coinflex_async.stream.protocol import (
    TABLES,
    failure_event,
    frame_decoder,
    login_message,
    order_result,
    table_for,
)
from tests.stream.support import KEY, SECRET
from tests.ws_loopback import docs_login_signature


def test_ws_url_follows_the_base_url() -> None:
    assert ws_url("https://v2api.coinflex.com") == "wss://v2api.coinflex.com/v2/websocket"
    assert ws_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/v2/websocket"


@pytest.mark.parametrize(
    ("channel", "table"),
    [
        ("depthL10:BTC-USD", "depth"),
        ("candles60s:BTC-USD", "candles"),
        ("liquidationRFQ", "liquidationRFQ"),
        ("order:all", "order"),
        ("balance:USD", "balance"),
    ],
)
def test_the_docs_channels_map_to_their_tables(channel: str, table: str) -> None:
    assert table_for(channel) is TABLES[table]


@pytest.mark.parametrize(
    "channel", ["", " trade:X", "trade", "trade:", "nonsense:X", "liquidationRFQ:X"]
)
def test_anything_else_is_not_a_channel(channel: str) -> None:
    with pytest.raises(cf.ValidationError):
        table_for(channel)


def test_a_command_answer_becomes_the_result_rest_gives() -> None:
    frame = frame_decoder.decode(
        b'{"event":"placeorder","submitted":true,"tag":"1","timestamp":"1594138841000",'
        b'"data":{"clientOrderId":1,"orderID":"100","marketCode":"BTC-USD","side":"BUY",'
        b'"orderType":"LIMIT","price":9431.48,"quantity":0.001,"timeInForce":"GTC"}}'
    )
    result = order_result(frame)
    assert result.success and result.order_id == "100" and result.client_order_id == "1"
    assert result.price == Decimal("9431.48") and result.quantity == Decimal("0.001")
    refused = order_result(
        frame_decoder.decode(b'{"event":"placeorder","submitted":false,"code":"20015","tag":2}')
    )
    assert not refused.success and refused.code == "20015"


def test_a_failure_notice_becomes_an_order_failure_event() -> None:
    frame = frame_decoder.decode(
        b'{"event":"CANCEL","submitted":false,"code":"100004","message":"n/a","timestamp":"1",'
        b'"data":{"clientOrderId":3,"orderId":304,"status":"REJECT_CANCEL_ORDER_ID_NOT_FOUND",'
        b'"marketCode":"BTC-USD","price":9.5,"timestampEpochMs":1600000000000}}'
    )
    event = failure_event(frame)
    assert (event.event, event.code, event.order_id, event.client_order_id) == (
        "CANCEL",
        "100004",
        "304",
        "3",
    )
    assert event.price == Decimal("9.5") and event.timestamp == 1600000000000
    with pytest.raises(msgspec.ValidationError):
        failure_event(frame_decoder.decode(b'{"event":"CANCEL","data":{"price":"x"}}'))


def test_the_login_message_is_signed_as_the_docs_say() -> None:
    message = login_message(Credentials(KEY, SECRET), 1_600_000_000_000)
    data = message["data"]
    assert message["op"] == "login"
    assert (data["apiKey"], data["timestamp"]) == (KEY, "1600000000000")
    assert data["signature"] == docs_login_signature(SECRET, "1600000000000")
