"""Private REST endpoints about the account: its value, balances, positions and trades."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import _wire as wire
from ._accounts import Balance
from ._errors import SimError
from ._numbers import format_decimal, format_fixed
from ._rest_pipeline import Call, Handlers, newest

__all__ = ["AccountHandlers"]

RATIO_STEP = Decimal("0.0001")


class AccountHandlers(Handlers):
    def account_info(self, call: Call) -> Any:
        engine, account = self.engine, call.me
        collateral = engine.risk.collateral_value(account)
        margin = engine.risk.position_margin(account)
        # The docs show four decimals; with no margin requirement the ratio is shown as 0.
        risk_ratio = format_fixed(collateral / margin, RATIO_STEP) if margin else "0.0000"
        item = {
            "accountId": account.account_id,
            "tradeType": "LINEAR",
            "marginCurrency": "USD",
            "totalBalance": format_decimal(engine.risk.total_value(account)),
            "availableBalance": format_decimal(collateral - margin - account.order_margin),
            "collateralBalance": format_decimal(collateral),
            "portfolioVarMargin": format_decimal(margin),
            "riskRatio": risk_ratio,
            "timestamp": str(call.now),
        }
        return wire.envelope(
            "accountinfo",
            call.now,
            [item],
            {"accountId": account.account_id},
            numeric_timestamp=True,
        )

    def balances(self, call: Call) -> Any:
        account = call.me
        data = [wire.balance_item(asset, balance) for asset, balance in account.balances.items()]
        return wire.envelope(
            "balances",
            call.now,
            data,
            {"accountId": account.account_id, "tradeType": "LINEAR"},
            numeric_timestamp=True,
        )

    def balance_by_id(self, call: Call) -> Any:
        account = call.me
        asset = call.path_param("instrumentId")
        balance = account.balances.get(asset)
        if balance is None:
            if not any(spec.instrument_id == asset for spec in self.engine.assets):
                raise SimError("20001", f"Invalid parameter: unknown instrumentId {asset}", 404)
            balance = Balance(last_updated=account.created)
        return wire.envelope(
            "balancesById",
            call.now,
            [wire.balance_item(asset, balance)],
            {"accountId": account.account_id, "tradeType": "LINEAR"},
            numeric_timestamp=True,
        )

    def positions(self, call: Call) -> Any:
        account = call.me
        data = [
            wire.position_item(self.engine, account, position, with_liquidation=True)
            for position in account.positions.values()
            if position.quantity
        ]
        return wire.envelope(
            "positions", call.now, data, {"accountId": account.account_id}, numeric_timestamp=True
        )

    def position_by_id(self, call: Call) -> Any:
        account = call.me
        market = self._market(call.path_param("instrumentId"))
        position = account.positions.get(market.code)
        data = []
        if position is not None and position.quantity:
            data.append(wire.position_item(self.engine, account, position, with_liquidation=True))
        return wire.envelope(
            "positionsById",
            call.now,
            data,
            {"accountId": account.account_id},
            numeric_timestamp=True,
        )

    def trades(self, call: Call) -> Any:
        account = call.me
        market = self._market(call.path_param("marketCode"))
        limit = call.integer("limit", 500, maximum=1000, minimum=1)
        start, end = call.time_range()
        fills = newest(account.trades.get(market.code, []), start, end, limit)
        data = [wire.trade_item(fill) for fill in fills]
        return wire.envelope(
            "trades", call.now, data, {"accountId": account.account_id}, numeric_timestamp=True
        )
