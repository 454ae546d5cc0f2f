"""Reading a mail-send body the way SendGrid's front door does: size, encoding, type, UTF-8, JSON."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from app.kernel import json_input
from app.kernel.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 30 * 1024 * 1024


def check_declared_size(request: Request) -> None:
    """413 before reading anything when Content-Length already says too much."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise PayloadTooLarge()


async def read_body(request: Request) -> bytes:
    """The body, stopping at the limit rather than holding an oversized body in memory.

    Read from the ASGI messages directly (Starlette's `stream()` costs a generator per request); nothing
    else reads a mail-send body.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode_json(request: Request, raw: bytes) -> Any:
    """415 for a non-JSON type or invalid UTF-8; 400 `Bad Request` for JSON that does not parse."""
    content_type = request.headers.get("content-type")
    if content_type and not json_input.is_json_type(content_type):
        raise UnsupportedMediaType("Content-Type should be application/json")
    if request.headers.get("content-encoding", "").strip().lower() == "gzip":
        raw = _gunzip(raw)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        json_input.refuse_nul_characters(raw, value)
        return value
    # Only a failed parse pays for the second pass that tells bad UTF-8 from bad JSON.
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedMediaType("Invalid UTF8 in request") from None
    raise BadRequest("Bad Request")


def _gunzip(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error:
        raise BadRequest("Bad Request") from None
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise PayloadTooLarge()
    return data
