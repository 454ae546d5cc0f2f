"""The DATA section of a transaction: read in pieces up to the lone dot, then dot-unstuffed (RFC 5321 §4.5.2).

aiosmtpd reads it one line at a time, an await and a few checks per line; this reads everything that has
arrived up to each `.<CRLF>` and looks at the lines once the message is whole. The answers are aiosmtpd's:
the message, or the refusal (a line too long, more than the size limit) given once the lone dot has arrived.
"""

from __future__ import annotations

import asyncio
from typing import Final

# RFC 5321 §4.5.3.1.6: a line is at most 1,000 octets with its CRLF; aiosmtpd allows 1,001 (its StreamReader
# limit too), and so refuses a line of more than 999 octets before the CRLF.
LINE_LENGTH_LIMIT: Final = 1001
LINE_TOO_LONG: Final = "500 Line too long (see RFC5321 4.5.3.1.6)"
TOO_MUCH_DATA: Final = "552 Error: Too much mail data"

_DOT_LINE: Final = b".\r\n"
_END: Final = b"\r\n.\r\n"
# What a refused message keeps of itself while the rest streams past: enough to see the end arrive.
_TAIL: Final = len(_END) - 1


async def read(reader: asyncio.StreamReader, *, size_limit: int | None) -> bytes | str:
    """The message as received, dot-unstuffed; or the reply refusing it, once its lone dot has arrived."""
    data = bytearray()
    refusal: str | None = None
    while True:
        data += await _up_to_a_dot_line(reader)
        whole = data.endswith(_END) or (refusal is None and data == _DOT_LINE)
        received = len(data) - len(_DOT_LINE) if whole else len(data)
        if refusal is None and size_limit and received > size_limit:
            refusal = LINE_TOO_LONG if _has_long_line(data) else TOO_MUCH_DATA
        if whole:
            break
        if refusal is not None:
            del data[:-_TAIL]  # the refused bytes are let go at once
    if refusal is not None:
        return refusal
    body = data[: -len(_DOT_LINE)]
    if _has_long_line(body):
        return LINE_TOO_LONG
    return _unstuffed(body)


async def _up_to_a_dot_line(reader: asyncio.StreamReader) -> bytes:
    """What has arrived up to the next `.<CRLF>` (whether or not a line begins there), else what can be taken."""
    try:
        return await reader.readuntil(_DOT_LINE)
    except asyncio.LimitOverrunError as error:
        # More than the reader's limit before the next `.<CRLF>`: take what is safe to take and go on.
        return await reader.read(error.consumed)


def _has_long_line(data: bytearray) -> bool:
    return len(data) > LINE_LENGTH_LIMIT and max(map(len, data.split(b"\r\n"))) > LINE_LENGTH_LIMIT - 2


def _unstuffed(body: bytearray) -> bytes:
    """Each line's leading dot removed: the client doubled every dot that began a line."""
    if body.startswith(b"."):
        del body[0]
    return bytes(body.replace(b"\r\n.", b"\r\n"))
