r"""The query language of GET /v3/messages: tokenizer and recursive-descent parser (`sql` compiles the tree).

Grammar (keywords and field names are case-insensitive; NOT binds tighter than AND, AND tighter than OR):

    query     := or_expr END
    or_expr   := and_expr ("OR" and_expr)*
    and_expr  := not_expr ("AND" not_expr)*
    not_expr  := "NOT" not_expr | "(" or_expr ")" | predicate
    predicate := FIELD ( ("=" | "!=" | "<" | "<=" | ">" | ">=") literal
                       | ["NOT"] "LIKE" literal
                       | ["NOT"] "IN" "(" literal ("," literal)* ")"
                       | ["NOT"] "BETWEEN" literal "AND" literal
                       | "IS" ["NOT"] "NULL" )
    literal   := STRING | NUMBER | "TIMESTAMP" STRING | "TRUE" | "FALSE"

Strings take double or single quotes; `\` escapes the delimiter and itself, any other `\x` is kept
as written so LIKE patterns can escape `%` and `_`. Sources: SendGrid's "Getting Started with the
Email Activity Feed API" (operators, keywords, fields, escaping), the v3 spec (the unknown-field
error) and 400 bodies quoted in sendgrid/docs#4926, #6229 and sendgrid-nodejs#865 (error wording).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, cast

from app.activity.syntax import (
    FIELD_TYPES,
    MAX_CONDITIONS,
    MAX_DEPTH,
    PATTERN_OPS,
    STATUSES,
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
from app.kernel.errors import BadRequest

_KEYWORDS: Final = frozenset(
    {"AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL", "TIMESTAMP", "TRUE", "FALSE"}
    # Listed by the docs but meaningless here; reserving them gives a syntax error, not a field error.
    | {"INTERVAL", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"}
)
_ESCAPABLE: Final = frozenset("\\\"'")
_MAX_INT: Final = 2**63 - 1
_TOKEN = re.compile(
    r"""(?P<SPACE>\s+)
    | (?P<STRING>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<WORD>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<NUMBER>-?[0-9]+(?:\.[0-9]+)?)
    | (?P<OP>!=|<=|>=|=|<|>)
    | (?P<PUNCT>[(),])""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Literal:
    type: str
    value: Value


def _syntax_error(what: str, pos: int) -> BadRequest:
    return invalid_query(f"syntax error: {what} at position {pos}")


def _unexpected(token: _Token) -> BadRequest:
    if token.kind == "END":
        return _syntax_error("unexpected end of query", token.pos)
    shown = f"'{token.text}'" if token.kind in ("OP", "(", ")", ",") else token.kind
    return _syntax_error(f"unexpected {shown}", token.pos)


def _tokenize(text: str) -> list[_Token]:
    """Split a query into tokens; positions are 1-based character offsets."""
    if "\x00" in text:
        raise _syntax_error("unexpected character '\\x00'", text.index("\x00") + 1)
    tokens: list[_Token] = []
    index = 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:
            raise _lexing_error(text, index)
        if match.lastgroup != "SPACE":
            tokens.append(_token(match))
        index = match.end()
    tokens.append(_Token("END", "", len(text) + 1))
    return tokens


def _token(match: re.Match[str]) -> _Token:
    kind, text, pos = match.lastgroup or "", match.group(), match.start() + 1
    if kind == "STRING":
        return _Token(kind, _ESCAPE.sub(_unescape, text[1:-1]), pos)
    if kind == "WORD":
        kind = text.upper() if text.upper() in _KEYWORDS else "IDENTIFIER"
    return _Token(text if kind == "PUNCT" else kind, text, pos)


def _unescape(match: re.Match[str]) -> str:
    return match[1] if match[1] in _ESCAPABLE else match[0]


def _lexing_error(text: str, index: int) -> BadRequest:
    if text[index] in "\"'":
        return _syntax_error("unterminated string starting", index + 1)
    return _syntax_error(f"unexpected character {text[index]!r}", index + 1)


def _parse_number(text: str) -> int | float:
    """Read a NUMBER that fits a signed 64-bit column; int() refuses over 4300 digits."""
    try:
        number: int | float = float(text) if "." in text else int(text)
    except ValueError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > _MAX_INT:
        raise invalid_query(f"invalid syntax: '{text}' is not a valid number")
    return number


def _parse_timestamp(text: str) -> datetime:
    """Read an ISO 8601 date or date-time; no offset means UTC; the result is in UTC."""
    match = _TIMESTAMP.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return _build_timestamp(match)
    except (ValueError, OverflowError):
        raise invalid_query(f"invalid syntax: '{text}' is not a valid timestamp") from None


def _build_timestamp(match: re.Match[str]) -> datetime:
    *parts, fraction, offset = match.groups()
    year, month, day, hour, minute, second = (int(part or 0) for part in parts)
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    return datetime(year, month, day, hour, minute, second, micros, tzinfo=_zone(offset)).astimezone(UTC)


def _zone(offset: str | None) -> timezone:
    if offset is None or offset in "Zz":
        return UTC
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if offset[0] == "-" else delta)


def _checked(field: str, op: str, literal: _Literal) -> Value:
    """Type-check a literal against its field the way SendGrid's engine words it."""
    field_type = FIELD_TYPES[field]
    if literal.type != field_type or (op in PATTERN_OPS and field_type != "STRING"):
        raise invalid_query(f"operator {op} is incompatible with {field_type}, {literal.type}")
    if isinstance(literal.value, str) and op in PATTERN_OPS:
        _check_pattern(literal.value)
    elif isinstance(literal.value, str) and field == "status":
        return _status(literal.value)
    return literal.value


def _check_pattern(pattern: str) -> None:
    # PostgreSQL rejects a LIKE pattern that ends in its escape character.
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    if trailing % 2:
        raise invalid_query(f"invalid syntax: LIKE pattern '{pattern}' ends with an escape character")


def _status(value: str) -> str:
    if value.lower() not in STATUSES:
        raise invalid_query(f"invalid syntax: '{value}' is not a valid status, expected one of {', '.join(STATUSES)}")
    return value.lower()


class _Parser:
    """Recursive descent over the token list, one method per grammar rule."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self._conditions = 0

    def parse(self) -> Expr:
        expr = self._or()
        self._expect("END")
        return expr

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "END":
            self._index += 1
        return token

    def _accept(self, kind: str) -> bool:
        if self._peek().kind != kind:
            return False
        self._advance()
        return True

    def _expect(self, kind: str) -> _Token:
        if self._peek().kind != kind:
            raise _unexpected(self._peek())
        return self._advance()

    def _descend(self, token: _Token) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _syntax_error(f"query nested deeper than {MAX_DEPTH} levels", token.pos)

    def _or(self) -> Expr:
        expr = self._and()
        while self._accept("OR"):
            expr = Or(expr, self._and())
        return expr

    def _and(self) -> Expr:
        expr = self._not()
        while self._accept("AND"):
            expr = And(expr, self._not())
        return expr

    def _not(self) -> Expr:
        token = self._advance()
        if token.kind == "NOT":
            self._descend(token)
            expr: Expr = Not(self._not())
        elif token.kind == "(":
            self._descend(token)
            expr = self._or()
            self._expect(")")
        elif token.kind == "IDENTIFIER":
            return self._predicate(token)
        else:
            raise _unexpected(token)
        self._depth -= 1
        return expr

    def _predicate(self, name: _Token) -> Expr:
        field = self._field(name)
        token = self._advance()
        if token.kind == "OP":
            return Comparison(field, cast(CompareOp, token.text), _checked(field, token.text, self._literal()))
        if token.kind == "IS":
            negated = self._accept("NOT")
            self._expect("NULL")
            return IsNull(field, negated)
        negated = token.kind == "NOT"
        if negated:
            token = self._advance()
        if token.kind == "LIKE":
            op: CompareOp = "NOT LIKE" if negated else "LIKE"
            return Comparison(field, op, _checked(field, op, self._literal()))
        if token.kind == "IN":
            return self._in_list(field, negated)
        if token.kind == "BETWEEN":
            return self._between(field, negated)
        raise _unexpected(token)

    def _field(self, token: _Token) -> str:
        field = token.text.lower()
        if field not in FIELD_TYPES:
            raise invalid_query(f"invalid syntax: '{token.text}' is not a known field")
        self._conditions += 1
        if self._conditions > MAX_CONDITIONS:
            raise invalid_query(f"invalid syntax: a query may combine at most {MAX_CONDITIONS} conditions")
        return field

    def _in_list(self, field: str, negated: bool) -> InList:
        op = "NOT IN" if negated else "IN"
        self._expect("(")
        values = [_checked(field, op, self._literal())]
        while self._accept(","):
            values.append(_checked(field, op, self._literal()))
        self._expect(")")
        return InList(field, tuple(values), negated)

    def _between(self, field: str, negated: bool) -> Expr:
        # SendGrid reports BETWEEN type errors as its >= and <= halves (StrongGrid#524).
        low = _checked(field, ">=", self._literal())
        self._expect("AND")
        high = _checked(field, "<=", self._literal())
        if isinstance(low, datetime) and isinstance(high, datetime):
            return Between(field, low, high, negated)
        expr = And(Comparison(field, ">=", low), Comparison(field, "<=", high))
        return Not(expr) if negated else expr

    def _literal(self) -> _Literal:
        token = self._advance()
        if token.kind == "STRING":
            return _Literal("STRING", token.text)
        if token.kind == "NUMBER":
            return _Literal("NUMBER", _parse_number(token.text))
        if token.kind in ("TRUE", "FALSE"):
            return _Literal("BOOL", token.kind == "TRUE")
        if token.kind == "TIMESTAMP":
            return _Literal("DATETIME", _parse_timestamp(self._expect("STRING").text))
        raise _unexpected(token)


def parse_query(text: str) -> Expr:
    """Parse the `query` parameter of GET /v3/messages; raise BadRequest on any bad input."""
    return _Parser(_tokenize(text)).parse()
