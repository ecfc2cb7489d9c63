"""The command line's tables: which columns a person needs of each model, how a cell reads
(times as UTC dates, numbers right-aligned, codes never broken), and
which columns give way when the terminal is narrow. ``--json`` carries every field; a table
shows a chosen few.

Needs rich (the ``cli`` extra).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

import coinflex_async as cf

__all__ = ["Column", "columns_of", "format_time", "render"]

Kind = Literal["code", "number", "time", "date"]


@dataclass(frozen=True)
class Column:
    """One table column: the model's field, its heading, how its cells read, and its rank
    (1 is always shown; higher ranks give way first when the terminal is too narrow)."""

    field: str
    header: str
    kind: Kind = "code"
    rank: int = 1


def _c(field: str, header: str | None = None, kind: Kind = "number", rank: int = 1) -> Column:
    return Column(field, header or field, kind, rank)


# What a person reads first of each model, in display order; the rest is in --json.
COLUMNS: dict[type, tuple[Column, ...]] = {
    cf.Market: (
        _c("market_code", "market", "code"),
        _c("type", kind="code", rank=2),
        _c("tick_size", "tick"),
        _c("qty_increment", "qty step"),
        _c("market_price", "price"),
        _c("lower_price_bound", "low bound", rank=3),
        _c("upper_price_bound", "high bound", rank=3),
        _c("listing_date", "listed", "date", rank=4),
        _c("end_date", "ends", "date", rank=5),
    ),
    cf.Ticker: (
        _c("market_code", "market", "code"),
        _c("last"),
        _c("mark_price", "mark"),
        _c("open24h", "open 24h", rank=2),
        _c("high24h", "high 24h", rank=3),
        _c("low24h", "low 24h", rank=3),
        _c("volume24h", "volume 24h", rank=2),
        _c("open_interest", "open interest", rank=4),
        _c("last_qty", "last qty", rank=5),
    ),
    cf.Candle: (
        _c("timestamp", "time (UTC)", "time"),
        _c("open"),
        _c("high"),
        _c("low"),
        _c("close"),
        _c("volume24h", "volume", rank=2),
        _c("currency_volume24h", "value", rank=3),
    ),
    cf.Balance: (
        _c("instrument_id", "asset", "code"),
        _c("total"),
        _c("available"),
        _c("reserved"),
        _c("quantity_last_updated", "updated (UTC)", "time", rank=2),
    ),
    cf.Position: (
        _c("instrument_id", "market", "code"),
        _c("quantity"),
        _c("entry_price", "entry"),
        _c("position_pnl", "pnl"),
        _c("est_liquidation_price", "liquidation", rank=2),
        _c("last_updated", "updated (UTC)", "time", rank=3),
    ),
    cf.OpenOrder: (
        _c("order_id", "order", "code"),
        _c("market_code", "market", "code"),
        _c("side", kind="code"),
        _c("order_type", "type", "code", rank=2),
        _c("quantity", "qty"),
        _c("remaining_quantity", "remaining", rank=2),
        _c("price"),
        _c("stop_price", "stop", rank=3),
        _c("time_in_force", "tif", "code", rank=4),
        _c("order_created", "created (UTC)", "time", rank=3),
        _c("client_order_id", "client id", "code", rank=5),
    ),
}

_TIME_FIELD = re.compile(r"timestamp|_date$|_at$|last_updated|created|modified")


def columns_of(model: type) -> tuple[Column, ...]:
    """The model's chosen columns; a model without a choice shows every field, typed by its
    annotation (times by their names), later fields giving way first."""
    chosen = COLUMNS.get(model)
    if chosen is not None:
        return chosen
    columns = []
    for position, field in enumerate(msgspec.structs.fields(model)):
        hint = str(field.type)
        kind: Kind = "code"
        if "Decimal" in hint:
            kind = "number"
        elif "int" in hint:
            kind = "time" if _TIME_FIELD.search(field.name) else "number"
        columns.append(Column(field.name, field.name, kind, rank=max(1, position - 2)))
    return tuple(columns)


def format_time(ms: int, kind: Kind = "time") -> str:
    """Milliseconds since the epoch as a UTC date (``date``) or date and time; 0 (the
    exchange's "none") as nothing."""
    if not ms:
        return ""
    moment = datetime.fromtimestamp(ms // 1000, timezone.utc)
    return moment.strftime("%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S")


def _text(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind in ("time", "date") and isinstance(value, int):
        return format_time(value, kind)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _table_width(widths: Sequence[int]) -> int:
    """What rich's default box takes: each cell padded by one space a side, one rule
    between columns and one at each edge."""
    return sum(widths) + 3 * len(widths) + 1


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich's own handling exits with status 1; the command line's is to end quietly (0).
        raise BrokenPipeError


def render(model: type, items: Iterable[Any], *, title: str, terminal: bool) -> None:
    """The items as a table on stdout. On a terminal, columns of the highest rank give way
    until the table fits its width (a caption names what was left out); a pipe or a file
    gets every column, unfolded."""
    console = _Console(width=None if terminal else 100_000)
    columns = list(columns_of(model))
    rows = list(items)
    if not rows:
        console.print(f"{title}: none")
        return
    cells = {c.field: [_text(getattr(row, c.field), c.kind) for row in rows] for c in columns}
    widths = {c.field: max(len(c.header), *map(len, cells[c.field])) for c in columns}
    hidden: list[Column] = []
    while terminal and len(columns) > 1:
        if _table_width([widths[c.field] for c in columns]) <= console.width:
            break
        worst = max(columns, key=lambda c: (c.rank, columns.index(c)))
        if worst.rank == 1:
            break  # the essentials stay; rich shortens what must give (codes never wrap)
        columns.remove(worst)
        hidden.append(worst)
    caption = None
    if hidden:
        names = ", ".join(c.header for c in sorted(hidden, key=lambda c: c.rank))
        caption = f"not shown for width: {names} (all fields: --json)"
    table = Table(title=Text(title), caption=caption)
    for column in columns:
        table.add_column(
            column.header,
            justify="right" if column.kind == "number" else "left",
            no_wrap=True,  # a code, an ID or a number is read whole or not at all
            overflow="ellipsis",
            min_width=widths[column.field] if column.kind != "number" else None,
        )
    for index in range(len(rows)):
        table.add_row(*(Text(cells[c.field][index]) for c in columns))
    console.print(table)
