"""The one place that renders errors as SMTP replies: each domain error's code and text (HTTP: app.kernel.http_errors).

Refusals are permanent (5xx), so clients report them instead of retrying; what passes with time (spent
credits, rate limits, the mirror's own failures) is transient (4xx), as SendGrid answers spent credits with
`451 Authentication failed: Maximum credits exceeded`. `{message}` stands for the error's messages, one line each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from app.kernel.errors import (
    BadRequest,
    CapabilityDenied,
    CreditsExceeded,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    SenderNotVerified,
    SendGridError,
    StorageFull,
    StorageUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

AUTH_REQUIRED: Final = "530 Authentication required"
AUTH_SUCCEEDED: Final = "235 Authentication successful"
TOO_MANY_RECIPIENTS: Final = "452 4.5.3 Too many recipients (at most 1000 per message)"
# Gmail's words for the same refusal; 421 because the relay then closes the connection (RFC 5321 §3.8).
AUTH_THROTTLED: Final = "421 4.7.0 Too many failed login attempts, please try again later"
# RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF.
_MAX_LINE: Final = 510
_MAX_LINES: Final = 20


@dataclass(frozen=True, slots=True)
class Reply:
    code: int
    text: str

    def render(self, error: SendGridError) -> str:
        """The reply for `error`: one line per message, continued with `<code>-` (RFC 5321 §4.2.1)."""
        messages = [" ".join(d.message.split()) for d in error.details][:_MAX_LINES] or [""]
        lines = [f"{self.code} {self.text.format(message=m)}"[:_MAX_LINE] for m in messages]
        if "{message}" not in self.text:
            lines = lines[:1]
        return "\r\n".join([f"{self.code}-{line[4:]}" for line in lines[:-1]] + lines[-1:])


REPLIES: Final[dict[type[SendGridError], Reply]] = {
    BadRequest: Reply(554, "5.6.0 {message}"),
    Unauthorized: Reply(535, "Authentication credentials invalid"),
    CreditsExceeded: Reply(451, "Authentication failed: {message}"),
    Forbidden: Reply(550, "5.7.1 {message}"),
    CapabilityDenied: Reply(550, "5.7.1 {message}"),
    SenderNotVerified: Reply(550, "5.7.1 {message}"),
    NotFound: Reply(550, "5.1.0 {message}"),
    MethodNotAllowed: Reply(502, "5.5.1 {message}"),
    PayloadTooLarge: Reply(552, "5.3.4 Message size exceeds fixed maximum message size"),
    UnsupportedMediaType: Reply(554, "5.6.1 {message}"),
    TooManyRequests: Reply(451, "4.7.1 {message}"),
    InternalError: Reply(451, "4.3.0 Internal server error, please try again later"),
    # The database cannot be written now (disk full, read-only): transient, so the client queues and retries.
    StorageFull: Reply(452, "4.3.1 Insufficient system storage"),
    StorageUnavailable: Reply(451, "4.3.0 Temporary storage failure, please try again later"),
}

AUTH_INVALID: Final = f"{REPLIES[Unauthorized].code} {REPLIES[Unauthorized].text}"


def mapped_class(error_class: type[SendGridError]) -> type[SendGridError] | None:
    """The class whose row answers for `error_class`: itself or its nearest mapped ancestor."""
    for ancestor in error_class.__mro__:
        if ancestor in REPLIES:
            return ancestor
    return None


def reply_for(error: SendGridError) -> str:
    """The SMTP reply (one or more lines, without the final CRLF) for a domain error."""
    row = mapped_class(type(error))
    return REPLIES[row if row is not None else InternalError].render(error)


def queued(message_id: str) -> str:
    """SendGrid's answer to a message it accepted."""
    return f"250 Ok: queued as {message_id}"
