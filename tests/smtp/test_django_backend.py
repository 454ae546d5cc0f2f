"""Django's SMTP backend, configured as the README shows, sends through the relay with certificate checks on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.kernel import tls
from app.kernel.config import Settings
from tests.conftest import Keys
from tests.smtp.conftest import Mirror

# The README's settings, with the port and key filled in from the environment.
SEND = """
import os, django
from django.conf import settings
settings.configure(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="localhost",
    EMAIL_PORT=int(os.environ["PORT"]),
    EMAIL_HOST_USER="apikey",
    EMAIL_HOST_PASSWORD=os.environ["KEY"],
    EMAIL_USE_TLS=True,
)
django.setup()
from django.core.mail import send_mail
send_mail("From Django", "Hello from Django", "shop@example.com", ["ann@example.com"])
"""


def _send(mirror: Mirror, key: str, cert_file: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env.update({"PORT": str(mirror.port), "KEY": key})
    if cert_file is not None:
        env["SSL_CERT_FILE"] = str(cert_file)
    return subprocess.run([sys.executable, "-c", SEND], env=env, capture_output=True, text=True, timeout=60)


def test_django_sends_through_the_relay_trusting_the_mirrors_certificate(
    mirror: Mirror, keys: Keys, relay_settings: Settings
) -> None:
    sent = _send(mirror, keys.default, tls.trust_file(relay_settings))
    assert sent.returncode == 0, sent.stderr
    listed = mirror.get("/_mirror/messages", subject="From Django").json()["messages"]
    assert [(m["transport"], m["subject"]) for m in listed] == [("smtp", "From Django")]


def test_without_the_certificate_trusted_django_refuses_the_connection(mirror: Mirror, keys: Keys) -> None:
    refused = _send(mirror, keys.default, None)
    assert refused.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused.stderr
    assert mirror.total() == 0
