"""An attachment `type` holding `;`, CR or LF: CONTRACT §3 row 30, word for word."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.conftest import Keys, bearer
from tests.support.mail import body

pytestmark = pytest.mark.anyio

MESSAGE = "The attachment type cannot contain ';', or CRLF characters."
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.attachments.type"


@pytest.mark.parametrize(
    "type_", ['text/csv; charset="utf-8"', "text/plain\r\nX-Injected: yes", "text/\rplain", "a\nb"]
)
async def test_a_type_with_a_semicolon_or_a_line_break_is_refused_in_sendgrid_words(
    client: httpx.AsyncClient, keys: Keys, type_: str
) -> None:
    attachments = [
        {"content": "QQ==", "filename": "fine.txt", "type": "text/plain"},
        {"content": "QQ==", "filename": "report.csv", "type": type_},
    ]
    response = await client.post("/v3/mail/send", headers=bearer(keys.default), json=body(attachments=attachments))
    assert response.status_code == 400
    assert response.content == orjson.dumps(
        {"errors": [{"message": MESSAGE, "field": "attachments.1.type", "help": HELP}]}
    )
