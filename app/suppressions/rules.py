"""Suppression lists as SendGrid keeps them: the kinds, the drop reasons, the bypass filters, bounce classes.

Pure rules; storage and queries live in `app.suppressions.service`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, get_args

from app.mail.message import OutboundMessage, SettingGroups

Kind: TypeAlias = Literal["bounce", "block", "invalid_email", "spam_report", "global_unsubscribe", "group_unsubscribe"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

# group_id stored for every list but group unsubscribes, so (account, kind, group, email) is one unique key on
# both databases (NULLs never collide in a unique index). SendGrid group ids start at 1.
NO_GROUP: Final = 0

# The `reason` of the dropped event per list, as SendGrid writes it (docs "Drops"; Event Webhook reference).
# Blocks are not drops: SendGrid keeps trying blocked addresses.
DROP_REASONS: Final[Mapping[Kind, str]] = {
    "global_unsubscribe": "Unsubscribed Address",
    "group_unsubscribe": "Unsubscribed Address",
    "bounce": "Bounced Address",
    "spam_report": "Spam Reporting Address",
    "invalid_email": "Invalid",
}
# When an address is on several lists, the first of these names the drop (the order the docs list them in).
DROP_PRIORITY: Final[tuple[Kind, ...]] = tuple(DROP_REASONS)
DROPPING_KINDS: Final[frozenset[Kind]] = frozenset(DROP_REASONS)

BYPASS_SETTINGS: Final = (
    "bypass_list_management",
    "bypass_bounce_management",
    "bypass_spam_management",
    "bypass_unsubscribe_management",
)


@dataclass(frozen=True, slots=True)
class Bypass:
    """The send's bypass filters (mail_settings.bypass_*.enable)."""

    list_management: bool = False
    bounce_management: bool = False
    spam_management: bool = False
    unsubscribe_management: bool = False

    @property
    def bypasses_everything(self) -> bool:
        return self.list_management

    def covers(self, kind: Kind) -> bool:
        """Whether this send ignores the `kind` list.

        bypass_list_management skips every list and group; the others skip only their own list, and
        bypass_unsubscribe_management covers global unsubscribes, never group unsubscribes.
        """
        if self.list_management:
            return True
        return (
            (kind == "bounce" and self.bounce_management)
            or (kind == "spam_report" and self.spam_management)
            or (kind == "global_unsubscribe" and self.unsubscribe_management)
        )


NO_BYPASS: Final = Bypass()


def bypass_from_settings(mail_settings: SettingGroups) -> Bypass:
    """The Bypass of a validated `mail_settings` object (a setting counts when its `enable` is true)."""
    enabled = [_enabled(mail_settings, name) for name in BYPASS_SETTINGS]
    return NO_BYPASS if not any(enabled) else Bypass(*enabled)


def bypass_for(message: OutboundMessage) -> Bypass:
    """The Bypass of an accepted message."""
    return bypass_from_settings(message.mail_settings)


def address_key(email: str) -> str:
    """How lists store and compare an address: trimmed and lower-cased (SendGrid ignores case)."""
    return email.strip().lower()


def drop_reason(kinds: set[str]) -> str | None:
    """The dropped event's reason for an address on `kinds` lists (already filtered by the bypass), or None."""
    for kind in DROP_PRIORITY:
        if kind in kinds:
            return DROP_REASONS[kind]
    return None


def _enabled(settings: SettingGroups, name: str) -> bool:
    setting = settings.get(name)
    return setting is not None and setting.get("enable") is True


# Bounce classifications SendGrid reports (`/v3/suppression/bounces/classifications`).
CLASSIFICATIONS: Final = (
    "Content",
    "Frequency or Volume Too High",
    "Invalid Address",
    "Mailbox Unavailable",
    "Reputation",
    "Technical Failure",
    "Unclassified",
)
_BY_STATUS_PREFIX: Final = (
    ("5.1.", "Invalid Address"),
    ("5.2.2", "Mailbox Unavailable"),
    ("4.2.2", "Mailbox Unavailable"),
    ("5.2.", "Mailbox Unavailable"),
    ("5.7.1", "Reputation"),
    ("5.7.", "Content"),
    ("4.7.", "Frequency or Volume Too High"),
    ("5.3.", "Technical Failure"),
    ("5.4.", "Technical Failure"),
    ("4.4.", "Technical Failure"),
)


def classify_bounce(status: str | None) -> str:
    """SendGrid's bounce classification for an enhanced status code (what is unknown is Unclassified)."""
    for prefix, classification in _BY_STATUS_PREFIX:
        if status is not None and status.startswith(prefix):
            return classification
    return "Unclassified"
