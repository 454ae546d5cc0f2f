"""The canonical outbound message: what every transport (HTTP JSON, SMTP MIME) builds and sends.

Field names follow the v3 mail-send JSON; `from_` is `from`. Nothing here validates: build instances
through `app.mail.validation.parse_mail_send` (HTTP) or the SMTP parser.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

JSONValue: TypeAlias = "None | bool | int | float | str | list[JSONValue] | dict[str, JSONValue]"
SettingGroups: TypeAlias = Mapping[str, Mapping[str, JSONValue]]
Disposition: TypeAlias = Literal["attachment", "inline"]


@dataclass(frozen=True, slots=True)
class Address:
    email: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    type: str
    value: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """`content` is the bytes, or base64 text already checked to be valid (the JSON API's form), decoded
    only when a MIME message is built: decoding costs milliseconds per megabyte on the send path."""

    content: bytes | str
    filename: str
    type: str | None = None
    disposition: Disposition = "attachment"
    content_id: str | None = None

    @property
    def data(self) -> bytes:
        return base64.b64decode(self.content) if isinstance(self.content, str) else self.content

    @property
    def content_b64(self) -> str:
        """The content as standard base64, the way the JSON API carries it."""
        return self.content if isinstance(self.content, str) else base64.b64encode(self.content).decode("ascii")

    @property
    def is_inline(self) -> bool:
        return self.disposition == "inline" and self.content_id is not None


@dataclass(frozen=True, slots=True)
class Asm:
    group_id: int
    groups_to_display: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Personalization:
    """One envelope: its recipients and the values that override the message's for them."""

    to: tuple[Address, ...]
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    subject: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    substitutions: Mapping[str, str] = field(default_factory=dict)
    dynamic_template_data: Mapping[str, JSONValue] = field(default_factory=dict)
    custom_args: Mapping[str, str] = field(default_factory=dict)
    send_at: int | None = None
    from_: Address | None = None

    @property
    def recipients(self) -> tuple[Address, ...]:
        """to, then cc, then bcc."""
        return self.to + self.cc + self.bcc


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    from_: Address
    personalizations: tuple[Personalization, ...]
    subject: str | None = None
    content: tuple[Content, ...] = ()
    reply_to: Address | None = None
    reply_to_list: tuple[Address, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    template_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    custom_args: Mapping[str, str] = field(default_factory=dict)
    send_at: int | None = None
    batch_id: str | None = None
    asm: Asm | None = None
    ip_pool_name: str | None = None
    mail_settings: SettingGroups = field(default_factory=dict)
    tracking_settings: SettingGroups = field(default_factory=dict)
    sandbox: bool = False

    @property
    def recipient_count(self) -> int:
        """to + cc + bcc over every personalization."""
        return sum(len(p.to) + len(p.cc) + len(p.bcc) for p in self.personalizations)

    @property
    def is_dynamic_template(self) -> bool:
        return self.template_id is not None and self.template_id.startswith("d-")

    @property
    def reply_to_addresses(self) -> tuple[Address, ...]:
        """reply_to or reply_to_list (the two are exclusive)."""
        return (self.reply_to,) if self.reply_to is not None else self.reply_to_list

    def subject_for(self, personalization: Personalization) -> str | None:
        return personalization.subject if personalization.subject is not None else self.subject

    def from_for(self, personalization: Personalization) -> Address:
        return personalization.from_ if personalization.from_ is not None else self.from_

    def send_at_for(self, personalization: Personalization) -> int | None:
        return personalization.send_at if personalization.send_at is not None else self.send_at

    def custom_args_for(self, personalization: Personalization) -> dict[str, str]:
        """Global custom_args overlaid with the personalization's."""
        return {**self.custom_args, **personalization.custom_args}

    def headers_for(self, personalization: Personalization) -> dict[str, str]:
        """Global headers overlaid with the personalization's, names compared case-insensitively."""
        merged = {name.lower(): (name, value) for name, value in self.headers.items()}
        merged.update({name.lower(): (name, value) for name, value in personalization.headers.items()})
        return dict(merged.values())

    def mail_setting_enabled(self, name: str) -> bool:
        return _enabled(self.mail_settings, name)

    def tracking_setting_enabled(self, name: str) -> bool:
        return _enabled(self.tracking_settings, name)


def _enabled(settings: SettingGroups, name: str) -> bool:
    setting = settings.get(name)
    return setting is not None and setting.get("enable") is True
