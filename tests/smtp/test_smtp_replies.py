"""app.smtp.replies: every domain error has its own SMTP reply, worded like SendGrid's."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import app
from app.kernel.errors import (
    SENDER_NOT_VERIFIED,
    BadRequest,
    CapabilityDenied,
    CreditsExceeded,
    ErrorDetail,
    InternalError,
    PayloadTooLarge,
    SenderNotVerified,
    SendGridError,
    Unauthorized,
)
from app.smtp import replies


# Errors of the HTTP-only layers (every area's routers, the console) never reach an SMTP client.
def _http_only(module: str) -> bool:
    return module.startswith("app.console.") or module.rsplit(".", 1)[-1].endswith("router")


def _every_module() -> None:
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _subclasses(cls: type[SendGridError]) -> set[type[SendGridError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_sendgrid_error_subclass_has_an_smtp_reply() -> None:
    _every_module()
    defined = {c for c in _subclasses(SendGridError) if c.__module__.startswith("app.")}
    reachable = {c for c in defined if not _http_only(c.__module__)}
    assert reachable >= {BadRequest, Unauthorized, CreditsExceeded, SenderNotVerified, InternalError}
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in reachable if c not in replies.REPLIES)
    assert missing == [], "add a row to app.smtp.replies.REPLIES"


def test_refusals_are_permanent_and_only_passing_conditions_are_transient() -> None:
    transient = {c.__name__ for c, reply in replies.REPLIES.items() if reply.code < 500}
    assert transient == {"CreditsExceeded", "TooManyRequests", "InternalError", "StorageUnavailable", "StorageFull"}
    assert all(400 <= reply.code < 600 for reply in replies.REPLIES.values())


@pytest.mark.parametrize(
    ("error", "reply"),
    [
        (SenderNotVerified(field="from"), f"550 5.7.1 {SENDER_NOT_VERIFIED}"),
        (Unauthorized("The provided authorization grant is invalid, expired, or revoked"), replies.AUTH_INVALID),
        (CreditsExceeded(), "451 Authentication failed: Maximum credits exceeded"),
        (CapabilityDenied("account suspended: no"), "550 5.7.1 account suspended: no"),
        (PayloadTooLarge(), "552 5.3.4 Message size exceeds fixed maximum message size"),
        (InternalError("secret detail"), "451 4.3.0 Internal server error, please try again later"),
    ],
)
def test_replies_are_worded_per_error(error: SendGridError, reply: str) -> None:
    assert replies.reply_for(error) == reply


def test_the_auth_replies_are_the_products() -> None:
    assert replies.AUTH_INVALID == "535 Authentication credentials invalid"
    assert replies.AUTH_REQUIRED == "530 Authentication required"
    assert replies.queued("AbC") == "250 Ok: queued as AbC"


def test_several_messages_make_a_multiline_reply_within_the_line_limit() -> None:
    error = BadRequest(details=[ErrorDetail("first\r\nproblem"), ErrorDetail("x" * 2000)])
    lines = replies.reply_for(error).split("\r\n")
    assert lines[0] == "554-5.6.0 first problem"
    assert lines[1].startswith("554 5.6.0 xxx")
    assert all(len(line.encode()) <= 510 for line in lines)


def test_an_unknown_subclass_falls_back_to_its_nearest_mapped_ancestor() -> None:
    class Odd(SenderNotVerified):
        pass

    class Stray(SendGridError):
        pass

    assert replies.reply_for(Odd()) == f"550 5.7.1 {SENDER_NOT_VERIFIED}"
    assert replies.reply_for(Stray("x")).startswith("451 4.3.0")
