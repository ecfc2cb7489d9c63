"""What the end-to-end tests share besides fixtures: the funded party, the fee rates and
funds of the test simulators, and the check of the API's types in decoded results."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import msgspec

import coinflex_async as cf
from coinflex_async.resources import FlexProtocol, Private, Public
from coinflex_async.sim import SimAccount

__all__ = ["FUNDS", "MAKER_FEE", "TAKER_FEE", "Party", "check_types"]

# The fee rates every test simulator charges, stated here so tests can compute expected fees.
MAKER_FEE = Decimal("0.0002")
TAKER_FEE = Decimal("0.0005")

FUNDS = {"USD": "1000000", "BTC": "10", "ETH": "100", "FLEX": "100000"}


@dataclass
class Party:
    """One simulated account and a client signed with its key."""

    account: SimAccount
    client: cf.Client

    @property
    def private(self) -> Private:
        return self.client.private

    @property
    def public(self) -> Public:
        return self.client.public

    @property
    def flex_protocol(self) -> FlexProtocol:
        return self.client.flex_protocol


# Field names of millisecond times (the API: ints).
_MS_TIME = re.compile(r"(timestamp|_at|_updated|created|modified|_date|_time)$")
# Fields the docs show in another form: "YYYY-MM-DD hh:mm:ss", and a date of unknown format.
# Whole numbers that are not amounts: a depth snapshot's sequence number and checksum.
_COUNTS = {"seq_num", "checksum"}
_NOT_MS_TIME = {(cf.DeliveryFunding, "timestamp"), (cf.Asset, "delivery_date")}


def check_types(value: object, where: str) -> None:
    """The API's types, everywhere in a decoded result: amounts are Decimal (never float),
    millisecond times int (and plausible), IDs str, flags bool."""
    assert not isinstance(value, float), f"{where} is a float"
    if isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            field = getattr(value, name)
            place = f"{where}.{name}"
            if field is None:
                continue
            if (type(value), name) in _NOT_MS_TIME:
                assert isinstance(field, str), place
            elif _MS_TIME.search(name):
                assert type(field) is int, place
                assert field == 0 or 10**12 <= field < 10**13, f"{place} is not in ms: {field}"
            elif name.endswith("_id"):
                assert isinstance(field, str), place
            elif name in ("success", "is_triggered"):
                assert isinstance(field, bool), place
            elif name in _COUNTS:
                assert type(field) is int, place
            else:
                assert type(field) is not int, f"{place} is an int, not a Decimal"
            check_types(field, place)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_types(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_types(item, f"{where}[{key!r}]")
