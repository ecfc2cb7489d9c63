"""Market and asset definitions: what the simulator lists and trades by default."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "COLLATERAL_WEIGHTS",
    "DEFAULT_ASSETS",
    "DEFAULT_MARKETS",
    "FLEX_ASSETS",
    "AssetSpec",
    "MarketSpec",
    "MarketType",
]


class MarketType:
    """The ``type`` values of GET /v2/all/markets this simulator uses."""

    SPOT = "SPOT"
    # CoinFLEX lists its perpetual swaps (``*-SWAP-LIN``) with type FUTURE.
    FUTURE = "FUTURE"
    REPO = "REPO"


@dataclass(frozen=True)
class MarketSpec:
    """One market: its code, kind, assets, increments and starting mark price.

    ``price_band`` sets the sanity bounds (710002/710003): a fraction of the mark price
    for SPOT and FUTURE markets (0.1 = +-10%), an absolute rate for REPO markets.
    ``margin_rate`` is the initial margin of a FUTURE/REPO position or working order
    (0.1 = 10x leverage). ``funding_rate`` is the swap's hourly rate when no REPO market
    trades set one.
    """

    market_code: str
    type: str
    base: str
    counter: str
    tick_size: Decimal
    qty_increment: Decimal
    mark_price: Decimal
    price_band: Decimal = Decimal("0.1")
    margin_rate: Decimal = Decimal("0.1")
    funding_rate: Decimal = Decimal("0.00001")
    market_id: str | None = None
    name: str | None = None
    listing_date: int = 1_577_836_800_000

    @property
    def display_name(self) -> str:
        if self.name is not None:
            return self.name
        pair = f"{self.base}/{self.counter}"
        if self.type == MarketType.FUTURE:
            return f"{pair} Perpetual"
        if self.type == MarketType.REPO:
            return f"{pair} Repo"
        return pair


@dataclass(frozen=True)
class AssetSpec:
    """One coin listed by GET /v2/all/assets."""

    instrument_id: str
    name: str


DEFAULT_MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec(
        "BTC-USD", MarketType.SPOT, "BTC", "USD", Decimal("0.1"), Decimal("0.001"), Decimal(50000)
    ),
    MarketSpec(
        "ETH-USD", MarketType.SPOT, "ETH", "USD", Decimal("0.01"), Decimal("0.01"), Decimal(3000)
    ),
    MarketSpec(
        "FLEX-USD", MarketType.SPOT, "FLEX", "USD", Decimal("0.001"), Decimal("0.1"), Decimal(5)
    ),
    MarketSpec(
        "BTC-USD-SWAP-LIN",
        MarketType.FUTURE,
        "BTC",
        "USD",
        Decimal("0.5"),
        Decimal("0.001"),
        Decimal(50000),
    ),
    MarketSpec(
        "ETH-USD-SWAP-LIN",
        MarketType.FUTURE,
        "ETH",
        "USD",
        Decimal("0.05"),
        Decimal("0.01"),
        Decimal(3000),
    ),
    MarketSpec(
        "FLEX-USD-SWAP-LIN",
        MarketType.FUTURE,
        "FLEX",
        "USD",
        Decimal("0.001"),
        Decimal("0.1"),
        Decimal(5),
        margin_rate=Decimal("0.2"),
    ),
    MarketSpec(
        "BTC-USD-REPO-LIN",
        MarketType.REPO,
        "BTC",
        "USD",
        Decimal("0.00001"),
        Decimal("0.001"),
        Decimal(0),
        price_band=Decimal("0.01"),
    ),
    MarketSpec(
        "ETH-USD-REPO-LIN",
        MarketType.REPO,
        "ETH",
        "USD",
        Decimal("0.00001"),
        Decimal("0.01"),
        Decimal(0),
        price_band=Decimal("0.01"),
    ),
)

DEFAULT_ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec("USD", "US Dollar"),
    AssetSpec("BTC", "Bitcoin"),
    AssetSpec("ETH", "Ethereum"),
    AssetSpec("FLEX", "FLEX Coin"),
    AssetSpec("flexUSD", "flexUSD"),
    AssetSpec("flexBTC", "flexBTC"),
    AssetSpec("flexETH", "flexETH"),
    AssetSpec("flexFLEX", "flexFLEX"),
)

# flexAsset -> the coin it is minted from and redeemed into, 1:1.
FLEX_ASSETS: dict[str, str] = {
    "flexUSD": "USD",
    "flexBTC": "BTC",
    "flexETH": "ETH",
    "flexFLEX": "FLEX",
}

# Share of a coin's USD value that counts as collateral ("LTV applied"), and that can be
# borrowed against. Coins not listed count for nothing.
COLLATERAL_WEIGHTS: dict[str, Decimal] = {
    "USD": Decimal(1),
    "flexUSD": Decimal(1),
    "BTC": Decimal("0.9"),
    "flexBTC": Decimal("0.9"),
    "ETH": Decimal("0.9"),
    "flexETH": Decimal("0.9"),
    "FLEX": Decimal("0.5"),
    "flexFLEX": Decimal("0.5"),
}
