"""The public API's method tables, kept once: ``group.method`` -> the verb and path it documents.

The resource tests check each method's docstring against it, the e2e coverage check that each
has an end-to-end test, and tests/test_endpoints.py that the query endpoints' declarations in
``coinflex_async._endpoints`` say the same verb and path.
"""

from __future__ import annotations

API_METHODS: dict[str, str] = {
    # client.public
    "public.ping": "GET /v2/ping",
    "public.markets": "GET /v2/all/markets",
    "public.assets": "GET /v2/all/assets",
    "public.trades": "GET /v2/publictrades/{marketCode}",
    "public.ticker": "GET /v2/ticker",
    "public.delivery_funding": "GET /v2/delivery/public/funding",
    "public.candles": "GET /v2/candles/{marketCode}",
    "public.funding_rates": "GET /v2/funding-rates/{marketCode}",
    "public.depth": "GET /v2/depth/{marketCode}/{level}",
    # client.private
    "private.account_info": "GET /v2/accountinfo",
    "private.balances": "GET /v2/balances",
    "private.balance": "GET /v2/balances/{instrumentId}",
    "private.positions": "GET /v2/positions",
    "private.position": "GET /v2/positions/{instrumentId}",
    "private.trades": "GET /v2/trades/{marketCode}",
    "private.open_orders": "GET /v2/orders",
    "private.orders": "GET /v2.1/orders",
    "private.cancel_all_orders": "DELETE /v2/cancel/orders",
    "private.delivery_orders": "GET /v2.1/delivery/orders",
    "private.request_delivery": "POST /v2.1/delivery/orders",
    "private.cancel_delivery": "DELETE /v2.1/delivery/orders/{deliveryOrderId}",
    "private.deliver_auction": "GET /v2.1/deliver-auction/{instrumentId}",
    "private.place_orders": "POST /v2/orders/place",
    "private.place_order": "POST /v2/orders/place",
    "private.modify_orders": "POST /v2/orders/modify",
    "private.modify_order": "POST /v2/orders/modify",
    "private.cancel_orders": "DELETE /v2/orders/cancel",
    "private.cancel_order": "DELETE /v2/orders/cancel",
    "private.mint": "POST /v2/mint",
    "private.mint_history": "GET /v2/mint/{asset}",
    "private.redeem": "POST /v2/redeem",
    "private.redeem_history": "GET /v2/redeem/{asset}",
    "private.borrow": "POST /v2/borrow",
    "private.repay": "POST /v2/repay",
    "private.borrow_history": "GET /v2/borrow/{asset}",
    "private.repay_history": "GET /v2/repay/{asset}",
    "private.borrowing_summary": "GET /v2/borrowingSummary",
    "private.close_borrow": "POST /v2/borrow/close",
    "private.funding_payments": "GET /v2/funding-payments",
    # client.flex_protocol
    "flex_protocol.balances": "GET /v2/flex-protocol/balances/{flexProtocol}",
    "flex_protocol.positions": "GET /v2/flex-protocol/positions/{flexProtocol}",
    "flex_protocol.orders": "GET /v2/flex-protocol/orders/{flexProtocol}",
    "flex_protocol.trades": "GET /v2/flex-protocol/trades/{flexProtocol}/{marketCode}",
    "flex_protocol.delivery_orders": "GET /v2/flex-protocol/delivery/orders/{flexProtocol}",
}


def methods_of(group: str) -> dict[str, str]:
    """``method`` -> ``VERB path`` of one group."""
    prefix = f"{group}."
    return {k[len(prefix) :]: v for k, v in API_METHODS.items() if k.startswith(prefix)}
