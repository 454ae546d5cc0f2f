"""Bulk INSERT straight through the DB-API cursor, for the mail-ingest hot path.

SQLAlchemy's executemany spends ~100 µs of Python per message on parameter processing; this writes the
same values in the same storage formats SQLAlchemy reads back (SQLite: ISO datetimes and JSON text;
PostgreSQL: native datetimes and json). Rows are turned into parameter tuples up front (`Prepared`) so
the group commit only binds and executes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import chain
from operator import itemgetter
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Boolean, Connection, DateTime, Table

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class Prepared:
    """One table's rows as an INSERT statement and its parameter tuples."""

    table: Table
    sql: str
    values: list[tuple[Any, ...]]


def prepare(table: Table, rows: list[dict[str, Any]], dialect: str) -> Prepared:
    """Rows (dicts with the same keys) as parameter tuples in the storage format of `dialect`."""
    statement = _statement(table, tuple(rows[0]), dialect)
    return Prepared(table, statement.sql, [statement.values_of(row) for row in rows])


def execute(conn: Connection, prepared: Prepared, values: list[tuple[Any, ...]]) -> None:
    """INSERT the rows with multi-row VALUES statements: one execution per chunk rather than per row, so
    the commit makes far fewer calls into the driver (each gives up the GIL and takes it back)."""
    width = len(values[0])
    per_statement = max(1, _MAX_PARAMETERS // width)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            cursor.execute(_multi_row_sql(prepared.sql, width, len(chunk)), list(chain.from_iterable(chunk)))
    finally:
        cursor.close()


def placeholder(conn: Connection) -> str:
    """The DB-API parameter marker of the connection's driver."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def fetch(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one query straight through the DB-API cursor, for lookups the hot path makes per
    message, where building a SQL expression would cost more than the lookup."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


# SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535.
_MAX_PARAMETERS = 30_000


@cache
def _multi_row_sql(single_row_sql: str, width: int, rows: int) -> str:
    head, _, group = single_row_sql.rpartition(" VALUES ")
    return f"{head} VALUES {', '.join([group] * rows)}"


@dataclass(frozen=True)
class _Statement:
    """The INSERT for one set of column names, and how to turn a row into its parameters: the values are
    taken in one C call and only the columns whose storage format differs are converted."""

    sql: str
    take: Callable[[dict[str, Any]], Any]
    conversions: tuple[tuple[int, Convert], ...]

    def values_of(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = self.take(row)
        if not self.conversions:
            return tuple(values)
        converted = list(values)
        for index, convert in self.conversions:
            converted[index] = convert(converted[index])
        return tuple(converted)


@cache
def _statement(table: Table, names: tuple[str, ...], dialect: str) -> _Statement:
    placeholder = "?" if dialect == "sqlite" else "%s"
    columns = ", ".join(names)
    sql = f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join([placeholder] * len(names))})"
    converters = [_converter(table.c[name].type, dialect) for name in names]
    conversions = tuple((i, convert) for i, convert in enumerate(converters) if convert is not _same)
    # itemgetter of one name returns the bare value, of several a tuple.
    take = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    return _Statement(sql, take, conversions)


def _converter(column_type: Any, dialect: str) -> Convert:
    if isinstance(column_type, JSON):
        return _json_text if dialect == "sqlite" else _json_param
    if isinstance(column_type, DateTime) and dialect == "sqlite":
        return _sqlite_datetime
    if isinstance(column_type, Boolean) and dialect == "sqlite":
        return _sqlite_bool
    return _same


def _same(value: Any) -> Any:
    return value


def _json_text(value: Any) -> str | None:
    # The text json.dumps gives, as SQLAlchemy serialises JSON: stored text must match whatever it would
    # have written (searches match on it). Flat string lists and maps, nearly every value on the send
    # path, are joined directly with the encoder's own string quoting, without building an encoder.
    if value is None:
        return None
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
        return "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in value.items()) + "}"
    if type(value) is list and all(type(item) is str for item in value):
        return "[" + ", ".join(map(_quote, value)) + "]"
    return json.dumps(value)


_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


def _json_param(value: Any) -> Json | None:
    return None if value is None else Json(value)


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format: naive text, microseconds always present (an aware
    # time's offset is dropped; everything stored is UTC).
    if value is None:
        return None
    last = _last_formatted
    return last.text if value is last.moment else _formatted(value)


@dataclass(frozen=True, slots=True)
class _Formatted:
    moment: datetime | None
    text: str


# The rows of one send share one timestamp object: the last one formatted is kept (replaced whole, so
# that threads preparing rows at once never see a moment with another's text).
_last_formatted = _Formatted(None, "")


def _formatted(value: datetime) -> str:
    global _last_formatted
    _last_formatted = _Formatted(value, value.isoformat(" ", "microseconds")[:26])
    return _last_formatted.text


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)
