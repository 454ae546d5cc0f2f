"""The common shapes of a message read into the same compat32 `Message` tree as `email`'s feed parser builds.

Nearly every message a client sends is one text part, or one multipart of leaf parts, with CRLF line ends.
For those the feed parser's line-by-line state machine (a regular expression per line, a generator step per
line) is most of the relay's parse; here the lines are split once and the same rules are applied to them:
header and continuation lines as `email.feedparser.headerRE` sees them, values as compat32's
`header_source_parse` makes them, boundaries as the feed parser's boundary pattern matches them, and the line
end before a boundary belonging to the boundary. Anything else (bare CR or LF, parts inside parts, message/*
parts, unix From lines, a missing boundary or closing boundary, malformed header lines) returns None and
the caller uses the feed parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from typing import Final

_HEADER: Final = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")  # email.feedparser.headerRE
_CRLF: Final = "\r\n"


def read(raw: bytes, factory: Callable[[], Message]) -> Message | None:
    """The message as `email.message_from_bytes(raw, factory, policy=compat32)` reads it, or None if not simple."""
    text = raw.decode("ascii", "surrogateescape")
    if not text.count("\r") == text.count("\n") == text.count(_CRLF):
        return None
    lines = text.split(_CRLF)
    msg, body = _headed(lines, factory)
    if msg is None or _is_nested(msg):
        return None
    if msg.get_content_maintype() != "multipart":
        msg.set_payload(_CRLF.join(body))
        return msg
    return _with_parts(msg, body, factory)


def _headed(lines: list[str], factory: Callable[[], Message]) -> tuple[Message | None, list[str]]:
    """A part's header fields and the lines of its body; None for header lines the feed parser repairs."""
    msg = factory()
    count = next((index for index, line in enumerate(lines) if not _HEADER.match(line)), len(lines))
    fields: list[list[str]] = []
    for line in lines[:count]:
        if line[0] in " \t":
            if not fields:
                return None, []  # a first line that is a continuation
            fields[-1].append(line)
        elif line.startswith("From ") or line.startswith(":"):
            return None, []  # a unix From line, or a field without a name
        else:
            fields.append([line])
    for field in fields:
        name, value = field[0].split(":", 1)
        msg.set_raw(name, _CRLF.join([value.lstrip(" \t"), *field[1:]]).rstrip("\r\n"))
    # The line ending the headers is dropped when blank; a non-header line begins the body.
    skip = 1 if count < len(lines) and lines[count] == "" else 0
    return msg, lines[count + skip :]


def _is_nested(msg: Message) -> bool:
    """A part holding messages: message/*, or multipart/digest, whose parts are messages by default."""
    return msg.get_content_maintype() == "message" or msg.get_content_type() == "multipart/digest"


def _with_parts(msg: Message, body: list[str], factory: Callable[[], Message]) -> Message | None:
    """A multipart of leaf parts: the parts between its boundaries; None when it is anything more."""
    boundary = msg.get_boundary()
    if boundary is None:
        return None
    marks = _boundaries(body, "--" + boundary)
    if not marks or marks[0][1] or not marks[-1][1]:
        return None  # no opening boundary, or no closing one
    if any(end == start + 1 for (start, _), (end, _) in zip(marks, marks[1:], strict=False)):
        return None  # boundary lines in a row: the feed parser skips all but the first, even a closing one
    for (start, _), (end, _) in zip(marks, marks[1:], strict=False):
        part, part_body = _headed(body[start + 1 : end], factory)
        if part is None or part.get_content_maintype() == "multipart" or _is_nested(part):
            return None
        part.set_payload(_CRLF.join(part_body))
        msg.attach(part)
    if marks[0][0]:
        msg.preamble = _CRLF.join(body[: marks[0][0]])
    msg.epilogue = _CRLF.join(body[marks[-1][0] + 1 :])
    return msg


def _boundaries(lines: list[str], separator: str) -> list[tuple[int, bool]]:
    """Each line that is a boundary (`separator`, maybe `--`, maybe blanks), and whether it closes the multipart."""
    marks: list[tuple[int, bool]] = []
    for index, line in enumerate(lines):
        if line.startswith(separator):
            rest = line[len(separator) :]
            closes = rest.startswith("--")
            if not (rest[2:] if closes else rest).strip(" \t"):
                marks.append((index, closes))
                if closes:
                    break
    return marks
