"""CONTRACT §3, row by row, through HTTP: the exact body SendGrid sends for each mail-send error."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.kernel.errors import MAIL_ERRORS_HELP as H
from app.mail import wording
from tests.conftest import Keys, bearer
from tests.support.mail import VALID, body

pytestmark = pytest.mark.anyio

TO = [{"email": "alice@example.com"}]


def _error(message: str, field: str | None, help_: str | None) -> dict[str, Any]:
    return {"message": message, "field": field, "help": help_}


CATALOGUE: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
    ("1 personalizations missing", body(personalizations=None),
     [_error(wording.PERSONALIZATIONS_REQUIRED, "personalizations", f"{H}#-Personalizations-Errors")]),
    ("1 personalizations empty", body(personalizations=[]),
     [_error(wording.PERSONALIZATIONS_REQUIRED, "personalizations", f"{H}#-Personalizations-Errors")]),
    ("2 no to", body(personalizations=[{"subject": "x"}]),
     [_error(wording.TO_REQUIRED, "personalizations.0.to", f"{H}#message.personalizations.to")]),
    ("3 to without email", body(personalizations=[{"to": [{"name": "A"}]}]),
     [_error("The to email parameter is required.", "personalizations.0.to.0.email",
             f"{H}#message.personalizations.to")]),
    ("4 malformed recipient", body(personalizations=[{"to": [{"email": "not-an-address"}]}]),
     [_error("Does not contain a valid address.", "personalizations.0.to.0.email",
             f"{H}#message.personalizations.to")]),
    ("5 from missing", body(**{"from": None}), [_error(wording.FROM_REQUIRED, "from.email", f"{H}#message.from")]),
    ("6 from invalid", body(**{"from": {"email": "nope"}}),
     [_error("The from email does not contain a valid address.", "from.email", f"{H}#message.from")]),
    ("7 subject missing", body(subject=None), [_error(wording.SUBJECT_REQUIRED, "subject", f"{H}#message.subject")]),
    ("8 content missing", body(content=None), [_error(wording.CONTENT_REQUIRED, "content", f"{H}#message.content")]),
    ("9 empty content value", body(content=[{"type": "text/plain", "value": ""}]),
     [_error("The content value must be a string at least one character in length.", "content.0.value",
             f"{H}#message.content.value")]),
    ("10 duplicate recipient", body(personalizations=[{"to": TO, "cc": TO}]),
     [_error("Each email address in the personalization block should be unique between to, cc, and bcc. We found "
             "the first duplicate instance of [alice@example.com] in the personalizations.0.cc field.",
             "personalizations.0", f"{H}#message.recipient-errors")]),
    ("11 wrong type", body(**{"from": ["sender@example.com"]}),
     [_error("Invalid type. Expected: object, given: array.", "from", f"{H}#message.from")]),
    ("12 attachment content missing", body(attachments=[{"filename": "a.txt"}]),
     [_error("The attachment content is required.", "attachments.0.content", f"{H}#message.attachments.content")]),
    ("12 attachment not base64", body(attachments=[{"content": "%%%", "filename": "a.txt"}]),
     [_error("The attachment content must be base64 encoded.", "attachments.0.content",
             f"{H}#message.attachments.content")]),
    ("13 bad template id", body(template_id="tmpl-1"),
     [_error("The template_id must be a valid GUID, you provided 'tmpl-1'.", "template_id",
             f"{H}#message.template_id")]),
    ("14 too many personalizations", body(personalizations=[{"to": TO}] * 1001),
     [_error("The personalization block is limited to 1000 personalizations per API request. You have provided "
             "1001 personalizations. Please consider splitting this into multiple requests and resending your "
             "request.", "personalizations", f"{H}#message.personalizations")]),
    ("15 too many recipients",
     body(personalizations=[{"to": [{"email": f"r{i}@example.com"} for i in range(1001)]}]),
     [_error("There is a limit of 1000 total recipients (to + cc + bcc) per request.", "personalizations",
             f"{H}#message.personalizations")]),
    ("16 eleven categories", body(categories=[f"c{i}" for i in range(11)]),
     [_error("There is a limit of 10 categories for each email that is sent. You provided 11 categories.",
             "categories", f"{H}#message.categories")]),
    ("16 long category", body(categories=["x" * 256]),
     [_error(f"Each category must not be longer than 255 characters. [{'x' * 256}] exceeds this limit",
             "categories", f"{H}#message.categories")]),
    ("16 non-ascii category", body(categories=["café"]),
     [_error("Categories can not contain non-ASCII characters.", "categories", f"{H}#message.categories")]),
    ("17 custom_args not strings", body(personalizations=[{"to": TO, "custom_args": {"n": 1}}]),
     [_error("All values of custom arguments object must be strings", "personalizations.0.custom_args",
             f"{H}#message.personalizations.custom_args")]),
    ("17 custom_args too large", body(personalizations=[{"to": TO, "custom_args": {"k": "v" * 10_000}}]),
     [_error("The combined size of both global and personalization custom arguments may not exceed 10,000 bytes "
             "per personalization.", "personalizations.0.custom_args",
             f"{H}#message.personalizations.custom_args")]),
    ("18 send_at too far", body(send_at=int(time.time()) + 73 * 3600),
     [_error("Scheduling more than 72 hours in advance is forbidden.", "send_at", f"{H}#message.send_at")]),
    ("19 sandbox flag not boolean", body(mail_settings={"sandbox_mode": {"enable": "yes"}}),
     [_error("The sandbox mode enable param should be a boolean value.", "mail_settings.sandbox_mode.enable",
             f"{H}#message.mail_settings.sandbox_mode.enable")]),
]  # fmt: skip


@pytest.mark.parametrize(("row", "payload", "errors"), CATALOGUE, ids=[row for row, _, _ in CATALOGUE])
async def test_catalogue_row_has_sendgrids_exact_body(
    client: httpx.AsyncClient, keys: Keys, row: str, payload: dict[str, Any], errors: list[dict[str, Any]]
) -> None:
    response = await client.post("/v3/mail/send", headers=bearer(keys.default), json=payload)
    assert response.status_code == 400
    assert response.content == orjson.dumps({"errors": errors})


async def test_row_20_sandbox_is_200(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post(
        "/v3/mail/send", headers=bearer(keys.default), json=body(mail_settings={"sandbox_mode": {"enable": True}})
    )
    assert (response.status_code, response.content) == (200, b"")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(sorted({*VALID, "attachments", "categories", "custom_args", "send_at", "headers", "asm"}))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutation=st.dictionaries(KEYS, JSON, max_size=4), garbage=JSON)
async def test_random_bodies_never_get_a_500(
    client: httpx.AsyncClient, keys: Keys, mutation: dict[str, Any], garbage: Any
) -> None:
    for payload in ({**VALID, **mutation}, garbage):
        response = await client.post("/v3/mail/send", headers=bearer(keys.default), json=payload)
        assert response.status_code in (200, 202, 400), response.text
        if response.status_code == 400:
            assert all(set(e) == {"message", "field", "help"} for e in response.json()["errors"])
