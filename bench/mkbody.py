"""The benchmark's request body: a realistic ~2.4 KB v3 mail send (see shared perf anchors, "Method").

One personalization with one `to` and `custom_args`, plus `from`, `reply_to`, `subject`, `categories` and
two content blocks (text/plain of 1,000 bytes, text/html of 999 bytes). `python -m bench.mkbody` prints it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

SENDER = "orders@example.com"
RECIPIENT = "customer.one@example.net"
TEXT_BYTES = 1000
HTML_BYTES = 999

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


def mail_body_bytes() -> bytes:
    """The body as sent: compact JSON, UTF-8."""
    return json.dumps(mail_body(), separators=(",", ":")).encode()


if __name__ == "__main__":
    sys.stdout.write(mail_body_bytes().decode() + "\n")
