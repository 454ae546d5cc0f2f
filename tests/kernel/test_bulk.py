"""The hot path's own parameter conversion stores exactly what SQLAlchemy would have stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Boolean, Column, DateTime, MetaData, Table
from sqlalchemy.dialects import sqlite

from app.kernel.db import bulk

TABLE = Table("t", MetaData(), Column("at", DateTime), Column("data", JSON), Column("flag", Boolean))
DIALECT = sqlite.dialect()

JSON_VALUES = st.recursive(
    st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
TIMES = (
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
    | st.datetimes(timezones=st.just(UTC))
    | st.just(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))))
)


def _sqlalchemy(column: str, value: Any) -> Any:
    process = TABLE.c[column].type.dialect_impl(DIALECT).bind_processor(DIALECT)
    return value if process is None else process(value)


def _ours(column: str, value: Any) -> Any:
    prepared = bulk.prepare(TABLE, [{column: value}], "sqlite")
    return prepared.values[0][0]


@settings(max_examples=400)
@given(TIMES)
def test_datetimes_are_stored_as_sqlalchemy_stores_them(moment: datetime) -> None:
    assert _ours("at", moment) == _sqlalchemy("at", moment)


@settings(max_examples=400)
@given(JSON_VALUES | st.dictionaries(st.text(), st.text()) | st.lists(st.text()))
def test_json_is_stored_as_sqlalchemy_stores_it(value: Any) -> None:
    assert _ours("data", value) == _sqlalchemy("data", value)


def test_nulls_and_booleans() -> None:
    for column, value in [("at", None), ("flag", True), ("flag", False), ("flag", None)]:
        assert _ours(column, value) == _sqlalchemy(column, value)
    # A JSON column's None is SQL NULL here (SQLAlchemy would write the text 'null'); both read back as None.
    assert _ours("data", None) is None
    assert _ours("data", [None, {"a": None}]) == _sqlalchemy("data", [None, {"a": None}])
