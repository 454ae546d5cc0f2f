"""A send with `template_id`: each personalization's subject and content from the template's active version.

Dynamic versions are Handlebars, rendered with the personalization's `dynamic_template_data`; the
version's subject wins over the request's when it has one (SendGrid's docs team: a template subject
"overwrites what is defined in the personalizations"), and its HTML and text replace the request's
parts of the same type. Legacy versions put the request's subject and body where `<%subject%>` and
`<%body%>` stand; substitutions then apply as for any legacy send.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from app.mail import mime
from app.mail.message import Content, OutboundMessage, Personalization
from app.templates import handlebars

SUBJECT_TAG = "<%subject%>"
BODY_TAG = "<%body%>"


@dataclass(frozen=True, slots=True)
class ActiveVersion:
    """What a send needs of a template's active version."""

    template_id: str
    generation: str
    subject: str
    html_content: str
    plain_content: str

    @property
    def dynamic(self) -> bool:
        return self.generation == "dynamic"


@dataclass(frozen=True, slots=True)
class RenderedSend:
    """The message as sent (personalization subjects rendered) and one RFC 5322 message per personalization."""

    message: OutboundMessage
    mime: tuple[bytes, ...]


def render_send(message: OutboundMessage, version: ActiveVersion, *, message_id: str, date: datetime) -> RenderedSend:
    """Render every personalization; raises `handlebars.HandlebarsError` when the version cannot render."""
    rendered = [_render(message, p, version) for p in message.personalizations]
    personalizations = tuple(
        replace(p, subject=subject) for p, (subject, _) in zip(message.personalizations, rendered, strict=True)
    )
    sent = replace(message, personalizations=personalizations)
    parts = tuple(
        mime.render_mime(replace(sent, content=contents), index, message_id=message_id, date=date)
        for index, (_, contents) in enumerate(rendered)
    )
    return RenderedSend(sent, parts)


def _render(
    message: OutboundMessage, personalization: Personalization, version: ActiveVersion
) -> tuple[str | None, tuple[Content, ...]]:
    requested = message.subject_for(personalization)
    if version.dynamic:
        data = personalization.dynamic_template_data
        subject = handlebars.render(version.subject, data) if version.subject.strip() else requested
        text = handlebars.render(version.plain_content, data) if version.plain_content else None
        html = handlebars.render(version.html_content, data) if version.html_content else None
    else:
        subject = version.subject.replace(SUBJECT_TAG, requested or "") if version.subject.strip() else requested
        text = _legacy_body(version.plain_content, _content(message, "text/plain"))
        html = _legacy_body(version.html_content, _content(message, "text/html"))
    return subject, _contents(message, text, html)


def _legacy_body(template: str, body: str | None) -> str | None:
    return template.replace(BODY_TAG, body or "") if template else None


def _content(message: OutboundMessage, content_type: str) -> str | None:
    return next((c.value for c in message.content if c.type.lower() == content_type), None)


def _contents(message: OutboundMessage, text: str | None, html: str | None) -> tuple[Content, ...]:
    """text/plain, text/html, then the request's other parts (the order mail send requires)."""
    text = text if text is not None else _content(message, "text/plain")
    html = html if html is not None else _content(message, "text/html")
    others = tuple(c for c in message.content if c.type.lower() not in ("text/plain", "text/html"))
    ordered = [Content("text/plain", text)] if text is not None else []
    ordered += [Content("text/html", html)] if html is not None else []
    return (*ordered, *others)
