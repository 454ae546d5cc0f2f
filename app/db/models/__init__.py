"""All tables, imported here so Alembic and the app see one metadata."""

from app.db.models import identity, limits, scheduling  # noqa: F401  (sender identity, quotas, scheduling)
from app.db.models.accounts import Account, ApiKey
from app.db.models.console import ConsoleSession, SsoCode
from app.db.models.console_accounts import ConsoleSignup, ConsoleToken, LoginThrottle  # noqa: F401
from app.db.models.delivery import DeliveryRuleSet, PendingEvent
from app.db.models.faults import FaultRule, FaultRulesVersion
from app.db.models.ips import IpAddress, IpSubuser
from app.db.models.mail import Envelope, Event, MailBatch, Message, Recipient
from app.db.models.suppressions import AsmGroup, Suppression
from app.db.models.templates import Template, TemplateVersion
from app.db.models.webhooks import EventWebhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "Account",
    "ApiKey",
    "AsmGroup",
    "ConsoleSession",
    "DeliveryRuleSet",
    "Envelope",
    "Event",
    "EventWebhook",
    "FaultRule",
    "FaultRulesVersion",
    "IpAddress",
    "IpSubuser",
    "MailBatch",
    "Message",
    "PendingEvent",
    "Recipient",
    "SsoCode",
    "Suppression",
    "Template",
    "TemplateVersion",
    "WebhookAttempt",
    "WebhookDelivery",
]
