"""Private REST endpoints that move funds outside trading: delivery, mint and redeem,
borrow and repay, and funding payments."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import _wire as wire
from ._errors import SimError
from ._markets import MarketType
from ._numbers import format_decimal, parse_decimal
from ._rest_pipeline import Call, Handlers

__all__ = ["FundsHandlers"]


class FundsHandlers(Handlers):
    def delivery_orders(self, call: Call) -> Any:
        orders = self.ledger.deliveries.get(call.me.account_id, [])
        data = [wire.delivery_item(order) for order in reversed(orders)]
        return wire.envelope("deliverOrders", call.now, data)

    def request_delivery(self, call: Call) -> Any:
        # The docs send these as query parameters (and show them as a body too): take either.
        params: dict[str, Any] = dict(call.request.query)
        if call.body:
            params.update(call.json_object())
        instrument = params.get("instrumentId", params.get("instrumentID"))
        quantity = parse_decimal(params.get("qtyDeliver"))
        if quantity is None:
            raise SimError("20001", "Invalid parameter: qtyDeliver must be a decimal number")
        order = self.ledger.request_delivery(call.me, instrument, quantity)
        data = [wire.delivery_request_item(order)]
        return wire.envelope("delivery", call.now, data, {"accountId": call.me.account_id})

    def cancel_delivery(self, call: Call) -> Any:
        cancelled = self.ledger.cancel_delivery(call.me, call.path_param("deliveryOrderId"))
        message = (
            "Cancel of user order was successful"
            if cancelled
            else "Cancel exception please try again"
        )
        return wire.envelope("delivery", call.now, [message], {"accountId": call.me.account_id})

    def deliver_auction(self, call: Call) -> Any:
        code = call.request.match_info.get("instrumentId")
        if code is not None:
            market = self._market(code)
            if market.type != MarketType.FUTURE:
                raise SimError("20001", f"Invalid parameter: {code} is not a perpetual swap")
            markets = [market]
        else:
            markets = [m for m in self.engine.markets.values() if m.type == MarketType.FUTURE]
        auction_time = (call.now // 3_600_000 + 1) * 3_600_000
        data = [
            {
                "instrumentId": market.code,
                "auctionTime": str(auction_time),
                "netDeliver": format_decimal(self.ledger.net_delivery(market)),
                "estFundingRate": format_decimal(self.ledger.funding_rate(market)),
            }
            for market in markets
        ]
        return wire.envelope("deliverAuction", call.now, data)

    # -- mint, redeem, borrow, repay, funding -----------------------------------------------

    def _envelope(self, call: Call, event: str, data: Any) -> Any:
        return wire.envelope(event, call.now, data, {"accountId": call.me.account_id})

    def mint(self, call: Call) -> Any:
        body = call.json_object()
        record = self.ledger.mint(call.me, body.get("asset"), _amount(body, "quantity"))
        return self._envelope(
            call, "mint", {"asset": record.asset, "quantity": format_decimal(record.quantity)}
        )

    def redeem(self, call: Call) -> Any:
        body = call.json_object()
        redemption = self.ledger.redeem(
            call.me, body.get("asset"), _amount(body, "quantity"), body.get("type")
        )
        data = {
            "asset": redemption.asset,
            "quantity": format_decimal(redemption.quantity),
            "redeemAt": str(redemption.redeem_at),
            "type": redemption.type,
        }
        return self._envelope(call, "redeem", data)

    def _history(
        self,
        call: Call,
        records: list[Any],
        asset_of: Callable[[Any], str],
        time_of: Callable[[Any], int],
    ) -> list[Any]:
        asset = call.path_param("asset")
        limit = call.integer("limit", 100, maximum=100, minimum=1)
        start, end = call.time_range()
        chosen = []
        for record in reversed(records):
            if asset_of(record) == asset and start <= time_of(record) <= end:
                chosen.append(record)
                if len(chosen) >= limit:
                    break
        return chosen

    def mint_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.mints.get(call.me.account_id, []),
            lambda r: r.asset,
            lambda r: r.minted_at,
        )
        return self._envelope(call, "mintHistory", [wire.mint_item(r) for r in records])

    def redeem_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.redemptions.get(call.me.account_id, []),
            lambda r: r.asset,
            lambda r: r.requested_at,
        )
        return self._envelope(call, "redemptionHistory", [wire.redemption_item(r) for r in records])

    def borrow(self, call: Call) -> Any:
        body = call.json_object()
        record = self.ledger.borrow(
            call.me,
            body.get("borrowAsset"),
            body.get("collateralAsset"),
            _amount(body, "collateralAmount"),
        )
        return self._envelope(call, "borrow", wire.borrow_item(record))

    def repay(self, call: Call) -> Any:
        body = call.json_object()
        record = self.ledger.repay(
            call.me, body.get("repayAsset"), body.get("regainAsset"), _amount(body, "regainAmount")
        )
        return self._envelope(call, "repay", wire.repay_item(record))

    def borrow_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.borrows.get(call.me.account_id, []),
            lambda r: r.collateral_asset,
            lambda r: r.borrowed_at,
        )
        return self._envelope(call, "borrowHistory", [wire.borrow_item(r) for r in records])

    def repay_history(self, call: Call) -> Any:
        records = self._history(
            call,
            self.ledger.repays.get(call.me.account_id, []),
            lambda r: r.regain_asset,
            lambda r: r.repaid_at,
        )
        return self._envelope(call, "repayHistory", [wire.repay_item(r) for r in records])

    def borrowing_summary(self, call: Call) -> Any:
        loans = self.ledger.outstanding_loans(call.me)
        return self._envelope(
            call, "borrowingSummary", [wire.borrowing_summary_item(loan) for loan in loans]
        )

    def close_borrow(self, call: Call) -> Any:
        body = call.json_object()
        price = _optional_amount(body, "price")
        quantity = _optional_amount(body, "quantity")
        order = self.ledger.close_borrow(call.me, body.get("marketCode"), price, quantity)
        return self._envelope(
            call, "closeBorrow", wire.order_result(order, full=True, now=call.now)
        )

    def funding_payments(self, call: Call) -> Any:
        code = call.text("marketCode")
        if not code:
            raise SimError("20001", "Invalid parameter: marketCode is required")
        market = self._market(code)
        if market.type == MarketType.REPO:
            code = f"{market.base}-{market.counter}-SWAP-LIN"  # a repo's payments are its swap's
        limit = call.integer("limit", 50, maximum=50, minimum=1)
        start, end = call.time_range()
        payments = self.ledger.funding_payments.get(call.me.account_id, [])
        data = [
            wire.funding_payment_item(p)
            for p in reversed(payments)
            if p.market_code == code and start <= p.timestamp <= end
        ][:limit]
        return self._envelope(call, "fundingPayments", data)


def _amount(body: dict[str, Any], key: str) -> Decimal:
    value = parse_decimal(body.get(key))
    if value is None:
        raise SimError("20001", f"Invalid parameter: {key} must be a decimal number")
    return value


def _optional_amount(body: dict[str, Any], key: str) -> Decimal | None:
    return None if body.get(key) is None else _amount(body, key)
