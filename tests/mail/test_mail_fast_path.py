"""The mail-send fast path answers only where it agrees with the full validator, and answers the common sends."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.kernel.errors import BadRequest
from app.mail import fast_path as mail_fast_path
from app.mail import validation as mail_validation
from bench.mkbody import VARIANTS, variant_body

NOW = 1_700_000_000
TEMPLATE = "d-" + "ab12" * 8

# --- strategies -------------------------------------------------------------------------------------------

ODD = st.sampled_from([None, 0, 1, 2.5, True, "", "x", [], {}, [1], {"a": 1}])
GOOD_EMAILS = st.sampled_from(
    ["a@example.com", "A@Example.com", "b.c+d@mail.example.org", "x_y@sub.example.co", "Q@q.io"]
)
EMAILS = GOOD_EMAILS | st.sampled_from(["bad", "x@y", "a@b.c", "a" * 310 + "@example.com", "a@-x.com", " a@b.com"])
NAMES = st.sampled_from(["Ann", "A, B", "A;B", "", "Zoë"]) | st.text(max_size=4) | ODD
SUBJECTS = st.sampled_from(["Hi", "", "Ünïcode"]) | ODD
TYPES = st.sampled_from(["text/plain", "text/html", "text/x-amp-html", "TEXT/PLAIN", "text/plain; a", "", "a\nb"])
STRING_MAPS = st.dictionaries(st.sampled_from(["k", "order", "x" * 6000]), st.sampled_from(["v", "", "y" * 6000]) | ODD)


def _address(emails: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({"email": emails}, optional={"name": NAMES, "extra": st.just(1)})


ADDRESS = _address(EMAILS) | st.fixed_dictionaries({}, optional={"name": NAMES}) | ODD
ADDRESS_LIST = st.lists(ADDRESS, max_size=3) | ODD
CONTENT = st.fixed_dictionaries({"type": TYPES, "value": st.sampled_from(["body", ""]) | ODD}) | ODD
CATEGORIES = st.lists(st.sampled_from(["a", "b", "é", "c" * 256]) | ODD, max_size=12) | ODD

PERSONALIZATION = st.fixed_dictionaries(
    {},
    optional={
        "to": ADDRESS_LIST,
        "cc": ADDRESS_LIST,
        "bcc": ADDRESS_LIST,
        "subject": SUBJECTS,
        "custom_args": STRING_MAPS | ODD,
        "dynamic_template_data": st.dictionaries(st.text(max_size=3), st.integers()) | ODD,
        "substitutions": STRING_MAPS,
        "send_at": st.just(NOW),
    },
)
ANY_BODY = st.fixed_dictionaries(
    {},
    optional={
        "personalizations": st.lists(PERSONALIZATION | ODD, max_size=3) | ODD,
        "from": ADDRESS,
        "reply_to": ADDRESS,
        "reply_to_list": st.lists(ADDRESS, max_size=2),
        "subject": SUBJECTS,
        "content": st.lists(CONTENT, max_size=3) | ODD,
        "categories": CATEGORIES,
        "custom_args": STRING_MAPS | ODD,
        "template_id": st.sampled_from([TEMPLATE, "d-123", "", None]),
        "headers": st.just({"X-A": "b"}),
        "mail_settings": st.just({"sandbox_mode": {"enable": True}}),
        "unknown": st.just(1),
    },
)


@st.composite
def valid_common_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Valid bodies of the common shape: every one must take the fast path."""
    emails = draw(st.lists(GOOD_EMAILS, min_size=1, max_size=5, unique_by=str.lower))
    split = draw(st.integers(1, len(emails)))
    good_name = st.sampled_from(["Ann", "Bob Smith", "Zoë"])
    recipient = {"email": emails[0]} | draw(st.fixed_dictionaries({}, optional={"name": good_name}))
    personalization: dict[str, Any] = {"to": [recipient] + [{"email": e} for e in emails[1:split]]}
    if split < len(emails):
        personalization[draw(st.sampled_from(["cc", "bcc"]))] = [{"email": e} for e in emails[split:]]
    personalization |= draw(
        st.fixed_dictionaries(
            {},
            optional={
                "subject": st.just("Own"),
                "custom_args": st.just({"k": "v"}),
                "dynamic_template_data": st.just({"n": 1}),
            },
        )
    )
    body: dict[str, Any] = {
        "personalizations": [personalization],
        "from": {"email": "s@example.com", "name": "S, Inc."},
    }
    template = draw(st.booleans())
    if template:
        body["template_id"] = TEMPLATE
    if not template or draw(st.booleans()):
        body["content"] = draw(
            st.sampled_from(
                [
                    [{"type": "text/plain", "value": "t"}],
                    [{"type": "text/plain", "value": "t"}, {"type": "text/html", "value": "<b>h</b>"}],
                ]
            )
        )
    if "subject" not in personalization and not template or draw(st.booleans()):
        body["subject"] = "Hello"
    body |= draw(
        st.fixed_dictionaries(
            {},
            optional={
                "reply_to": st.just({"email": "r@example.com", "name": "R; Team"}),
                "categories": st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=3),
                "custom_args": st.just({"g": "1"}),
            },
        )
    )
    return body


REPLACEMENTS = (
    ODD | NAMES | EMAILS | TYPES | CATEGORIES | st.sampled_from(["text/html", "é", "a" * 300, TEMPLATE, "Ünï"])
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value, the root excluded."""
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found = []
    for key, child in children:
        found.append((*path, key))
        found.extend(_paths(child, (*path, key)))
    return found


@st.composite
def near_common_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid common body with one to three places replaced, deleted, duplicated or given a new key."""
    # Copies, because strategies hand out the same dicts and lists each time and edits here must not leak.
    body = copy.deepcopy(draw(valid_common_bodies()))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(body)))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "duplicate", "add"]))
        if action == "replace":
            parent[path[-1]] = copy.deepcopy(draw(REPLACEMENTS))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif isinstance(parent[path[-1]], dict):
            key = draw(st.sampled_from(["name", "subject", "send_at", "headers", "x"]))
            parent[path[-1]][key] = copy.deepcopy(draw(REPLACEMENTS))
    return body


# --- tests ----------------------------------------------------------------------------------------------


def _full(body: Any) -> Any:
    try:
        return mail_validation.validate(body, now=NOW)
    except BadRequest as error:
        return error


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_BODY)
def test_the_fast_path_answers_only_what_the_full_validator_answers(body: dict[str, Any]) -> None:
    fast = mail_fast_path.parse(body)
    if fast is not None:
        assert fast == _full(body)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_common_bodies())
def test_on_near_misses_the_fast_path_agrees_or_steps_aside(body: dict[str, Any]) -> None:
    fast = mail_fast_path.parse(body)
    if fast is not None:
        assert fast == _full(body)


@settings(max_examples=500, deadline=None)
@given(valid_common_bodies())
def test_valid_common_bodies_take_the_fast_path(body: dict[str, Any]) -> None:
    fast = mail_fast_path.parse(body)
    assert fast is not None
    assert fast == mail_validation.validate(body, now=NOW)


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "attachment-1mb"])
def test_the_benchmark_bodies_take_the_fast_path(variant: str) -> None:
    body = json.loads(json.dumps(variant_body(variant)))
    assert mail_fast_path.parse(body) == mail_validation.validate(body, now=NOW)
    assert mail_fast_path.parse(body) is not None


def _minimal(to: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """A valid common body to one recipient, with top-level keys changed."""
    body = {
        "personalizations": [{"to": to or [{"email": "a@example.com"}]}],
        "from": {"email": "s@example.com"},
        "subject": "x",
        "content": [{"type": "text/plain", "value": "v"}],
    }
    return body | changes


@pytest.mark.parametrize(
    "body",
    [
        _minimal(personalizations=[{"to": [{"email": "a@example.com"}], "subject": None}]),
        _minimal(content=None, template_id=TEMPLATE),
        _minimal(template_id=None),
        _minimal([{"email": "a@example.com"}, {"email": "A@example.com"}]),
        _minimal([{"email": "a@example.com", "name": None}]),
        _minimal([{"email": "a" * 310 + "@example.com"}]),
        _minimal(categories=["é"]),
    ],
    ids=["null-subject", "null-content", "null-template", "duplicate", "null-name", "long-email", "non-ascii-category"],
)
def test_invalid_bodies_go_to_the_full_validator(body: dict[str, Any]) -> None:
    assert mail_fast_path.parse(body) is None
    with pytest.raises(BadRequest):
        mail_validation.parse_mail_send(body, now=NOW)
