"""The aiohttp.web application: the route table of the REST endpoints, behind the request
pipeline (``_rest_pipeline.py``). The endpoints live by domain in ``_rest_market.py``,
``_rest_account.py``, ``_rest_orders.py`` and ``_rest_funds.py``."""

from __future__ import annotations

from aiohttp import web

from ._auth import Authenticator
from ._engine import Engine
from ._faults import FaultPlan
from ._ledger import Ledger
from ._limits import RateLimiter, SimStats
from ._rest_account import AccountHandlers
from ._rest_funds import FundsHandlers
from ._rest_market import MarketDataHandlers
from ._rest_orders import MAX_ORDERS_PER_REQUEST, OrderHandlers
from ._rest_pipeline import Endpoint, RequestPipeline

__all__ = ["MAX_ORDERS_PER_REQUEST", "ExchangeApp"]


class ExchangeApp:
    def __init__(
        self,
        *,
        engine: Engine,
        ledger: Ledger,
        authenticator: Authenticator,
        limiter: RateLimiter,
        faults: FaultPlan,
        stats: SimStats,
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.pipeline = RequestPipeline(
            engine=engine,
            ledger=ledger,
            authenticator=authenticator,
            limiter=limiter,
            faults=faults,
            stats=stats,
        )
        self.market_data = MarketDataHandlers(engine, ledger)
        self.account = AccountHandlers(engine, ledger)
        self.orders = OrderHandlers(engine, ledger)
        self.funds = FundsHandlers(engine, ledger)
        self.application = web.Application(
            middlewares=[self.pipeline.middleware], client_max_size=1024**2
        )
        self._add_routes()

    # -- routes -----------------------------------------------------------------------------

    def _add_routes(self) -> None:
        public: list[tuple[str, str, Endpoint]] = [
            ("GET", "/v2/ping", self.market_data.ping),
            ("GET", "/v2/all/markets", self.market_data.markets),
            ("GET", "/v2/all/assets", self.market_data.assets),
            ("GET", "/v2/publictrades/{marketCode}", self.market_data.public_trades),
            ("GET", "/v2/ticker", self.market_data.ticker),
            ("GET", "/v2/delivery/public/funding", self.market_data.public_funding),
            ("GET", "/v2/candles/{marketCode}", self.market_data.candles),
            ("GET", "/v2/funding-rates/{marketCode}", self.market_data.funding_rates),
            ("GET", "/v2/depth/{marketCode}/{level}", self.market_data.depth),
            ("GET", "/v2/flex-protocol/balances/{flexProtocol}", self.market_data.flex_balances),
            ("GET", "/v2/flex-protocol/positions/{flexProtocol}", self.market_data.flex_positions),
            ("GET", "/v2/flex-protocol/orders/{flexProtocol}", self.market_data.flex_orders),
            (
                "GET",
                "/v2/flex-protocol/trades/{flexProtocol}/{marketCode}",
                self.market_data.flex_trades,
            ),
            (
                "GET",
                "/v2/flex-protocol/delivery/orders/{flexProtocol}",
                self.market_data.flex_deliveries,
            ),
        ]
        private: list[tuple[str, str, Endpoint]] = [
            ("GET", "/v2/accountinfo", self.account.account_info),
            ("GET", "/v2/balances", self.account.balances),
            ("GET", "/v2/balances/{instrumentId}", self.account.balance_by_id),
            ("GET", "/v2/positions", self.account.positions),
            ("GET", "/v2/positions/{instrumentId}", self.account.position_by_id),
            ("GET", "/v2/trades/{marketCode}", self.account.trades),
            ("GET", "/v2/orders", self.orders.open_orders),
            ("GET", "/v2.1/orders", self.orders.order_history),
            ("DELETE", "/v2/cancel/orders", self.orders.cancel_all),
            ("DELETE", "/v2/cancel/orders/{marketCode}", self.orders.cancel_all),
            ("GET", "/v2.1/delivery/orders", self.funds.delivery_orders),
            ("POST", "/v2.1/delivery/orders", self.funds.request_delivery),
            ("DELETE", "/v2.1/delivery/orders/{deliveryOrderId}", self.funds.cancel_delivery),
            ("GET", "/v2/deliver-auction", self.funds.deliver_auction),
            ("GET", "/v2.1/deliver-auction/{instrumentId}", self.funds.deliver_auction),
            ("POST", "/v2/orders/place", self.orders.place_orders),
            ("POST", "/v2/orders/modify", self.orders.modify_orders),
            ("DELETE", "/v2/orders/cancel", self.orders.cancel_orders),
            ("POST", "/v2/mint", self.funds.mint),
            ("GET", "/v2/mint/{asset}", self.funds.mint_history),
            ("POST", "/v2/redeem", self.funds.redeem),
            ("GET", "/v2/redeem/{asset}", self.funds.redeem_history),
            ("POST", "/v2/borrow", self.funds.borrow),
            ("POST", "/v2/repay", self.funds.repay),
            ("GET", "/v2/borrow/{asset}", self.funds.borrow_history),
            ("GET", "/v2/repay/{asset}", self.funds.repay_history),
            ("GET", "/v2/borrowingSummary", self.funds.borrowing_summary),
            ("POST", "/v2/borrow/close", self.funds.close_borrow),
            ("GET", "/v2/funding-payments", self.funds.funding_payments),
        ]
        router = self.application.router
        for method, path, endpoint in public:
            router.add_route(method, path, self.pipeline.wrap(endpoint, private=False))
        for method, path, endpoint in private:
            router.add_route(method, path, self.pipeline.wrap(endpoint, private=True))
