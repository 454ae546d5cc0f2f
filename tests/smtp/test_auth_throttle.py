"""Failed SMTP AUTH counted per client address: past the limit the address gets `421 4.7.0` and is disconnected
for a while, whatever it sends; other addresses, and the same one later, authenticate as before."""

from __future__ import annotations

import smtplib
import time

import pytest

from app.smtp import auth_throttle, replies
from tests.conftest import Keys
from tests.smtp.conftest import HOST, Mirror

WRONG_KEY = "SG.unknownKey0000000000.unknownSecret000000000000000000000000000000"
THROTTLED = (421, replies.AUTH_THROTTLED[4:].encode())


def _auth(server: smtplib.SMTP, key: str) -> tuple[int, bytes]:
    """One AUTH PLAIN attempt (smtplib's login() would try each mechanism in turn)."""
    server.user, server.password = "apikey", key
    try:
        return server.auth("PLAIN", server.auth_plain)
    except smtplib.SMTPAuthenticationError as refused:
        return refused.smtp_code, refused.smtp_error


def _connect(mirror: Mirror, source: str = HOST) -> smtplib.SMTP_SSL:
    server = smtplib.SMTP_SSL(HOST, mirror.tls_port, source_address=(source, 0))
    server.ehlo()
    return server


def _fail_until_throttled(mirror: Mirror) -> None:
    with _connect(mirror) as server:
        for _ in range(auth_throttle.MAX_FAILURES):
            assert _auth(server, WRONG_KEY) == (535, b"Authentication credentials invalid")
        assert _auth(server, WRONG_KEY) == THROTTLED
        with pytest.raises(smtplib.SMTPServerDisconnected):  # 421 closes the connection
            server.noop()


def test_repeated_bad_passwords_are_throttled_and_another_address_is_not(mirror: Mirror, keys: Keys) -> None:
    _fail_until_throttled(mirror)
    # While it lasts the address is refused even with a good key: guessing gets no answer at all.
    with _connect(mirror) as server:
        assert _auth(server, keys.default) == THROTTLED
    # Another client address authenticates and sends at once.
    with _connect(mirror, source="127.0.0.2") as server:
        assert _auth(server, keys.default)[0] == 235
        assert server.sendmail("shop@example.com", ["ann@example.com"], b"Subject: hi\r\n\r\nhello\r\n") == {}
    assert mirror.total() == 1


def test_the_address_may_authenticate_again_once_the_lockout_is_over(
    mirror: Mirror, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_throttle, "LOCKOUT_SECONDS", 1.0)
    monkeypatch.setattr(auth_throttle, "WINDOW_SECONDS", 1.0)
    _fail_until_throttled(mirror)
    time.sleep(1.5)
    with _connect(mirror) as server:
        assert _auth(server, keys.default)[0] == 235


def test_successes_are_not_counted_or_slowed(mirror: Mirror, keys: Keys) -> None:
    started = time.monotonic()
    for _ in range(auth_throttle.MAX_FAILURES + 5):
        with _connect(mirror) as server:
            assert _auth(server, keys.default)[0] == 235
    assert time.monotonic() - started < 60  # generous: a busy machine, and a TLS handshake per connection


def test_the_count_forgets_old_addresses_first() -> None:
    failures = auth_throttle.AuthFailures()
    for _ in range(auth_throttle.MAX_FAILURES):
        failures.failed("192.0.2.1", now=0.0)
    assert failures.locked("192.0.2.1", now=1.0)
    assert not failures.locked("192.0.2.1", now=auth_throttle.LOCKOUT_SECONDS + 1)
    assert not failures.locked("192.0.2.2", now=1.0)
    for index in range(auth_throttle.MAX_ADDRESSES):
        failures.failed(f"10.0.{index // 256}.{index % 256}", now=2.0)
    assert not failures.locked("192.0.2.1", now=3.0)  # forgotten: the oldest failure
