"""The engine's listener hook: what the WebSocket gateway hears, in order, and nothing built
while nobody listens."""

from __future__ import annotations

from decimal import Decimal

import pytest

import coinflex_async.sim._engine as engine_module
from coinflex_async.sim import Simulator
from coinflex_async.sim._events import EngineEvent, OrderEvent, PositionEvent, TradeEvent
from coinflex_async.sim._requests import CancelRequest, NewOrderRequest

SWAP = "BTC-USD-SWAP-LIN"


def _limit(side: str, quantity: str, price: str, tif: str = "GTC") -> NewOrderRequest:
    return NewOrderRequest(
        client_order_id=None,
        market_code=SWAP,
        side=side,
        quantity=Decimal(quantity),
        order_type="LIMIT",
        time_in_force=tif,
        price=Decimal(price),
    )


def _names(events: list[EngineEvent]) -> list[str]:
    names = []
    for event in events:
        if isinstance(event, OrderEvent):
            names.append(f"{event.notice}:{event.order.side}")
        elif isinstance(event, TradeEvent):
            names.append(f"Trade:{event.trade.quantity}")
        elif isinstance(event, PositionEvent):
            names.append(f"Position:{event.position.quantity}")
        else:
            names.append(type(event).__name__)
    return names


def test_events_of_a_partial_match_then_cancels() -> None:
    sim = Simulator(rate_limits=None)
    engine = sim.engine
    alice = engine.accounts[sim.create_account(balances={"USD": "1000000"}).account_id]
    bob = engine.accounts[sim.create_account(balances={"USD": "1000000"}).account_id]
    heard: list[EngineEvent] = []
    engine.add_listener(heard.append)
    maker = engine.place_order(alice, _limit("SELL", "2", "50000"))
    engine.place_order(bob, _limit("BUY", "0.5", "50000", "IOC"))
    engine.place_order(bob, _limit("BUY", "1", "49000", "FOK"))
    engine.cancel_order(alice, CancelRequest(SWAP, maker.order_id))
    engine.cancel_all(bob, None)
    assert _names(heard) == [
        "OrderOpened:SELL",
        "OrderOpened:BUY",
        "OrderMatched:SELL",
        "Position:-0.500",
        "OrderMatched:BUY",
        "Position:0.500",
        "Trade:0.500",
        "OrderOpened:BUY",
        "OrderClosed:BUY",  # the FOK
        "OrderClosed:SELL",  # the cancel
        "CancelAllEvent",
    ]
    engine.remove_listener(heard.append)
    engine.place_order(alice, _limit("SELL", "1", "50500"))
    assert len(heard) == 11


def test_nothing_is_built_without_listeners(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulator(rate_limits=None)
    engine = sim.engine
    alice = engine.accounts[sim.create_account(balances={"USD": "1000000"}).account_id]
    built: list[object] = []

    class Spy(OrderEvent):
        def __init__(self, *args: object, **kwargs: object) -> None:
            built.append(args)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module, "OrderEvent", Spy)
    engine.place_order(alice, _limit("SELL", "1", "50000"))
    assert built == []
    engine.add_listener(lambda event: None)
    engine.place_order(alice, _limit("SELL", "1", "50000"))
    assert len(built) == 1
