"""The dict forms of the order structs, for type checkers.

No ``from __future__ import annotations`` here: ``TypedDict`` sees ``Required`` and
``NotRequired`` only in evaluated annotations, and ``__required_keys__`` must be right for tools
that read it at run time.
"""

import sys

from ._values import (
    DecimalInput,
    OrderType,
    OrderTypeValue,
    Side,
    SideValue,
    TimeInForce,
    TimeInForceValue,
)

if sys.version_info >= (3, 11):
    from typing import NotRequired, Required, TypedDict
else:
    from typing_extensions import NotRequired, Required, TypedDict

__all__ = ["CancelOrderDict", "ModifyOrderDict", "NewOrderDict"]

# The dict forms of the three structs (same keys), for ``place_orders([{...}])`` and the keyword
# arguments of ``place_order(**order)``. A type checker then flags a misspelt key, a missing one
# or a value of the wrong type; at run time the client checks the same (ValidationError).


class NewOrderDict(TypedDict, total=False):
    """:class:`NewOrder` as a dict: ``place_orders``' items, ``place_order``'s keywords."""

    market_code: Required[str]
    side: Required[Side | SideValue]
    quantity: Required[DecimalInput]
    order_type: Required[OrderType | OrderTypeValue]
    price: NotRequired[DecimalInput | None]
    stop_price: NotRequired[DecimalInput | None]
    limit_price: NotRequired[DecimalInput | None]
    time_in_force: NotRequired[TimeInForce | TimeInForceValue | None]
    client_order_id: NotRequired[str | int | None]


class ModifyOrderDict(TypedDict, total=False):
    """:class:`ModifyOrder` as a dict: ``modify_orders``' items, ``modify_order``'s keywords."""

    order_id: Required[str | int]
    market_code: Required[str]
    side: NotRequired[Side | SideValue | None]
    quantity: NotRequired[DecimalInput | None]
    price: NotRequired[DecimalInput | None]
    stop_price: NotRequired[DecimalInput | None]
    limit_price: NotRequired[DecimalInput | None]
    client_order_id: NotRequired[str | int | None]


class CancelOrderDict(TypedDict, total=False):
    """:class:`CancelOrder` as a dict: ``cancel_orders``' items, ``cancel_order``'s keywords."""

    market_code: Required[str]
    order_id: NotRequired[str | int | None]
    client_order_id: NotRequired[str | int | None]
