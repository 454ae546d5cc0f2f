"""Transport-neutral errors that carry SendGrid's status, message, field and help.

Services raise these and nothing else; `app.kernel.http_errors` renders them as HTTP bodies per API family
and `app.smtp.replies` as SMTP replies.

    SendGridError                  status from the class, one or more ErrorDetail
     ├── BadRequest                400
     ├── Unauthorized              401
     │    └── CreditsExceeded      401 (the plan's daily emails are spent)
     ├── Forbidden                 403
     │    ├── CapabilityDenied     403 (the account's state forbids the action)
     │    └── SenderNotVerified    403 (the from address is no verified sender identity)
     ├── NotFound                  404
     ├── MethodNotAllowed          405
     ├── PayloadTooLarge           413
     ├── UnsupportedMediaType      415
     ├── TooManyRequests           429
     ├── InternalError             500
     └── StorageUnavailable        503 (the database cannot be written now; with Retry-After)
          └── StorageFull          503 (no room left for the database)
"""

from __future__ import annotations

from dataclasses import dataclass

MAIL_ERRORS_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"

NO_CREDENTIALS = "authorization required"
BAD_CREDENTIALS = "Permission denied, wrong credentials"
INVALID_GRANT = "The provided authorization grant is invalid, expired, or revoked"
ACCESS_FORBIDDEN = "access forbidden"


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of SendGrid's `errors` array."""

    message: str
    field: str | None = None
    help: str | None = None
    error_id: str | None = None
    # Further keys some families put in the entry (the Event Webhook API's `id` and `url`).
    extra: tuple[tuple[str, str], ...] = ()


class SendGridError(Exception):
    """Base of every error a client can see; `details` become the `errors` array."""

    status: int = 500

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        help: str | None = None,
        error_id: str | None = None,
        details: list[ErrorDetail] | None = None,
    ) -> None:
        if details is None:
            details = [ErrorDetail(message or self.default_message(), field, help, error_id)]
        self.details: tuple[ErrorDetail, ...] = tuple(details)
        super().__init__(self.details[0].message)

    @classmethod
    def default_message(cls) -> str:
        return "internal server error"


class BadRequest(SendGridError):
    status = 400

    @classmethod
    def default_message(cls) -> str:
        return "bad request"


class Unauthorized(SendGridError):
    status = 401

    @classmethod
    def default_message(cls) -> str:
        return NO_CREDENTIALS


class Forbidden(SendGridError):
    status = 403

    @classmethod
    def default_message(cls) -> str:
        return ACCESS_FORBIDDEN


class CapabilityDenied(Forbidden):
    """The account's state does not allow the action (see `app.accounts.state`)."""


SENDER_NOT_VERIFIED = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is "
    "resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender "
    "Identity requirements"
)
CREDITS_EXCEEDED = "Maximum credits exceeded"


class SenderNotVerified(Forbidden):
    """A `from` is neither a verified single sender nor on an authenticated domain (SMTP: 550 5.7.1)."""

    @classmethod
    def default_message(cls) -> str:
        return SENDER_NOT_VERIFIED


class CreditsExceeded(Unauthorized):
    """The plan's emails for the day are spent; SendGrid answers 401 (SMTP: 451 Authentication failed)."""

    @classmethod
    def default_message(cls) -> str:
        return CREDITS_EXCEEDED


class NotFound(SendGridError):
    status = 404

    @classmethod
    def default_message(cls) -> str:
        return "not found"


class MethodNotAllowed(SendGridError):
    status = 405

    @classmethod
    def default_message(cls) -> str:
        return "method not allowed"


class PayloadTooLarge(SendGridError):
    status = 413

    @classmethod
    def default_message(cls) -> str:
        return "content too large"


class UnsupportedMediaType(SendGridError):
    status = 415

    @classmethod
    def default_message(cls) -> str:
        return "Content-Type should be application/json"


class TooManyRequests(SendGridError):
    status = 429

    @classmethod
    def default_message(cls) -> str:
        return "too many requests"


class InternalError(SendGridError):
    status = 500


class StorageUnavailable(SendGridError):
    """The database cannot be written now (read-only, failing I/O); it passes once it can, so clients retry.

    `condition` names what was seen (`read-only`, `failing`); `retry_after` is the seconds HTTP suggests waiting.
    """

    status = 503
    retry_after = 5
    condition = "failing"

    @classmethod
    def default_message(cls) -> str:
        return "service unavailable"


class StorageFull(StorageUnavailable):
    """The disk holding the database is full (SMTP: 452 4.3.1 Insufficient system storage)."""

    condition = "full"
