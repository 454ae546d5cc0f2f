"""The GET /v3/messages query language: parsing, errors, robustness and SQL compilation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from app.activity.query import parse_query
from app.activity.sql import compile_query
from app.activity.syntax import (
    FIELD_TYPES,
    MAX_CONDITIONS,
    MAX_DEPTH,
    And,
    Between,
    Comparison,
    Expr,
    InList,
    IsNull,
    Not,
    Or,
)
from app.kernel.errors import BadRequest, ErrorDetail

FEB13 = datetime(2017, 2, 13, tzinfo=UTC)
FEB14 = datetime(2017, 2, 14, tzinfo=UTC)
TO_A = Comparison("to_email", "=", "a@x.com")
TO_B = Comparison("to_email", "=", "b@x.com")
TO_C = Comparison("to_email", "=", "c@x.com")


def error_of(query: str) -> str:
    """Parse a query that must fail and return its single error message."""
    with pytest.raises(BadRequest) as caught:
        parse_query(query)
    assert caught.value.status == 400
    (detail,) = caught.value.details
    assert detail == ErrorDetail(message=detail.message)
    return detail.message


class TestPredicates:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ('to_email="example@example.com"', Comparison("to_email", "=", "example@example.com")),
            ('from_email = "testing@sendgrid.net"', Comparison("from_email", "=", "testing@sendgrid.net")),
            ('subject="This is a subject test"', Comparison("subject", "=", "This is a subject test")),
            (
                'msg_id="filter0307p1las1-16816-5A023E36-1.0"',
                Comparison("msg_id", "=", "filter0307p1las1-16816-5A023E36-1.0"),
            ),
            ('template_id!="8f0d27bc"', Comparison("template_id", "!=", "8f0d27bc")),
            ("msg_id LIKE 'abc%'", Comparison("msg_id", "LIKE", "abc%")),
            ('subject NOT LIKE "%sale%"', Comparison("subject", "NOT LIKE", "%sale%")),
            ("clicks = 0", Comparison("clicks", "=", 0)),
            ("opens >= 2", Comparison("opens", ">=", 2)),
            ("clicks < 1.5", Comparison("clicks", "<", 1.5)),
            ("asm_group_id <= -1", Comparison("asm_group_id", "<=", -1)),
            ('subject > "m"', Comparison("subject", ">", "m")),
            ('last_event_time > TIMESTAMP "2017-02-13T00:00:00Z"', Comparison("last_event_time", ">", FEB13)),
            ('to_email IN ("a@x.com", "b@x.com")', InList("to_email", ("a@x.com", "b@x.com"))),
            ('to_email NOT IN ("a@x.com")', InList("to_email", ("a@x.com",), negated=True)),
            ("clicks IN (1, 2)", InList("clicks", (1, 2))),
            ("subject IS NULL", IsNull("subject")),
            ("template_id IS NOT NULL", IsNull("template_id", negated=True)),
            ("events IS NOT NULL", IsNull("events", negated=True)),
        ],
    )
    def test_parses(self, query: str, expected: Expr) -> None:
        assert parse_query(query) == expected

    @pytest.mark.parametrize("status", ["processed", "delivered", "not_delivered"])
    def test_every_status(self, status: str) -> None:
        assert parse_query(f'status="{status}"') == Comparison("status", "=", status)

    def test_status_is_normalised_to_lower_case(self) -> None:
        assert parse_query("status IN ('Delivered', 'NOT_DELIVERED')") == InList(
            "status", ("delivered", "not_delivered")
        )

    def test_status_like_is_a_pattern_not_a_status(self) -> None:
        assert parse_query('status LIKE "%deliv%"') == Comparison("status", "LIKE", "%deliv%")

    def test_between_timestamps(self) -> None:
        query = 'last_event_time BETWEEN TIMESTAMP "2017-02-13T00:00:00Z" AND TIMESTAMP "2017-02-14T00:00:00Z"'
        assert parse_query(query) == Between("last_event_time", FEB13, FEB14)

    def test_not_between_timestamps(self) -> None:
        query = 'last_event_time NOT BETWEEN TIMESTAMP "2017-02-13" AND TIMESTAMP "2017-02-14"'
        assert parse_query(query) == Between("last_event_time", FEB13, FEB14, negated=True)

    def test_numeric_between_is_an_inclusive_range(self) -> None:
        expected = And(Comparison("clicks", ">=", 1), Comparison("clicks", "<=", 3))
        assert parse_query("clicks BETWEEN 1 AND 3") == expected
        assert parse_query("clicks NOT BETWEEN 1 AND 3") == Not(expected)


class TestTimestamps:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2017-02-13T00:00:00Z", FEB13),
            ("2017-02-13 00:00:00", FEB13),
            ("2017-02-13", FEB13),
            ("2017-02-13T00:00", FEB13),
            ("2017-02-13t00:00:00z", FEB13),
            ("2018-02-01T00:00:00.000Z", datetime(2018, 2, 1, tzinfo=UTC)),
            ("2017-02-13T01:02:03.123456789Z", datetime(2017, 2, 13, 1, 2, 3, 123456, tzinfo=UTC)),
            ("2017-02-13T02:00:00+02:00", FEB13),
            ("2017-02-12T19:00:00-0500", FEB13),
        ],
    )
    def test_accepted_forms_become_utc(self, text: str, expected: datetime) -> None:
        parsed = parse_query(f'last_event_time = TIMESTAMP "{text}"')
        assert parsed == Comparison("last_event_time", "=", expected)
        assert isinstance(parsed, Comparison)
        assert isinstance(parsed.value, datetime)
        assert parsed.value.utcoffset() is not None
        assert parsed.value.utcoffset() == expected.utcoffset()

    @pytest.mark.parametrize(
        "text",
        [
            "yesterday",
            "2017-13-01",
            "2017-02-30T00:00:00Z",
            "2017-02-13T24:00:00Z",
            "2017-2-13",
            "0000-01-01",
            "0001-01-01T00:00:00+01:00",
            "2017-02-13T00:00:00+24:00",
            "2017-02-13T00:00:00 Z",
            "",
        ],
    )
    def test_bad_timestamps(self, text: str) -> None:
        message = error_of(f'last_event_time > TIMESTAMP "{text}"')
        assert message == f"invalid syntax: '{text}' is not a valid timestamp"


class TestBooleans:
    def test_and(self) -> None:
        assert parse_query('to_email="a@x.com" AND to_email="b@x.com"') == And(TO_A, TO_B)

    def test_or(self) -> None:
        assert parse_query('to_email="a@x.com" OR to_email="b@x.com"') == Or(TO_A, TO_B)

    def test_not(self) -> None:
        assert parse_query('NOT to_email="a@x.com"') == Not(TO_A)

    def test_double_not(self) -> None:
        assert parse_query('NOT NOT to_email="a@x.com"') == Not(Not(TO_A))

    def test_and_binds_tighter_than_or(self) -> None:
        query = 'to_email="a@x.com" OR to_email="b@x.com" AND to_email="c@x.com"'
        assert parse_query(query) == Or(TO_A, And(TO_B, TO_C))
        query = 'to_email="a@x.com" AND to_email="b@x.com" OR to_email="c@x.com"'
        assert parse_query(query) == Or(And(TO_A, TO_B), TO_C)

    def test_not_binds_tighter_than_and(self) -> None:
        query = 'NOT to_email="a@x.com" AND to_email="b@x.com"'
        assert parse_query(query) == And(Not(TO_A), TO_B)

    def test_parentheses_override_precedence(self) -> None:
        query = '(to_email="a@x.com" OR to_email="b@x.com") AND to_email="c@x.com"'
        assert parse_query(query) == And(Or(TO_A, TO_B), TO_C)
        assert parse_query('NOT (to_email="a@x.com" AND to_email="b@x.com")') == Not(And(TO_A, TO_B))

    def test_operators_are_left_associative(self) -> None:
        query = 'to_email="a@x.com" AND to_email="b@x.com" AND to_email="c@x.com"'
        assert parse_query(query) == And(And(TO_A, TO_B), TO_C)

    def test_redundant_parentheses(self) -> None:
        assert parse_query('((to_email="a@x.com"))') == TO_A

    def test_between_and_is_not_a_boolean_and(self) -> None:
        query = 'clicks BETWEEN 1 AND 2 AND to_email="a@x.com"'
        range_ = And(Comparison("clicks", ">=", 1), Comparison("clicks", "<=", 2))
        assert parse_query(query) == And(range_, TO_A)

    def test_docs_compound_query_without_space_before_and(self) -> None:
        query = (
            'last_event_time BETWEEN TIMESTAMP "2017-02-13T00:00:00Z" AND TIMESTAMP "2017-02-14T00:00:00Z"'
            'AND to_email="a@x.com"'
        )
        assert parse_query(query) == And(Between("last_event_time", FEB13, FEB14), TO_A)


class TestLexing:
    def test_keywords_and_field_names_ignore_case(self) -> None:
        query = 'not To_Email like "a%" and clicks between 1 aNd 2 or SUBJECT is not null'
        expected = Or(
            And(
                Not(Comparison("to_email", "LIKE", "a%")),
                And(Comparison("clicks", ">=", 1), Comparison("clicks", "<=", 2)),
            ),
            IsNull("subject", negated=True),
        )
        assert parse_query(query) == expected

    def test_timestamp_keyword_ignores_case(self) -> None:
        assert parse_query('last_event_time<timestamp "2017-02-13"') == Comparison("last_event_time", "<", FEB13)

    def test_whitespace_is_optional_and_free(self) -> None:
        assert parse_query('\t to_email\n=\r\n"a@x.com"  ') == TO_A
        assert parse_query('(to_email="a@x.com")OR(to_email="b@x.com")') == Or(TO_A, TO_B)

    @pytest.mark.parametrize(
        ("literal", "value"),
        [
            (r'"say \"hi\""', 'say "hi"'),
            (r"'it\'s'", "it's"),
            ("'say \"hi\"'", 'say "hi"'),
            ('"it\'s"', "it's"),
            (r'"back\\slash"', "back\\slash"),
            (r'"100\%"', "100\\%"),
            (r'"tab\t"', "tab\\t"),
            ('"AND OR NOT ( ) = bad_field"', "AND OR NOT ( ) = bad_field"),
            ('""', ""),
            ('"ünïcødé ✉"', "ünïcødé ✉"),
        ],
    )
    def test_string_literals(self, literal: str, value: str) -> None:
        assert parse_query(f"subject = {literal}") == Comparison("subject", "=", value)


class TestErrors:
    @pytest.mark.parametrize(
        ("query", "message"),
        [
            # The one message the v3 spec gives for this endpoint.
            ('bad_field="x"', "invalid syntax: 'bad_field' is not a known field"),
            ('Bad_Field="x"', "invalid syntax: 'Bad_Field' is not a known field"),
            ('query=to_email="a@x.com"', "invalid syntax: 'query' is not a known field"),
            # Observed SendGrid wording (sendgrid/docs#6229, #4926, StrongGrid#524).
            ('clicks="0"', "operator = is incompatible with NUMBER, STRING"),
            ('events="bounced"', "operator = is incompatible with ARRAY<STRING>, STRING"),
            ('last_event_time="2017-11-07T23:13:58Z"', "operator = is incompatible with DATETIME, STRING"),
            ('last_event_time BETWEEN "a" AND "b"', "operator >= is incompatible with DATETIME, STRING"),
            (
                'last_event_time BETWEEN TIMESTAMP "2017-02-13" AND 5',
                "operator <= is incompatible with DATETIME, NUMBER",
            ),
            ('to_email = TIMESTAMP "2017-02-13"', "operator = is incompatible with STRING, DATETIME"),
            ("clicks LIKE 1", "operator LIKE is incompatible with NUMBER, NUMBER"),
            ("subject NOT LIKE 1", "operator NOT LIKE is incompatible with STRING, NUMBER"),
            ('clicks IN (1, "2")', "operator IN is incompatible with NUMBER, STRING"),
            ('clicks NOT IN ("1")', "operator NOT IN is incompatible with NUMBER, STRING"),
            ("subject = TRUE", "operator = is incompatible with STRING, BOOL"),
            ("clicks != false", "operator != is incompatible with NUMBER, BOOL"),
            # Syntax errors: SendGrid's "syntax error: unexpected X" (sendgrid-nodejs#865) plus a position.
            ("", "syntax error: unexpected end of query at position 1"),
            ("   ", "syntax error: unexpected end of query at position 4"),
            ("to_email", "syntax error: unexpected end of query at position 9"),
            ("to_email =", "syntax error: unexpected end of query at position 11"),
            ("to_email example", "syntax error: unexpected IDENTIFIER at position 10"),
            ('"a@x.com" = to_email', "syntax error: unexpected STRING at position 1"),
            ("to_email = from_email", "syntax error: unexpected IDENTIFIER at position 12"),
            ('to_email == "a"', "syntax error: unexpected '=' at position 11"),
            ('to_email="a" to_email="b"', "syntax error: unexpected IDENTIFIER at position 14"),
            ('to_email="a" AND', "syntax error: unexpected end of query at position 17"),
            ('to_email="a" AND OR to_email="b"', "syntax error: unexpected OR at position 18"),
            ('(to_email="a"', "syntax error: unexpected end of query at position 14"),
            ('to_email="a")', "syntax error: unexpected ')' at position 13"),
            ("()", "syntax error: unexpected ')' at position 2"),
            ('to_email NOT = "a"', "syntax error: unexpected '=' at position 14"),
            ("to_email IN ()", "syntax error: unexpected ')' at position 14"),
            ('to_email IN ("a",)', "syntax error: unexpected ')' at position 18"),
            ('to_email IN "a"', "syntax error: unexpected STRING at position 13"),
            ("subject IS NOTHING", "syntax error: unexpected IDENTIFIER at position 12"),
            ('subject IS "x"', "syntax error: unexpected STRING at position 12"),
            ("subject = NULL", "syntax error: unexpected NULL at position 11"),
            ("clicks BETWEEN 1 OR 2", "syntax error: unexpected OR at position 18"),
            ("last_event_time > TIMESTAMP 5", "syntax error: unexpected NUMBER at position 29"),
            ("last_event_time > INTERVAL 1 DAY", "syntax error: unexpected INTERVAL at position 19"),
            ('subject = "a" , 1', "syntax error: unexpected ',' at position 15"),
            # Lexing.
            ('subject = "unterminated', "syntax error: unterminated string starting at position 11"),
            ("subject = 'x", "syntax error: unterminated string starting at position 11"),
            ('subject = "ends in escape\\"', "syntax error: unterminated string starting at position 11"),
            ("subject = \u201cx\u201d", "syntax error: unexpected character '\u201c' at position 11"),
            ("subject ~ 'x'", "syntax error: unexpected character '~' at position 9"),
            ("unique_args['k'] = 'v'", "syntax error: unexpected character '[' at position 12"),
            ("clicks = 1 + 1", "syntax error: unexpected character '+' at position 12"),
            ("subject = 'a\x00'", "syntax error: unexpected character '\\x00' at position 13"),
            # Values.
            (
                'status="bouced"',
                "invalid syntax: 'bouced' is not a valid status, expected one of processed, delivered, not_delivered",
            ),
            (
                "status IN ('delivered', 'bounced')",
                "invalid syntax: 'bounced' is not a valid status, expected one of processed, delivered, not_delivered",
            ),
            ("clicks = 9223372036854775808", "invalid syntax: '9223372036854775808' is not a valid number"),
            ("clicks = " + "9" * 5000, f"invalid syntax: '{'9' * 5000}' is not a valid number"),
            ("clicks = " + "9" * 400 + ".5", f"invalid syntax: '{'9' * 400}.5' is not a valid number"),
            (r'subject LIKE "abc\\"', "invalid syntax: LIKE pattern 'abc\\' ends with an escape character"),
        ],
    )
    def test_message(self, query: str, message: str) -> None:
        assert error_of(query) == message

    def test_first_error_wins(self) -> None:
        assert error_of('bad_field="x" AND clicks="0"') == "invalid syntax: 'bad_field' is not a known field"
        assert error_of('clicks="0" AND bad_field="x"') == "operator = is incompatible with NUMBER, STRING"

    def test_lexing_errors_come_before_parse_errors(self) -> None:
        assert error_of('bad_field="x" AND subject ~ "y"') == "syntax error: unexpected character '~' at position 27"

    def test_largest_number_is_accepted(self) -> None:
        assert parse_query("clicks = 9223372036854775807") == Comparison("clicks", "=", 2**63 - 1)

    def test_condition_limit(self) -> None:
        at_limit = " OR ".join(["clicks = 1"] * MAX_CONDITIONS)
        assert isinstance(parse_query(at_limit), Or)
        over = f"{at_limit} OR clicks = 1"
        assert error_of(over) == "invalid syntax: a query may combine at most 160 conditions"

    def test_nesting_limit(self) -> None:
        at_limit = "(" * MAX_DEPTH + "clicks = 1" + ")" * MAX_DEPTH
        assert parse_query(at_limit) == Comparison("clicks", "=", 1)
        too_deep = "(" * (MAX_DEPTH + 1) + "clicks = 1" + ")" * (MAX_DEPTH + 1)
        assert error_of(too_deep) == "syntax error: query nested deeper than 32 levels at position 33"
        nots = "NOT " * (MAX_DEPTH + 1) + "clicks = 1"
        assert error_of(nots) == "syntax error: query nested deeper than 32 levels at position 129"

    def test_huge_inputs_fail_cleanly(self) -> None:
        assert error_of("(" * 100_000).startswith("syntax error: query nested deeper")
        assert error_of("NOT " * 100_000).startswith("syntax error: query nested deeper")
        assert error_of(" AND ".join(["clicks = 1"] * 10_000)).startswith("invalid syntax: a query may combine")


VALID_QUERIES = [
    'to_email="example@example.com"',
    'subject="This is a subject test"',
    "msg_id LIKE 'filter0307%'",
    'status="delivered" AND to_email="a@x.com"',
    'last_event_time BETWEEN TIMESTAMP "2017-02-13T00:00:00Z" AND TIMESTAMP "2017-02-14T00:00:00Z"',
    '(status="processed" OR status="not_delivered") AND NOT from_email="b@x.com"',
    'to_email IN ("a@x.com", "b@x.com") AND clicks >= 1',
    "subject NOT LIKE '%\\%%' OR template_id IS NULL",
    'clicks NOT BETWEEN 1 AND 3 OR opens < 2.5 AND subject != "it\\"s"',
    "last_event_time >= timestamp '2017-02-13 00:00:00' and events is not null",
]
ALPHABET = st.sampled_from(list("()\"'\\=!<>,%_ -.:TZ0123456789azANDORNOTLIKEIN\t\x00\u201c\u00e9[+"))


@st.composite
def mutated_queries(draw: st.DrawFn) -> str:
    """A valid query with a few random insertions, deletions and duplicated slices."""
    query = draw(st.sampled_from(VALID_QUERIES))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(query)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if kind == "insert":
            query = query[:at] + draw(st.text(ALPHABET, min_size=1, max_size=4)) + query[at:]
        elif kind == "delete":
            query = query[:at] + query[at + draw(st.integers(1, 6)) :]
        else:
            query = query[:at] + query[at : at + draw(st.integers(1, 12))] * 2 + query[at:]
    return query


PREDICATES = [
    'to_email = "alice@example.com"',
    "from_email != 'sender@x.com'",
    'subject like "%sale%"',
    'msg_id not like "abc%"',
    "status in ('delivered', 'processed')",
    'status not in ("not_delivered")',
    "clicks between 1 and 3",
    "opens not between 0 and 1",
    "clicks > 0",
    "opens <= 2.5",
    "template_id is null",
    "template_id is not null",
    'last_event_time between timestamp "2017-02-13" and timestamp "2017-02-14T00:00:00Z"',
    "last_event_time < timestamp '2017-02-13 12:00:00+01:00'",
]


def random_case(draw: st.DrawFn, word: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


@st.composite
def valid_queries(draw: st.DrawFn, depth: int = 0) -> str:
    """A random well-formed query: predicates joined by AND/OR, NOT and parentheses."""
    kind = draw(st.sampled_from(["predicate", "not", "group", "and", "or"] if depth < 4 else ["predicate"]))
    space = draw(st.sampled_from([" ", "  ", "\t", "\n "]))
    if kind == "predicate":
        return random_case(draw, draw(st.sampled_from(PREDICATES)))
    if kind == "not":
        return f"{random_case(draw, 'not')}{space}{draw(valid_queries(depth + 1))}"
    if kind == "group":
        return f"({draw(valid_queries(depth + 1))})"
    left, right = draw(valid_queries(depth + 1)), draw(valid_queries(depth + 1))
    return f"{left}{space}{random_case(draw, kind)}{space}{right}"


def parse_or_reject(query: str) -> Expr | None:
    """Parse, allowing only BadRequest with a non-empty message to escape."""
    try:
        return parse_query(query)
    except BadRequest as error:
        message = error.details[0].message
    assert message
    return None


class TestRobustness:
    @pytest.mark.parametrize("query", VALID_QUERIES)
    def test_seed_queries_are_valid(self, query: str) -> None:
        assert parse_query(query) is not None

    @settings(max_examples=300, deadline=None)
    @given(st.text())
    def test_random_text_only_raises_bad_request(self, query: str) -> None:
        parse_or_reject(query)

    @settings(max_examples=300, deadline=None)
    @given(st.text(ALPHABET, max_size=80))
    def test_random_syntax_soup_only_raises_bad_request(self, query: str) -> None:
        parse_or_reject(query)

    @settings(max_examples=300, deadline=None)
    @given(valid_queries())
    def test_generated_queries_parse_and_run(self, engine: sa.Engine, query: str) -> None:
        expr = parse_query(query)
        with engine.connect() as connection:
            connection.execute(sa.select(messages.c.id).where(compile_query(expr, ALL_COLUMNS))).all()

    @settings(max_examples=300, deadline=None)
    @given(mutated_queries())
    def test_mutated_queries_parse_or_fail_cleanly_and_run(self, engine: sa.Engine, query: str) -> None:
        expr = parse_or_reject(query)
        if expr is not None:
            with engine.connect() as connection:
                connection.execute(sa.select(messages.c.id).where(compile_query(expr, ALL_COLUMNS))).all()


metadata = sa.MetaData()
messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("msg_id", sa.String),
    sa.Column("from_email", sa.String),
    sa.Column("to_email", sa.String),
    sa.Column("subject", sa.String),
    sa.Column("status", sa.String),
    sa.Column("template_id", sa.String, nullable=True),
    sa.Column("clicks", sa.Integer),
    sa.Column("opens", sa.Integer),
    sa.Column("last_event_time", sa.DateTime(timezone=True)),
    sa.Column("categories", sa.Text, nullable=True),
)
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "msg_id": "abc.filter001",
        "from_email": "sender@x.com",
        "to_email": "Alice@Example.com",
        "subject": "Welcome aboard",
        "status": "delivered",
        "template_id": "tpl-1",
        "clicks": 0,
        "opens": 1,
        "last_event_time": datetime(2017, 2, 12, 23, 59, 59, tzinfo=UTC),
        "categories": None,
    },
    {
        "id": 2,
        "msg_id": "abc.filter002",
        "from_email": "sender@x.com",
        "to_email": "bob@example.com",
        "subject": "100% off SALE",
        "status": "processed",
        "template_id": None,
        "clicks": 3,
        "opens": 5,
        "last_event_time": FEB13,
        "categories": '["promo"]',
    },
    {
        "id": 3,
        "msg_id": "def.filter003",
        "from_email": "Other@X.com",
        "to_email": "carol@example.org",
        "subject": 'He said "hi"',
        "status": "not_delivered",
        "template_id": "tpl-2",
        "clicks": 1,
        "opens": 0,
        "last_event_time": datetime(2017, 2, 13, 12, tzinfo=UTC),
        "categories": None,
    },
    {
        "id": 4,
        "msg_id": "def_filter004",
        "from_email": "sender@x.com",
        "to_email": "dave@example.com",
        "subject": "Sale ends soon",
        "status": "delivered",
        "template_id": None,
        "clicks": 7,
        "opens": 9,
        "last_event_time": FEB14,
        "categories": None,
    },
]
ALL_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    **{name: messages.c[name] for name in FIELD_TYPES if name in messages.c},
    **{name: messages.c.categories for name in FIELD_TYPES if name not in messages.c},
}


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(messages.insert(), ROWS)
    yield engine
    engine.dispose()


def matching(engine: sa.Engine, query: str) -> list[int]:
    condition = compile_query(parse_query(query), ALL_COLUMNS)
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(messages.c.id).where(condition).order_by(messages.c.id)))


class TestCompile:
    @pytest.mark.parametrize(
        ("query", "ids"),
        [
            ('to_email="bob@example.com"', [2]),
            ('to_email="ALICE@example.COM"', [1]),
            ('from_email="other@x.com"', [3]),
            ('to_email!="alice@example.com"', [2, 3, 4]),
            ('to_email IN ("ALICE@EXAMPLE.COM", "dave@example.com")', [1, 4]),
            ('to_email NOT IN ("alice@example.com")', [2, 3, 4]),
            ('subject="welcome aboard"', []),
            ('subject="Welcome aboard"', [1]),
            ('subject="He said \\"hi\\""', [3]),
            ('subject LIKE "%sale%"', [2, 4]),
            ('subject NOT LIKE "%SALE%"', [1, 3]),
            ('subject LIKE "100\\%%"', [2]),
            ('subject LIKE "%\\%%"', [2]),
            ("msg_id LIKE 'def\\_%'", [4]),
            ("msg_id LIKE 'def_%'", [3, 4]),
            ('to_email LIKE "%@example.com"', [1, 2, 4]),
            ('status="delivered"', [1, 4]),
            ('status="Delivered"', [1, 4]),
            ("status IN ('processed', 'not_delivered')", [2, 3]),
            ("clicks = 0", [1]),
            ("clicks > 1", [2, 4]),
            ("clicks BETWEEN 1 AND 3", [2, 3]),
            ("clicks NOT BETWEEN 1 AND 3", [1, 4]),
            ("opens <= 1.5", [1, 3]),
            ("template_id IS NULL", [2, 4]),
            ("template_id IS NOT NULL", [1, 3]),
            ('template_id != "tpl-1"', [3]),
            (
                'last_event_time BETWEEN TIMESTAMP "2017-02-13" AND TIMESTAMP "2017-02-14T00:00:00Z"',
                [2, 3, 4],
            ),
            (
                'last_event_time NOT BETWEEN TIMESTAMP "2017-02-13" AND TIMESTAMP "2017-02-13T23:59:59Z"',
                [1, 4],
            ),
            ('last_event_time < TIMESTAMP "2017-02-13"', [1]),
            ('last_event_time >= TIMESTAMP "2017-02-13T07:00:00+05:00"', [3, 4]),
            ('last_event_time = TIMESTAMP "2017-02-14"', [4]),
            ('status="delivered" OR clicks=3 AND opens=0', [1, 4]),
            ('(status="delivered" OR clicks=3) AND opens=1', [1]),
            ('NOT status="delivered" AND clicks > 0', [2, 3]),
            ('NOT (status="delivered" AND clicks > 0)', [1, 2, 3]),
            ('from_email="sender@x.com" AND NOT subject LIKE "%sale%"', [1]),
            ("categories IS NOT NULL", [2]),
        ],
    )
    def test_matches(self, engine: sa.Engine, query: str, ids: list[int]) -> None:
        assert matching(engine, query) == ids

    def test_field_missing_from_mapping(self) -> None:
        expr = parse_query('to_email="a@x.com" OR template_name="welcome"')
        with pytest.raises(BadRequest) as caught:
            compile_query(expr, {"to_email": messages.c.to_email})
        assert caught.value.details == (
            ErrorDetail(message="invalid syntax: 'template_name' is a known field but this mirror cannot filter on it"),
        )

    @pytest.mark.parametrize(
        "query",
        [
            "template_name IS NULL",
            'template_name IN ("a")',
            "unsubscribe_group_id BETWEEN 1 AND 2",
            'NOT template_name = "a"',
            'last_event_time > TIMESTAMP "2017-02-13"',
            'last_event_time BETWEEN TIMESTAMP "2017-02-13" AND TIMESTAMP "2017-02-14"',
        ],
    )
    def test_every_node_checks_the_mapping(self, query: str) -> None:
        with pytest.raises(BadRequest):
            compile_query(parse_query(query), {"to_email": messages.c.to_email})

    def test_email_equality_compiles_through_lower(self) -> None:
        sql = str(compile_query(parse_query('to_email="A@X.com"'), ALL_COLUMNS))
        assert sql == "lower(messages.to_email) = :lower_1"

    def test_like_compiles_case_insensitive_with_escape(self) -> None:
        sql = str(compile_query(parse_query('subject LIKE "a%"'), ALL_COLUMNS))
        assert sql == "lower(messages.subject) LIKE lower(:subject_1) ESCAPE '\\'"
