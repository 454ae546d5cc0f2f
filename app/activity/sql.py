"""A parsed Email Activity query compiled to a SQLAlchemy condition over the caller's columns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, assert_never

from sqlalchemy import and_, func, not_, or_
from sqlalchemy.sql import ColumnElement

from app.activity.syntax import (
    CASE_INSENSITIVE,
    PATTERN_OPS,
    And,
    Between,
    CompareOp,
    Comparison,
    Expr,
    InList,
    IsNull,
    Not,
    Or,
    Value,
    invalid_query,
)

_Comparator = Callable[[ColumnElement[Any], Any], ColumnElement[bool]]
_COMPARATORS: Final[Mapping[CompareOp, _Comparator]] = {
    "=": lambda column, value: column == value,
    "!=": lambda column, value: column != value,
    "<": lambda column, value: column < value,
    "<=": lambda column, value: column <= value,
    ">": lambda column, value: column > value,
    ">=": lambda column, value: column >= value,
    # Users expect LIKE to ignore case; `\` escapes % and _ in the pattern.
    "LIKE": lambda column, value: column.ilike(value, escape="\\"),
    "NOT LIKE": lambda column, value: column.not_ilike(value, escape="\\"),
}


# A comparison compiled some better way (an index the plain column condition would not use), or None.
Rewrite = Callable[[Comparison], ColumnElement[bool] | None]


def compile_query(
    expr: Expr, columns: Mapping[str, ColumnElement[Any]], rewrite: Rewrite | None = None
) -> ColumnElement[bool]:
    """Turn a parsed query into a SQLAlchemy condition over `columns` (query field name → column)."""
    match expr:
        case And(left, right):
            return and_(compile_query(left, columns, rewrite), compile_query(right, columns, rewrite))
        case Or(left, right):
            return or_(compile_query(left, columns, rewrite), compile_query(right, columns, rewrite))
        case Not(operand):
            return not_(compile_query(operand, columns, rewrite))
        case Comparison():
            rewritten = rewrite(expr) if rewrite is not None else None
            return rewritten if rewritten is not None else _compile_comparison(expr, columns)
        case Between(field, low, high, negated):
            between = _column(field, columns).between(low, high)
            return not_(between) if negated else between
        case InList():
            return _compile_in(expr, columns)
        case IsNull(field, negated):
            column = _column(field, columns)
            return column.is_not(None) if negated else column.is_(None)
        case _:
            assert_never(expr)


def _column(field: str, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    if field not in columns:
        raise invalid_query(f"invalid syntax: '{field}' is a known field but this mirror cannot filter on it")
    return columns[field]


def _folds_case(field: str, op: str) -> bool:
    return field in CASE_INSENSITIVE and op not in PATTERN_OPS


def _lower(value: Value) -> Value:
    return value.lower() if isinstance(value, str) else value


def _compile_comparison(expr: Comparison, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    column = _column(expr.field, columns)
    if _folds_case(expr.field, expr.op):
        return _COMPARATORS[expr.op](_folded(column), _lower(expr.value))
    return _COMPARATORS[expr.op](column, expr.value)


def _compile_in(expr: InList, columns: Mapping[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    column = _column(expr.field, columns)
    values = list(expr.values)
    if _folds_case(expr.field, "IN"):
        column, values = _folded(column), [_lower(value) for value in values]
    return column.not_in(values) if expr.negated else column.in_(values)


def _folded(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """lower(column), unless the column says it holds lowercase already (then its index stays usable)."""
    return column if column.info.get("lowercase") else func.lower(column)
