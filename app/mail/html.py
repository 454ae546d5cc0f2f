"""Showing a message's HTML safely in the console: inline images resolved, links found, remote loads spotted.

The HTML is shown in an iframe that is sandboxed twice (the `sandbox` attribute without `allow-scripts`,
and a CSP `sandbox` header); these helpers only prepare the document and describe it.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping

_CID = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TEXT_URL = re.compile(r"""https?://[^\s<>"')\]]+""", re.IGNORECASE)
# src=, background=, srcset= or CSS url() pointing at another host (http, https or protocol-relative).
_REMOTE = re.compile(
    r"""(?:\b(?:src|background|srcset|poster)\s*=\s*["']?\s*|url\(\s*["']?\s*)(?:https?:)?//""", re.IGNORECASE
)
_META_REFRESH = re.compile(r"""<meta[^>]+http-equiv\s*=\s*["']?refresh[^>]*>""", re.IGNORECASE)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
MAX_LINKS = 50

# Links open in a new tab (the sandbox lets popups escape it, so the linked page works normally).
BASE = '<base target="_blank">'


def inline_document(document: str, inline: Mapping[str, tuple[str, bytes]]) -> str:
    """The HTML with `cid:` images as data: URLs, no meta refresh, and links opening in a new tab."""

    def data_url(match: re.Match[str]) -> str:
        found = inline.get(match.group(1)) or inline.get(html.unescape(match.group(1)))
        if found is None:
            return match.group(0)
        content_type, payload = found
        return f"data:{content_type};base64,{base64.b64encode(payload).decode('ascii')}"

    document = _META_REFRESH.sub("", _CID.sub(data_url, document))
    head = _HEAD.search(document)
    if head is None:
        return BASE + document
    return document[: head.end()] + BASE + document[head.end() :]


def has_remote_content(document: str) -> bool:
    """Whether the HTML would load images, styles or fonts from the network."""
    return _REMOTE.search(document) is not None


def links(document: str | None, text: str | None) -> list[str]:
    """The http(s) links of a message, HTML first, each once, at most MAX_LINKS."""
    found: list[str] = []
    for match in _HREF.finditer(document or ""):
        found.append(html.unescape(next(group for group in match.groups() if group is not None)).strip())
    found += [url.rstrip(".,;:!?") for url in _TEXT_URL.findall(text or "")]
    unique = dict.fromkeys(url for url in found if url.lower().startswith(("http://", "https://")))
    return list(unique)[:MAX_LINKS]
