"""The query language's vocabulary and syntax tree: fields and their types, limits, and the node classes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from app.kernel.errors import BadRequest, ErrorDetail

CompareOp = Literal["=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE"]
Value = str | int | float | datetime


# "Combine up to 160 filter conditions per request" (docs: Filter all messages).
MAX_CONDITIONS: Final = 160


# Bounds recursion so no input can overflow the Python stack.
MAX_DEPTH: Final = 32
STATUSES: Final = ("processed", "delivered", "not_delivered")


# Type names as SendGrid's errors spell them: NUMBER for clicks and ARRAY<STRING> for events are
# observed (sendgrid/docs#6229, #4926), DATETIME too (sendgrid-nodejs#865); the rest follow the spec.
_STRING_FIELDS: Final = (
    "msg_id", "from_email", "subject", "to_email", "status", "template_id", "template_name",
    "campaign_name", "campaign_id", "api_key_id", "api_key_name", "originating_ip", "outbound_ip",
    "unique_args", "unsubscribe_group_name", "teammate",
)  # fmt: skip
FIELD_TYPES: Final[Mapping[str, str]] = {
    **dict.fromkeys(_STRING_FIELDS, "STRING"),
    **dict.fromkeys(("asm_group_id", "unsubscribe_group_id", "clicks", "opens"), "NUMBER"),
    "last_event_time": "DATETIME",
    **dict.fromkeys(("events", "categories"), "ARRAY<STRING>"),
}
PATTERN_OPS: Final = frozenset({"LIKE", "NOT LIKE"})
CASE_INSENSITIVE: Final = frozenset({"to_email", "from_email"})


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field op value`; op includes LIKE and NOT LIKE."""

    field: str
    op: CompareOp
    value: Value


@dataclass(frozen=True, slots=True)
class Between:
    """`field [NOT] BETWEEN TIMESTAMP low AND TIMESTAMP high`, bounds inclusive, UTC."""

    field: str
    low: datetime
    high: datetime
    negated: bool = False


@dataclass(frozen=True, slots=True)
class InList:
    """`field [NOT] IN (v1, v2, ...)`."""

    field: str
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class IsNull:
    """`field IS [NOT] NULL`."""

    field: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


Expr = Comparison | Between | InList | IsNull | And | Or | Not


def invalid_query(message: str) -> BadRequest:
    """The 400 of a query the language refuses, worded as SendGrid words it."""
    return BadRequest(details=[ErrorDetail(message=message)])
