"""Helpers shared by the mail tests."""

from __future__ import annotations

import base64
from typing import Any

VALID: dict[str, Any] = {
    "personalizations": [{"to": [{"email": "alice@example.com", "name": "Alice"}]}],
    "from": {"email": "sender@example.com", "name": "Sender"},
    "subject": "Hello",
    "content": [{"type": "text/plain", "value": "Hi there"}, {"type": "text/html", "value": "<p>Hi there</p>"}],
}


def body(**changes: Any) -> dict[str, Any]:
    """The valid body with top-level keys replaced (None removes a key)."""
    merged = {**VALID, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def rich() -> dict[str, Any]:
    """Two personalizations, cc/bcc, an attachment, an inline image, categories and custom args."""
    return body(
        personalizations=[
            {
                "to": [{"email": "alice@example.com"}],
                "cc": [{"email": "carol@example.com"}],
                "bcc": [{"email": "bob@example.com"}],
                "subject": "For Alice -name-",
                "substitutions": {"-name-": "Alice"},
                "custom_args": {"order": "42"},
            },
            {"to": [{"email": "dave@example.com"}], "custom_args": {"order": "43"}},
        ],
        content=[
            {"type": "text/plain", "value": "Hello -name-"},
            {"type": "text/html", "value": '<p>Hello -name-</p><img src="cid:logo">'},
        ],
        attachments=[
            {
                "content": base64.b64encode(b"%PDF-1.4 test").decode(),
                "filename": "invoice.pdf",
                "type": "application/pdf",
            },
            {
                "content": base64.b64encode(b"\x89PNG fake").decode(),
                "filename": "logo.png",
                "type": "image/png",
                "disposition": "inline",
                "content_id": "logo",
            },
        ],
        categories=["receipts", "march"],
        custom_args={"campaign": "spring"},
    )
