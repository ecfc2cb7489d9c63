"""The harness's own moving parts: request framing, canned answers, paired ratios, batches."""

from __future__ import annotations

import asyncio
import http.client
import json
from decimal import Decimal

import pytest

from benchmarks.driver import BatchRecord, CaseResult
from benchmarks.floor_models import DECODERS
from benchmarks.payloads import build_bodies, place_order_body
from benchmarks.scenarios import CANDLE_COUNT, DEPTH_LEVELS, MARKET_CODE, TRADE_COUNT
from benchmarks.server import (
    NOT_IMPLEMENTED,
    CannedServer,
    HTTPRequestParser,
    UnservableRequestError,
)
from benchmarks.worker import run_batch

POST = b"POST /v2/orders/place HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
GET = b"GET /v2/ping?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"


def test_parser_waits_for_the_whole_body_across_chunks() -> None:
    parser = HTTPRequestParser()
    assert parser.feed(POST[:20]) == []
    assert parser.feed(POST[20:-2]) == []
    assert parser.feed(POST[-2:]) == [(b"POST", b"/v2/orders/place", b"hello")]


def test_parser_splits_back_to_back_requests() -> None:
    parser = HTTPRequestParser()
    requests = parser.feed(POST + GET + GET[:10])
    assert requests == [(b"POST", b"/v2/orders/place", b"hello"), (b"GET", b"/v2/ping?x=1", b"")]
    assert parser.feed(GET[10:]) == [(b"GET", b"/v2/ping?x=1", b"")]


def test_parser_reads_only_the_content_length_header_itself() -> None:
    parser = HTTPRequestParser()
    request = b"GET /a HTTP/1.1\r\nX-Content-Length: 9\r\n\r\n"
    assert parser.feed(request) == [(b"GET", b"/a", b"")]


def test_parser_refuses_chunked_bodies() -> None:
    parser = HTTPRequestParser()
    with pytest.raises(UnservableRequestError) as raised:
        parser.feed(b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert raised.value.response == NOT_IMPLEMENTED


def test_bodies_have_the_docs_shape_and_decode_into_the_typed_floor() -> None:
    bodies = build_bodies()
    trades = json.loads(bodies[f"/v2/publictrades/{MARKET_CODE}"])
    first = trades["data"][0]
    assert isinstance(first["matchPrice"], str) and len(first["matchPrice"].split(".")[1]) == 9
    assert len({t["matchPrice"] for t in trades["data"]}) > TRADE_COUNT // 2

    candles = DECODERS["candles"].decode(bodies[f"/v2/candles/{MARKET_CODE}"]).data
    assert len(candles) == CANDLE_COUNT
    assert all(c.low <= min(c.open, c.close) and c.high >= max(c.open, c.close) for c in candles)

    depth = json.loads(bodies[f"/v2/depth/{MARKET_CODE}/{DEPTH_LEVELS}"])["data"][0]
    assert len(depth["asks"]) == DEPTH_LEVELS and all(len(level) == 4 for level in depth["asks"])
    book = DECODERS["depth"].decode(bodies[f"/v2/depth/{MARKET_CODE}/{DEPTH_LEVELS}"]).data[0]
    assert book.asks[0].price > book.bids[0].price  # not a crossed book

    balances = json.loads(bodies["/v2/balances"])["data"]
    for balance in balances:
        total, available, reserved = (
            Decimal(balance[key]) for key in ("total", "available", "reserved")
        )
        assert total == available + reserved
    # ccxt reads the same candles from the v3 endpoint.
    v3 = json.loads(bodies["/v3/candles"])["data"]
    assert [c["close"] for c in v3[:50]] == [str(c.close) for c in candles[:50]]


def test_server_answers_by_path_over_one_kept_alive_connection() -> None:
    with CannedServer() as server:
        connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
        try:
            connection.request("GET", "/v2/ping")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, build_bodies()["/v2/ping"])

            order = {"orders": [{"clientOrderId": "987654321", "marketCode": MARKET_CODE}]}
            connection.request("POST", "/v2/orders/place", body=json.dumps(order))
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == place_order_body("987654321")

            connection.request("GET", "/v2/nowhere")
            response = connection.getresponse()
            response.read()
            assert response.status == 404
        finally:
            connection.close()
        _cpu, requests = server.stats()
        assert requests == 3


def _batch(kind: str, round_number: int, cpu: float, n: int = 100) -> BatchRecord:
    return BatchRecord(kind, round_number, 0, n, cpu, 1.0, 0.1, n)


def test_ratios_pair_batches_of_the_same_round() -> None:
    case = CaseResult("ping", 1)
    # The machine's speed drifts 3x between rounds. The client's batch of 50 costs 1.1x the
    # floor's batch of 100 (2.2x per request) except in one disturbed round.
    floor_cpu = [1.0, 3.0, 2.0]
    client_cpu = [1.1, 3.3, 4.0]
    for round_number, (floor, client) in enumerate(zip(floor_cpu, client_cpu, strict=True)):
        case.batches.append(_batch("typed", round_number, floor))
        case.batches.append(_batch("client", round_number, client, n=50))
    # Unpaired medians would say 3.3 (3.3/50 over 2.0/100).
    assert case.median_ratio("client", "typed") == pytest.approx(2.2)
    assert case.cpu_us_per_request("typed") == pytest.approx(2.0 / 100 * 1e6)


def test_ratios_skip_rounds_one_kind_lacks() -> None:
    case = CaseResult("ping", 1)
    case.batches += [_batch("typed", 0, 1.0), _batch("client", 0, 2.0), _batch("client", 1, 9.0)]
    assert case.median_ratio("client", "typed") == pytest.approx(2.0)
    assert case.median_ratio("client", "ccxt") is None


class _CountingRunner:
    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def call(self) -> object:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        return None

    def check(self, result: object) -> None:
        pass

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(("count", "concurrency"), [(7, 1), (100, 32), (5, 32)])
async def test_a_batch_makes_exactly_count_calls_at_most_concurrency_at_once(
    count: int, concurrency: int
) -> None:
    runner = _CountingRunner()
    await run_batch(runner, count, concurrency)
    assert runner.calls == count
    assert runner.most_in_flight == min(count, concurrency)
