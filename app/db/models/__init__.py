"""All tables, imported here so Alembic and the app see one metadata."""

from app.db.models import identity, limits, scheduling  # noqa: F401  (sender identity, quotas, scheduling)
from app.db.models.accounts import Account, ApiKey
from app.db.models.console import ConsoleSession, SsoCode
from app.db.models.console_accounts import ConsoleSignup, ConsoleToken, LoginThrottle  # noqa: F401
from app.db.models.ips import IpAddress, IpSubuser
from app.db.models.mail import Envelope, Event, MailBatch, Message, Recipient

__all__ = [
    "Account",
    "ApiKey",
    "ConsoleSession",
    "Envelope",
    "Event",
    "IpAddress",
    "IpSubuser",
    "MailBatch",
    "Message",
    "Recipient",
    "SsoCode",
]
