"""A tiny Event Webhook receiver: prints each event it gets and whether its signature verified.

    PUBLIC_KEY=<public_key from /v3/user/webhooks/event/settings/signed> python webhook_receiver.py 9000

Needs only the standard library and the official SendGrid package (`pip install sendgrid`), whose
`EventWebhook` helper checks the `X-Twilio-Email-Event-Webhook-Signature` header.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader


def signature_verified(body: str, headers, public_key: str) -> bool:
    """True when the POST carries a signature that the account's public key verifies."""
    signature = headers.get(EventWebhookHeader.SIGNATURE)
    timestamp = headers.get(EventWebhookHeader.TIMESTAMP)
    if not (public_key and signature and timestamp):
        return False
    return EventWebhook(public_key).verify_signature(body, signature, timestamp)


class Receiver(BaseHTTPRequestHandler):
    public_key = os.environ.get("PUBLIC_KEY", "")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
        verified = signature_verified(body, self.headers, self.public_key)
        for event in json.loads(body):
            line = f"{event['event']} {event['email']} signature {'verified' if verified else 'NOT VERIFIED'}"
            reason = event.get("reason") or event.get("response")
            print(f"{line} ({reason})" if reason else line, flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the events are the output."""


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"listening on http://127.0.0.1:{port}/events", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
