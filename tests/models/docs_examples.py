"""The docs' example responses (coinflex-v2-rest-api.txt), one constant per example.

Each is fixed only where the docs are not JSON, as its comment says; trailing whitespace is
dropped everywhere. ``MODEL_EXAMPLES`` says which objects of which examples each model decodes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from coinflex_async.models import (
    AcceptedOrder,
    AccountInfo,
    Asset,
    Balance,
    Borrow,
    BorrowingSummary,
    CancelAllResult,
    Candle,
    DeliverAuction,
    DeliveryFunding,
    DeliveryOrder,
    DeliveryRequest,
    FundingPayment,
    FundingRate,
    Market,
    MatchInfo,
    Mint,
    MintRecord,
    OpenOrder,
    OrderBook,
    OrderResult,
    OrderStatus,
    Ping,
    Position,
    PublicTrade,
    Redeem,
    RedeemRecord,
    Repay,
    Ticker,
    Trade,
)

# GET /v2/accountinfo: missing comma after the envelope timestamp added.
ACCOUNT_INFO = b"""\
{
  "event": "accountinfo",
  "timestamp": 1611665626191,
  "accountId": "<Your Account ID>",
  "data": [ {
              "accountId": "<Your Account ID>",
              "tradeType": "LINEAR",
              "marginCurrency": "USD",
              "totalBalance": "10000",
              "availableBalance": "10000",
              "collateralBalance": "10000",
              "portfolioVarMargin": "500",
              "riskRatio": "20.0000",
              "timestamp": "1611665624601"
          } ]
}
"""

# GET /v2/balances: the `...` item dropped.
BALANCES = b"""\
{
  "event": "balances",
  "timestamp": 1611665626191,
  "accountId": "<Your Account ID>",
  "tradeType": "LINEAR",
  "data": [ {
              "instrumentId": "BTC",
              "total": "4468.823",
              "available": "4468.823",
              "reserved": "0",
              "quantityLastUpdated": "1593627415234"
            },
            {
              "instrumentId": "FLEX",
              "total": "1585.890",
              "available": "325.890",
              "reserved": "1260",
              "quantityLastUpdated": "1593627415123"
            }
          ]
}
"""

# GET /v2/balances/{instrumentId}: as published.
BALANCE_BY_ID = b"""\
{
  "event": "balancesById",
  "timestamp": 1593627415293,
  "accountId": "<Your Account ID>",
  "tradeType": "LINEAR",
  "data": [ {
              "instrumentId": "FLEX",
              "total": "4468.823",
              "available": "4468.823",
              "reserved": "0",
              "quantityLastUpdated": "1593627415001"
            } ]
}
"""

# GET /v2/positions: the `...` item and the comma before it dropped.
POSITIONS = b"""\
{
  "event": "positions",
  "timestamp": 1593627415000,
  "accountId":"<Your Account ID>",
  "data": [ {
              "instrumentId": "BTC-USD-SWAP-LIN",
              "quantity": "0.542000000",
              "lastUpdated": "1617099855966",
              "contractValCurrency": "BTC",
              "entryPrice": "56934.8258",
              "positionPnl": "1212.0065",
              "estLiquidationPrice": "52454.3592"
            }
          ]
}
"""

# GET /v2/positions/{instrumentId}: as published.
POSITION_BY_ID = b"""\
{
  "event": "positionsById",
  "timestamp": 1593617005438,
  "accountId":"<Your Account ID>",
  "data": [ {
              "instrumentId": "BTC-USD-SWAP-LIN",
              "quantity": "0.542000000",
              "lastUpdated": "1617099855966",
              "contractValCurrency": "BTC",
              "entryPrice": "56934.8258",
              "positionPnl": "1216.6135",
              "estLiquidationPrice": "53171.16"
          } ]
}
"""

# GET /v2/trades/{marketCode}: the `...` item and the comma before it
# dropped.
TRADES = b"""\
{
  "event": "trades",
  "timestamp": 1595635101845,
  "accountId": "<Your Account ID>",
  "data": [ {
              "matchId": "160067484555913077",
              "matchTimestamp": "1595514663626",
              "marketCode": "FLEX-USD",
              "matchQuantity": "0.1",
              "matchPrice": "0.065",
              "total": "0.0065",
              "orderMatchType": "TAKER",
              "fees": "0.0096",
              "feeInstrumentId": "FLEX",
              "orderId": "160067484555913076",
              "side": "SELL",
              "clientOrderId": "123"
            }
          ]
}
"""

# GET /v2/orders: the one docs object shows alternatives (`null|"<clientOrderId>"`,
# `"LIMIT"|"STOP"`, ...) and `#` comments. It is split into a limit order (the first
# alternatives) and a stop order (the second ones, with the `<stopPrice>`/`<limitPrice>`
# placeholders replaced by numbers); the comments and the `...` item are dropped.
OPEN_ORDERS = b"""\
{
  "event": "orders",
  "timestamp": "1593617005438",
  "accountId": "<Your Account ID>",
  "data": [ {
              "orderId": "160039151345856176",
              "marketCode": "BTC-USD-SWAP-LIN",
              "clientOrderId": null,
              "side": "BUY",
              "orderType": "LIMIT",
              "quantity": "1.00",
              "remainingQuantity": "1.00",
              "price": "1.00",
              "stopPrice": null,
              "limitPrice": null,
              "orderCreated": 1593617008698,
              "lastModified": 1593617008698,
              "lastTradeTimestamp": 1593617008698,
              "timeInForce": "GTC"
            },
            {
              "orderId": "160039151345856176",
              "marketCode": "BTC-USD-SWAP-LIN",
              "clientOrderId": "<clientOrderId>",
              "side": "BUY",
              "orderType": "STOP",
              "quantity": "1.00",
              "remainingQuantity": "1.00",
              "price": null,
              "stopPrice": "1.10",
              "limitPrice": "1.20",
              "orderCreated": 1593617008698,
              "lastModified": 1593617008698,
              "lastTradeTimestamp": 1593617008698,
              "timeInForce": "GTC"
            }
          ]
}
"""

# GET /v2.1/orders: the `...` item and the comma before it dropped.
ORDERS_V21 = b"""\
{
    "event": "orders",
    "timestamp": "1619167719563",
    "accountId": "1076",
    "data": [
        {
            "status": "OrderClosed",
            "orderId": "304408197314577142",
            "clientOrderId": "1",
            "marketCode": "BTC-USD-SWAP-LIN",
            "side": "BUY",
            "orderType": "LIMIT",
            "price": "10006.0",
            "quantity": "0.001",
            "remainQuantity": "0.001",
            "timeInForce": "GTC",
            "orderClosedTimestamp": "1619131050779"
        },
        {
            "status": "OrderOpened",
            "orderId": "304408197314577143",
            "clientOrderId": "2",
            "marketCode": "BTC-USD-SWAP-LIN",
            "side": "SELL",
            "orderType": "LIMIT",
            "price": "60006.0",
            "quantity": "0.001",
            "remainQuantity": "0.001",
            "timeInForce": "GTC",
            "orderOpenedTimestamp": "1619131049574"
        },
        {
            "status": "OrderMatched",
            "orderId": "448528458527567629",
            "clientOrderId": "1618870087524",
            "marketCode": "FLEX-USD-SWAP-LIN",
            "side": "BUY",
            "orderType": "MARKET",
            "price": "0.194",
            "lastTradedPrice": "0.170",
            "avgFillPrice": "0.170",
            "quantity": "12.1",
            "filledQuantity": "12.1",
            "remainQuantity": "0",
            "matchIds": [
                {
                    "448528458527567630": {
                        "matchQuantity": "12.1",
                        "matchPrice": "0.170",
                        "timestamp": "1618870088471",
                        "orderMatchType": "TAKER"
                    }
                }
            ],
            "fees": {
                "FLEX": "-0.00440786"
            },
            "timeInForce": "IOC",
            "isTriggered": "false"
        }
    ]
}
"""

# DELETE /v2/cancel/orders: as published.
CANCEL_ALL = b"""\
{
  "event": "orders",
  "timestamp": 1594412077100,
  "accountId": "<AccountID>",
  "data": {
    "msg": "All open orders for the account have been queued for cancellation"
  }
}
"""

# DELETE /v2/cancel/orders/{marketCode}: as published.
CANCEL_ALL_MARKET = b"""\
{
  "event": "orders",
  "timestamp": 1594412077100,
  "accountId": "<AccountID>",
  "data": {
            "marketCode": "FLEX-USD",
            "msg": "All open orders for the specified market have been queued for cancellation"
          }
}
"""

# GET /v2.1/delivery/orders: a trailing comma dropped.
DELIVERY_ORDERS = b"""\
{
  "event": "deliverOrders",
  "timestamp": "1596685339910",
  "data": [ {
              "timestamp": "1595781719394",
              "instrumentId": "BTC-USD-SWAP-LIN",
              "status": "DELIVERED",
              "quantity": null,
              "deliverPrice": "9938.480000000",
              "transferAsset": "USD",
              "transferQty": "993.848000000",
              "instrumentIdDeliver": "BTC",
              "deliverQty": "0.100000000",
              "deliverOrderId": "575770851486007299",
              "clientOrderId": null
            },
            {
              "timestamp": "1595786511155",
              "instrumentId": "BTC-USD-SWAP-LIN",
              "status": "CANCELLED",
              "quantity": null,
              "deliverPrice": "9911.470000000",
              "transferAsset": "USD",
              "transferQty": "0.000000000",
              "instrumentIdDeliver": "BTC",
              "deliverQty": "0.000000000",
              "deliverOrderId": "575786553086246913",
              "clientOrderId": null
            }
          ]
}
"""

# POST /v2.1/delivery/orders: as published.
REQUEST_DELIVERY = b"""\
{
  "event": "delivery",
  "timestamp": "1599204123484",
  "accountId": "164",
  "data": [ {
              "deliverOrderId": "586985384617312258",
              "accountId": "164",
              "clientOrderId": null,
              "instrumentId": "BTC-USD-SWAP-LIN",
              "deliverPrice": "10000.000000000",
              "deliverPosition": "1.000",
              "deliverType": "NEXT_CYCLE",
              "instrumentIdDeliver": "BTC",
              "deliverQty": "1.000",
              "remainingQty": "1.000",
              "remainingPosition": "1.000",
              "transferAsset": "USD",
              "transferQty": "1",
              "auctionTime": "1599204122693",
              "created": "1599204122693",
              "lastUpdated": "1599204122693",
              "status": "PENDING"
          } ]
}
"""

# DELETE /v2.1/delivery/orders/{deliveryOrderId}, success response: as published.
CANCEL_DELIVERY_OK = b"""\
{
  "event": "delivery",
  "timestamp": "1599204310297",
  "accountId": "164",
  "data": [
            "Cancel of user order was successful"
          ]
}
"""

# DELETE /v2.1/delivery/orders/{deliveryOrderId}, failure response: as published.
CANCEL_DELIVERY_FAILED = b"""\
{
  "event": "delivery",
  "timestamp": "1599204310297",
  "accountId": "164",
  "data": [
            "Cancel exception please try again"
          ]
}
"""

# POST /v2/orders/place: as published.
PLACE_ORDERS = b"""\
{
    "accountId": "13670827",
    "event": "placeOrder",
    "timestamp": "1615430915625",
    "data": [
        {
            "success": "false",
            "timestamp": "1615430915596",
            "code": "710002",
            "message": "FAILED sanity bound check as price (50007.0) <  lower bound (54767.0)",
            "clientOrderId": "1612249737724",
            "orderId": "0",
            "price": "50007.0",
            "quantity": "0.001",
            "side": "SELL",
            "marketCode": "BTC-USD-SWAP-LIN",
            "timeInForce": "GTC",
            "orderType": "LIMIT"
        },
        {
            "success": "true",
            "timestamp": "1615430915602",
            "clientOrderId": "1612249737724",
            "orderId": "0",
            "price": "54900.0",
            "quantity": "0.002",
            "side": "BUY",
            "marketCode": "BTC-USD-SWAP-LIN",
            "timeInForce": "GTC",
            "orderType": "LIMIT"
        },
        {
            "success": "true",
            "timestamp": "1615430915625",
            "clientOrderId": "1612249737723",
            "orderId": "0",
            "price": "54901.0",
            "quantity": "0.003",
            "side": "SELL",
            "marketCode": "BTC-USD-SWAP-LIN",
            "timeInForce": "GTC",
            "orderType": "LIMIT"
        }
    ]
}
"""

# POST /v2/orders/modify: as published.
MODIFY_ORDERS = b"""\
{
    "accountId": "495",
    "event": "modifyOrder",
    "timestamp": "1614331651243",
    "data": [
        {
            "success": "false",
            "timestamp": "1614331651174",
            "code": "40032",
            "message": "Invalid request data",
            "clientOrderId": "161224973777800",
            "price": "40003.0",
            "quantity": "0.002",
            "side": "SELL",
            "marketCode": "BTC-USD-SWAP-LIN"
        },
        {
            "success": "false",
            "timestamp": "1614331651174",
            "code": "40032",
            "message": "Invalid request data",
            "clientOrderId": "161224973777900",
            "price": "40004.0",
            "quantity": "0.003",
            "side": "SELL",
            "marketCode": "BTC-USD-SWAP-LIN"
        },
        {
            "success": "true",
            "timestamp": "1614331651196",
            "clientOrderId": "1614330009059",
            "orderId": "304369975621712263",
            "price": "40001.0",
            "quantity": "0.007",
            "side": "BUY",
            "status": "OPEN",
            "marketCode": "BTC-USD-SWAP-LIN",
            "timeInForce": "GTC",
            "notice": "OrderOpened",
            "orderType": "LIMIT",
            "isTriggered": "false"
        }
    ]
}
"""

# DELETE /v2/orders/cancel: as published.
CANCEL_ORDERS = b"""\
{
    "accountId": "495",
    "event": "cancelOrder",
    "timestamp": "1615454881391",
    "data": [
        {
            "success": "true",
            "timestamp": "1615454881383",
            "clientOrderId": "1615453494726",
            "orderId": "304384250571714215",
            "price": "55006.0",
            "quantity": "0.006",
            "side": "SELL",
            "status": "CANCELED_BY_USER",
            "marketCode": "BTC-USD-SWAP-LIN",
            "timeInForce": "GTC",
            "remainQuantity": "0.006",
            "notice": "OrderClosed",
            "orderType": "LIMIT",
            "isTriggered": "false"
        },
        {
            "success": "false",
            "timestamp": "1615454881433",
            "code": "40035",
            "message": "Open order not found with id",
            "clientOrderId": "1612249737724",
            "marketCode": "BTC-USD-SWAP-LIN"
        }
    ]
}
"""

# POST /v2/mint: as published.
MINT = b"""\
{
    "event":"mint",
    "timestamp":"1620964317199",
    "accountId":"1532",
    "data":{
        "asset":"flexUSD",
        "quantity":"10"
    }
}
"""

# GET /v2/mint/{asset}: the `...` item and the comma before it dropped.
MINT_HISTORY = b"""\
{
    "event":"mintHistory",
    "timestamp":"1620964764692",
    "accountId":"1570",
    "data":[
        {
            "asset":"flexETH",
            "quantity":"0.100000000",
            "mintedAt":"1619779905495"
        },
        {
            "asset":"flexETH",
            "quantity":"97.800000000",
            "mintedAt":"1619779812468"
        },
        {
            "asset":"flexETH",
            "quantity":"0.100000000",
            "mintedAt":"1619779696705"
        }
    ]
}
"""

# POST /v2/redeem: as published.
REDEEM = b"""\
{
    "event":"redeem",
    "timestamp":"1620964351508",
    "accountId":"1532",
    "data":{
        "asset":"flexUSD",
        "quantity":"10",
        "redeemAt":"1620964800000",
        "type":"NORMAL"
    }
}
"""

# GET /v2/redeem/{asset}: the `...` item and the comma before it dropped.
REDEEM_HISTORY = b"""\
{
  "event":"redemptionHistory",
  "timestamp":"1620964856842",
  "accountId":"1570",
  "data":[
    {
      "asset":"ETH",
      "quantity":"0.001000000",
      "requestedAt":"1619788358578",
      "redeemedAt":"1619788860219"
    },
    {
      "asset":"ETH",
      "quantity":"0.001000000",
      "requestedAt":"1619788328760",
      "redeemedAt":"1619788328963"
    }
  ]
}
"""

# POST /v2/borrow: as published.
BORROW = b"""\
{
    "event": "borrow",
    "timestamp": "1626433827430",
    "accountId": "3123",
    "data": {
        "borrowAsset": "USD",
        "borrowedAmount": "296.21588287",
        "collateralAsset": "BTC",
        "collateralizedAmount": "0.01",
        "nonCollateralizedAmount": "0",
        "rateType": "FLOATING_RATE",
        "status": "COMPLETED",
        "borrowedAt": "1626433827616"
    }
}
"""

# POST /v2/repay: as published.
REPAY = b"""\
{
    "event": "repay",
    "timestamp": "1626433876060",
    "accountId": "3123",
    "data": {
        "repayAsset": "USD",
        "repaidAmount": "31.33109616",
        "regainAsset": "BTC",
        "regainedAmount": "0.001",
        "nonRegainedAmount": "0",
        "status": "COMPLETED",
        "repaidAt": "1626433876398"
    }
}
"""

# GET /v2/borrow/{asset}: the `...` item and the comma before it dropped.
BORROW_HISTORY = b"""\
{
    "event": "borrowHistory",
    "timestamp": "1626433904976",
    "accountId": "3123",
    "data": [
        {
            "borrowAsset": "USD",
            "borrowedAmount": "296.2158828",
            "collateralAsset": "BTC",
            "collateralizedAmount": "0.01000000",
            "nonCollateralizedAmount": "0",
            "rateType": "FLOATING_RATE",
            "status": "COMPLETED",
            "borrowedAt": "1626433827613"
        },
        {
            "borrowAsset": "USD",
            "borrowedAmount": "0.0000000",
            "collateralAsset": "BTC",
            "collateralizedAmount": "0.00000000",
            "nonCollateralizedAmount": "1",
            "rateType": "FLOATING_RATE",
            "status": "CANCELED",
            "borrowedAt": "1626432797124"
        }
    ]
}
"""

# GET /v2/repay/{asset}: the `...` item and the comma before it dropped.
REPAY_HISTORY = b"""\
{
    "event": "repayHistory",
    "timestamp": "1626433953585",
    "accountId": "3123",
    "data": [
        {
            "repayAsset": "USD",
            "repaidAmount": "0",
            "regainAsset": "BTC",
            "regainedAmount": "0",
            "nonRegainedAmount": "0.001",
            "status": "CANCELLED",
            "repaidAt": "1626747403329"
        },
        {
            "repayAsset": "USD",
            "repaidAmount": "31863.01677",
            "regainAsset": "BTC",
            "regainedAmount": "1",
            "nonRegainedAmount": "0",
            "status": "COMPLETED",
            "repaidAt": "1626676776330"
        }
    ]
}
"""

# GET /v2/borrowingSummary: the `...` item and the comma before it dropped.
BORROWING_SUMMARY = b"""\
{
    "event": "borrowingSummary",
    "timestamp": "1626433981644",
    "accountId": "3123",
    "data": [
        {
            "borrowAsset": "USD",
            "borrowedAmount": "109031.8252978",
            "collateralAsset": "BTC",
            "collateralizedAmount": "3.65800000",
            "rateType": "FLOATING_RATE",
            "status": "To be repaid"
        }
    ]
}
"""

# POST /v2/borrow/close: as published.
CLOSE_BORROW = b"""\
{
    "event": "closeBorrow",
    "timestamp": "1626434069478",
    "accountId": "3123",
    "data": {
        "success": "true",
        "timestamp": "1626434069461",
        "clientOrderId": "1626434069478",
        "orderId": "1000018496331",
        "price": "29633.5",
        "quantity": "1.0",
        "side": "SELL",
        "status": "CANCELED_BY_FOK",
        "marketCode": "BTC-USD-SWAP-LIN",
        "timeInForce": "FOK",
        "notice": "OrderClosed",
        "orderType": "MARKET",
        "isTriggered": "false"
    }
}
"""

# GET /v2/funding-payments: the `...` item and the comma before it dropped.
FUNDING_PAYMENTS = b"""\
{
    "event": "fundingPayments",
    "timestamp": "1627626010074",
    "accountId": "276007",
    "data": [
        {
            "marketCode": "BTC-USD-SWAP-LIN",
            "payment": "-122.17530872",
            "rate": "-0.00005",
            "position": "-61.093",
            "markPrice": "39996.5",
            "timestamp": "1627617632190"
        },
        {
            "marketCode": "BTC-USD-SWAP-LIN",
            "payment": "98.71895684",
            "rate": "0.00005",
            "position": "-61.093",
            "markPrice": "32317.6",
            "timestamp": "1627041622046"
        }
    ]
}
"""

# GET /v2/all/markets: missing comma after marketPrice added; the `...` item and the comma
# before it dropped.
MARKETS = b"""\
{
    "event": "markets",
    "timestamp": "1620810144786",
    "data": [
        {
            "marketId": "2001000000000",
            "marketCode": "BTC-USD",
            "name": "BTC/USD",
            "referencePair": "BTC/USD",
            "base": "BTC",
            "counter": "USD",
            "type": "SPOT",
            "tickSize": "0.1",
            "qtyIncrement": "0.001",
            "listingDate": 2208988800000,
            "endDate": 0,
            "marginCurrency": "USD",
            "contractValCurrency": "BTC",
            "upperPriceBound": "11000.00",
            "lowerPriceBound": "9000.00",
            "marketPrice": "10000.00",
            "marketPriceLastUpdated": "1620810131131"
        }
    ]
}
"""

# GET /v2/all/assets: as published.
ASSETS = b"""\
{
    "event": "assets",
    "timestamp":"1593617008698",
    "data": [
        {
            "instrumentId": "BTC-USD-200626-LIN",
            "name": "BTC/USD 20-06-26 Future (Linear)",
            "base": "BTC",
            "counter": "USD",
            "type": "FUTURE",
            "marginCurrency": "USD",
            "contractValCurrency": "BTC",
            "deliveryDate": null,
            "deliveryInstrument": null
        },
        {
            "instrumentId": "BTC",
            "name": "Bitcoin",
            "base": null,
            "counter": null,
            "type": "SPOT",
            "marginCurrency": null,
            "contractValCurrency": null,
            "deliveryDate": null,
            "deliveryInstrument": null
        }
    ]
}
"""

# GET /v2/publictrades/{marketCode}: the `...` item and the comma before it
# dropped.
PUBLIC_TRADES = b"""\
{
  "event": "publicTrades",
  "timestamp": "1595636619410",
  "marketCode": "BTC-USD-SWAP-LIN",
  "data": [
    {
      "matchId": "160070803925856675",
      "matchQuantity": "0.100000000",
      "matchPrice": "9600.000000000",
      "side": "BUY",
      "matchTimestamp": "1595585860254"
      }
  ]
}
"""

# GET /v2/ticker: the `...` item and the comma before it dropped.
TICKER = b"""\
{
  "event":"ticker",
  "timestamp":"123443563454",
  "data" :
  [
      {
            "marketCode": "BTC-USD-SWAP-LIN",
            "last": "43.259",
            "markPrice": "11012.80409769",
            "open24h": "49.375",
            "volume24h": "11295421",
            "currencyVolume24h": "1025.7",
            "high24h": "49.488",
            "low24h": "41.649",
            "openInterest": "1726003",
            "lastQty": "1"
      }
  ]
}
"""

# GET /v2/delivery/public/funding: the `...` item and the comma before it dropped.
DELIVERY_FUNDING = b"""\
[
    {
        "timestamp": "2020-12-08 04:00:00",
        "instrumentId": "COMP-USD-SWAP-LIN",
        "fundingRate": "0.000000000"
    },
    {
        "timestamp": "2020-12-08 04:00:00",
        "instrumentId": "CRV-USD-SWAP-LIN",
        "fundingRate": "0.000000000"
    }
]
"""

# GET /v2.1/deliver-auction/{instrumentId}: the `...` item and the comma before it dropped.
DELIVER_AUCTION = b"""\
{
    "event": "deliverAuction",
    "timestamp": "1596620815090",
    "data": [
        {
            "instrumentId": "BTC-USD-SWAP-LIN",
            "auctionTime": "1596620805000",
            "netDeliver": "-5.100000000",
            "estFundingRate": "0.0001"
        }
    ]
}
"""

# GET /v2/candles/{marketCode}: the `...` item and the comma before it
# dropped.
CANDLES = b"""\
{
    "event": "candles",
    "timestamp": "1616743098781",
    "timeframe": "60s",
    "data": [
        {
            "timestamp": "1616713140000",
            "open": "51706.50000000",
            "high": "51758.50000000",
            "low": "51705.50000000",
            "close": "51754.00000000",
            "volume24h": "0",
            "currencyVolume24h": "0"
        },
        {
            "timestamp": "1616713200000",
            "open": "51755.50000000",
            "high": "51833.00000000",
            "low": "51748.00000000",
            "close": "51815.00000000",
            "volume24h": "0",
            "currencyVolume24h": "0"
        }
    ]
}
"""

# GET /v2/funding-rates/{marketCode}: the `...` item and the comma before it
# dropped.
FUNDING_RATES = b"""\
{
    "event": "fundingRates",
    "timestamp": "1611645666834",
    "data": [
        {
            "fundingRate": "0.00008",
            "index": "2.78222423",
            "markPrice": "33937.2848",
            "marketCode": "BTC-USD-REPO-LIN",
            "timestamp": "1606461774458"
        }
    ]
}
"""

# GET /v2/depth/{marketCode}/{level}: as published.
DEPTH = b"""\
{
    "event": "depthL5",
    "timestamp": "1615457834446",
    "data": [
        {
            "asks": [
                [
                    54792,
                    0.001,
                    0,
                    0
                ],
                [
                    54802.5,
                    0.366,
                    0,
                    0
                ],
                [
                    54803,
                    0.75,
                    0,
                    0
                ],
                [
                    54806,
                    1.5,
                    0,
                    0
                ],
                [
                    54830.5,
                    0.687,
                    0,
                    0
                ]
            ],
            "bids": [
                [
                    54786.5,
                    0.1,
                    0,
                    0
                ],
                [
                    54754.5,
                    0.375,
                    0,
                    0
                ],
                [
                    54752,
                    0.394,
                    0,
                    0
                ],
                [
                    54749.5,
                    0.001,
                    0,
                    0
                ],
                [
                    54745.5,
                    0.339,
                    0,
                    0
                ]
            ],
            "marketCode": "BTC-USD-SWAP-LIN",
            "timestamp": "1615457834388"
        }
    ]
}
"""

# GET /v2/ping: as published.
PING = b"""\
{
    "success": "true"
}
"""

# GET /v2/flex-protocol/balances/{flexProtocol}: the `...` item and the comma before it dropped.
FLEX_BALANCES = b"""\
{
    "event": "flexBalances",
    "timestamp": "1621582973071",
    "tradeType": "LINEAR",
    "flexProtocol": "flexUSD",
    "data": [
        {
            "instrumentId": "BTC",
            "total": "168.515000000",
            "available": "0.000000000",
            "reserved": "168.515",
            "quantityLastUpdated": "1621582933075"
        },
        {
            "instrumentId": "DOT",
            "total": "1923.80",
            "available": "0.00",
            "reserved": "1923.8",
            "quantityLastUpdated": "1621569724731"
        },
        {
            "instrumentId": "REVV",
            "total": "336.0",
            "available": "0.0",
            "reserved": "336.0",
            "quantityLastUpdated": "1621569725061"
        }
    ]
}
"""

# GET /v2/flex-protocol/positions/{flexProtocol}: the `...` item and the comma before it dropped.
FLEX_POSITIONS = b"""\
{
    "event": "flexPositions",
    "timestamp": "1621590427436",
    "flexProtocol": "flexUSD",
    "data": [
        {
            "instrumentId": "BTC-USD-SWAP-LIN",
            "quantity": "-169.048",
            "lastUpdated": "1621590364988",
            "contractValCurrency": "BTC",
            "entryPrice": "40766.3490",
            "positionPnl": "-23506.2934480"
        },
        {
            "instrumentId": "ETH-USD-SWAP-LIN",
            "quantity": "-1279.83",
            "lastUpdated": "1621587180441",
            "contractValCurrency": "ETH",
            "entryPrice": "2798.5100",
            "positionPnl": "53420.104200"
        },
        {
            "instrumentId": "LTC-USD-SWAP-LIN",
            "quantity": "-299.49",
            "lastUpdated": "1621585374591",
            "contractValCurrency": "LTC",
            "entryPrice": "207.9500",
            "positionPnl": "503.143200"
        }
    ]
}
"""

# GET /v2/flex-protocol/orders/{flexProtocol}: the `...` item and the comma before it dropped.
FLEX_ORDERS = b"""\
{
    "event": "flexOrders",
    "timestamp": "1621590953053",
    "data": [
        {
            "orderId": "1000085820424",
            "marketCode": "COMP-USD-REPO-LIN",
            "clientOrderId": "20",
            "side": "BUY",
            "orderType": "LIMIT",
            "quantity": "0.26",
            "remainingQuantity": "0.26",
            "price": "-0.0002",
            "stopPrice": null,
            "limitPrice": "-0.0002",
            "orderCreated": "1621590951780",
            "lastModified": "1621590951903",
            "lastTradeTimestamp": "1621590951828",
            "timeInForce": "GTC"
        },
        {
            "orderId": "1000085820409",
            "marketCode": "COMP-USD-REPO-LIN",
            "clientOrderId": "5",
            "side": "BUY",
            "orderType": "LIMIT",
            "quantity": "0.21",
            "remainingQuantity": "0.21",
            "price": "-0.00005",
            "stopPrice": null,
            "limitPrice": "-0.00005",
            "orderCreated": "1621590951510",
            "lastModified": "1621590951608",
            "lastTradeTimestamp": "1621590951543",
            "timeInForce": "GTC"
        },
        {
            "orderId": "1000085820408",
            "marketCode": "COMP-USD-REPO-LIN",
            "clientOrderId": "4",
            "side": "BUY",
            "orderType": "LIMIT",
            "quantity": "5.2",
            "remainingQuantity": "5.2",
            "price": "-0.00004",
            "stopPrice": null,
            "limitPrice": "-0.00004",
            "orderCreated": "1621590951381",
            "lastModified": "1621590951394",
            "lastTradeTimestamp": "1621590951392",
            "timeInForce": "GTC"
        }
    ]
}
"""

# GET /v2/flex-protocol/trades/{flexProtocol}/{marketCode}: the `...` item and the comma before it
# dropped.
FLEX_TRADES = b"""\
{
    "event": "flexTrades",
    "timestamp": "1621591479201",
    "flexProtocol": "flexBTC",
    "data": [
        {
            "matchQuantity": "0.4",
            "total": "4.000000000",
            "fees": "0.788",
            "side": "BUY",
            "orderMatchType": "MAKER",
            "matchTimestamp": "1621483974496",
            "feeInstrumentId": "USD",
            "orderId": "1000009522024",
            "clientOrderId": "1621483945643",
            "marketCode": "BTC-USD-SWAP-LIN",
            "matchPrice": "39400",
            "matchId": "2001011000000"
        },
        {
            "matchQuantity": "0.4",
            "total": "4.400000000",
            "fees": "0.788",
            "side": "BUY",
            "orderMatchType": "MAKER",
            "matchTimestamp": "1621483973636",
            "feeInstrumentId": "USD",
            "orderId": "1000009522024",
            "clientOrderId": "1621483945643",
            "marketCode": "BTC-USD-SWAP-LIN",
            "matchPrice": "39400",
            "matchId": "2001011000000"
        },
        {
            "matchQuantity": "0.4",
            "total": "4.800000000",
            "fees": "0.788",
            "side": "BUY",
            "orderMatchType": "MAKER",
            "matchTimestamp": "1621483973476",
            "feeInstrumentId": "USD",
            "orderId": "1000009522024",
            "clientOrderId": "1621483945643",
            "marketCode": "BTC-USD-SWAP-LIN",
            "matchPrice": "39400",
            "matchId": "2001011000000"
        }
    ]
}
"""

# GET /v2/flex-protocol/delivery/orders/{flexProtocol}: the `...` item and the comma before it
# dropped.
FLEX_DELIVERY_ORDERS = b"""\
{
    "event": "flexDeliveryOrders",
    "timestamp": "1621592173494",
    "flexProtocol": "flexBTC",
    "data": [
        {
            "timestamp": "1621411380000",
            "instrumentId": "BTC-USD-SWAP-LIN",
            "status": "DELIVERED",
            "quantity": null,
            "deliverPrice": "40225.4",
            "transferAsset": "BTC",
            "transferQty": "0.001",
            "instrumentIdDeliver": "USD",
            "deliverQty": "40.2254",
            "deliverOrderId": "659754125496582148",
            "clientOrderId": null
        },
        {
            "timestamp": "1621411378000",
            "instrumentId": "BTC-USD-SWAP-LIN",
            "status": "DELIVERED",
            "quantity": null,
            "deliverPrice": "40217.8",
            "transferAsset": "BTC",
            "transferQty": "0.001",
            "instrumentIdDeliver": "USD",
            "deliverQty": "40.2178",
            "deliverOrderId": "659754119608827908",
            "clientOrderId": null
        },
        {
            "timestamp": "1621411376000",
            "instrumentId": "BTC-USD-SWAP-LIN",
            "status": "DELIVERED",
            "quantity": null,
            "deliverPrice": "40226.5",
            "transferAsset": "BTC",
            "transferQty": "0.001",
            "instrumentIdDeliver": "USD",
            "deliverQty": "40.2265",
            "deliverOrderId": "659754113236107267",
            "clientOrderId": null
        }
    ]
}
"""


JSONObject = dict[str, Any]


def data_items(document: Any) -> list[JSONObject]:
    """The objects of an enveloped list: ``{"data": [{...}, ...]}``."""
    items: list[JSONObject] = document["data"]
    return items


def data_object(document: Any) -> list[JSONObject]:
    """The one object of an enveloped object: ``{"data": {...}}``."""
    return [document["data"]]


def accepted_items(document: Any) -> list[JSONObject]:
    """The items of an order answer that the exchange accepted (``"success": "true"``)."""
    return [item for item in data_items(document) if item["success"] == "true"]


def whole_list(document: Any) -> list[JSONObject]:
    """The objects of a bare list: ``[{...}, ...]``."""
    items: list[JSONObject] = document
    return items


def whole_object(document: Any) -> list[JSONObject]:
    """The document itself: ``{...}``."""
    return [document]


def match_infos(document: Any) -> list[JSONObject]:
    """The fills inside GET /v2.1/orders: ``"matchIds": [{"<matchId>": {...}}, ...]``."""
    return [
        fill
        for order in document["data"]
        for match in order.get("matchIds", [])
        for fill in match.values()
    ]


@dataclass(frozen=True)
class ModelExample:
    """The objects of one docs example that decode into ``model``."""

    model: type[Any]
    body: bytes
    objects_of: Callable[[Any], list[JSONObject]]

    def objects(self) -> list[JSONObject]:
        return self.objects_of(json.loads(self.body))


MODEL_EXAMPLES = [
    ModelExample(Ping, PING, whole_object),
    ModelExample(Market, MARKETS, data_items),
    ModelExample(Asset, ASSETS, data_items),
    ModelExample(PublicTrade, PUBLIC_TRADES, data_items),
    ModelExample(Ticker, TICKER, data_items),
    ModelExample(DeliveryFunding, DELIVERY_FUNDING, whole_list),
    ModelExample(Candle, CANDLES, data_items),
    ModelExample(FundingRate, FUNDING_RATES, data_items),
    ModelExample(OrderBook, DEPTH, data_items),
    ModelExample(AccountInfo, ACCOUNT_INFO, data_items),
    ModelExample(Balance, BALANCES, data_items),
    ModelExample(Balance, BALANCE_BY_ID, data_items),
    ModelExample(Balance, FLEX_BALANCES, data_items),
    ModelExample(Position, POSITIONS, data_items),
    ModelExample(Position, POSITION_BY_ID, data_items),
    ModelExample(Position, FLEX_POSITIONS, data_items),
    ModelExample(Trade, TRADES, data_items),
    ModelExample(Trade, FLEX_TRADES, data_items),
    ModelExample(FundingPayment, FUNDING_PAYMENTS, data_items),
    ModelExample(OpenOrder, OPEN_ORDERS, data_items),
    ModelExample(OpenOrder, FLEX_ORDERS, data_items),
    ModelExample(OrderStatus, ORDERS_V21, data_items),
    ModelExample(MatchInfo, ORDERS_V21, match_infos),
    ModelExample(OrderResult, PLACE_ORDERS, data_items),
    ModelExample(OrderResult, MODIFY_ORDERS, data_items),
    ModelExample(OrderResult, CANCEL_ORDERS, data_items),
    ModelExample(OrderResult, CLOSE_BORROW, data_object),
    ModelExample(AcceptedOrder, PLACE_ORDERS, accepted_items),
    ModelExample(AcceptedOrder, MODIFY_ORDERS, accepted_items),
    ModelExample(AcceptedOrder, CANCEL_ORDERS, accepted_items),
    ModelExample(CancelAllResult, CANCEL_ALL, data_object),
    ModelExample(CancelAllResult, CANCEL_ALL_MARKET, data_object),
    ModelExample(DeliveryOrder, DELIVERY_ORDERS, data_items),
    ModelExample(DeliveryOrder, FLEX_DELIVERY_ORDERS, data_items),
    ModelExample(DeliveryRequest, REQUEST_DELIVERY, data_items),
    ModelExample(DeliverAuction, DELIVER_AUCTION, data_items),
    ModelExample(Mint, MINT, data_object),
    ModelExample(MintRecord, MINT_HISTORY, data_items),
    ModelExample(Redeem, REDEEM, data_object),
    ModelExample(RedeemRecord, REDEEM_HISTORY, data_items),
    ModelExample(Borrow, BORROW, data_object),
    ModelExample(Borrow, BORROW_HISTORY, data_items),
    ModelExample(Repay, REPAY, data_object),
    ModelExample(Repay, REPAY_HISTORY, data_items),
    ModelExample(BorrowingSummary, BORROWING_SUMMARY, data_items),
]


def example_objects(model: type[Any]) -> list[JSONObject]:
    """Every docs example object of ``model``, across all its endpoints."""
    return [
        obj for example in MODEL_EXAMPLES if example.model is model for obj in example.objects()
    ]
