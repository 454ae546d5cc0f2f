"""The benchmark's request bodies: a realistic ~2.4 KB v3 mail send and two heavier variants of it.

`plain`: one personalization with one `to` and `custom_args`, plus `from`, `reply_to`, `subject`, `categories`
and two content blocks (text/plain of 1,000 bytes, text/html of 999 bytes). `two-personalizations`: the same
with a second personalization (another recipient, its own `custom_args`). `attachment-1mb`: the same with a
1 MiB attachment (1.4 MB of base64). `python -m bench.mkbody [variant]` prints one.
"""

from __future__ import annotations

import base64
import json
import random
import sys
from typing import Any

SENDER = "orders@example.com"
RECIPIENT = "customer.one@example.net"
TEXT_BYTES = 1000
HTML_BYTES = 999
ATTACHMENT_BYTES = 1024 * 1024
VARIANTS = ("plain", "two-personalizations", "attachment-1mb")

_WORDS = (
    "Thank you for your order. Your parcel is being prepared and will leave our warehouse shortly. "
    "You can follow its journey from the link in your account. "
)


def _filler(size: int, prefix: str = "", suffix: str = "") -> str:
    """ASCII text of exactly `size` bytes: prefix, repeated prose, suffix."""
    room = size - len(prefix) - len(suffix)
    body = (_WORDS * (room // len(_WORDS) + 1))[:room]
    return prefix + body + suffix


def mail_body() -> dict[str, Any]:
    return {
        "personalizations": [
            {
                "to": [{"email": RECIPIENT, "name": "Customer One"}],
                "custom_args": {"order_id": "100042", "customer_id": "c-7731", "campaign": "order-confirmation"},
            }
        ],
        "from": {"email": SENDER, "name": "Example Shop"},
        "reply_to": {"email": "support@example.com", "name": "Example Support"},
        "subject": "Your order #100042 has been received",
        "categories": ["transactional", "order-confirmation"],
        "content": [
            {"type": "text/plain", "value": _filler(TEXT_BYTES)},
            {"type": "text/html", "value": _filler(HTML_BYTES, "<html><body><p>", "</p></body></html>")},
        ],
    }


def variant_body(variant: str) -> dict[str, Any]:
    """`mail_body()` changed as the variant says (see the module docstring)."""
    body = mail_body()
    if variant == "two-personalizations":
        body["personalizations"].append(
            {
                "to": [{"email": "customer.two@example.net", "name": "Customer Two"}],
                "custom_args": {"order_id": "100043", "customer_id": "c-7732", "campaign": "order-confirmation"},
            }
        )
    elif variant == "attachment-1mb":
        # Incompressible bytes, as a PDF or an image would be; seeded so every run sends the same body.
        content = random.Random(1).randbytes(ATTACHMENT_BYTES)
        body["attachments"] = [
            {"content": base64.b64encode(content).decode(), "filename": "statement.pdf", "type": "application/pdf"}
        ]
    elif variant != "plain":
        raise ValueError(f"unknown body variant {variant!r}; known: {', '.join(VARIANTS)}")
    return body


def mail_body_bytes(variant: str = "plain") -> bytes:
    """The body as sent: compact JSON, UTF-8."""
    return json.dumps(variant_body(variant), separators=(",", ":")).encode()


if __name__ == "__main__":
    sys.stdout.write(mail_body_bytes(*sys.argv[1:2]).decode() + "\n")
