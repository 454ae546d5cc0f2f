"""Which requests the HTTP edge refuses before routing: untrusted Host names, cross-origin browser requests and
bodies that declare a type other than JSON. Pure: the middleware passes in what a request carries.

The admin API (`/_mirror`) is open to loopback callers when no admin token is set, and the console holds every
captured mail; both must be out of reach of a web page the developer happens to have open:
- a page on another origin can POST without a preflight (`text/plain`, or a body with no type at all), so a
  browser request from another origin is refused: `Sec-Fetch-Site` says so in current browsers, `Origin` in
  older ones;
- a DNS-rebinding page is same-origin by the browser's reckoning but names its own domain in `Host`, so
  `/_mirror` and the console answer only to the names the mirror is known by.
A request that carries the admin token passes both checks: no page can hold it, and a container's neighbours
reach the mirror by names nobody configured.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from app.kernel import deps, json_input
from app.kernel.config import Settings

LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARD_BINDS: Final = frozenset({"", "0.0.0.0", "::"})
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_ORIGIN_FETCHES: Final = frozenset({"same-origin", "none"})
_BROWSER_GUARDED: Final = ("/_mirror", "/console")
_UNGUARDED: Final = frozenset({"/_mirror/health"})

UNTRUSTED_HOST: Final = (
    "The Host {host!r} is not one this mirror answers to on /_mirror and /console; add it to SGMIRROR_TRUSTED_HOSTS"
)
CROSS_ORIGIN: Final = "Cross-origin browser requests to /_mirror and console forms are refused"
NOT_JSON: Final = "Content-Type should be application/json"


def trusted_host_names(settings: Settings) -> frozenset[str] | None:
    """The Host names `/_mirror` and the console answer to; None when any is trusted (`*`)."""
    extra = {name.strip().lower() for name in settings.trusted_hosts.split(",") if name.strip()}
    if "*" in extra:
        return None
    names = set(LOOPBACK_NAMES) | {_bare_host(name) for name in extra}
    if settings.host.strip("[]") not in _WILDCARD_BINDS:
        names.add(settings.host.strip("[]").lower())
    if settings.public_url:
        public = urlsplit(settings.public_url).hostname
        if public:
            names.add(public.lower())
    return frozenset(names)


def is_browser_guarded(path: str) -> bool:
    """`/_mirror` (all but the health check, which probes call by any name) and the console."""
    return path.startswith(_BROWSER_GUARDED) and path not in _UNGUARDED


def host_is_trusted(host_header: str | None, trusted: frozenset[str] | None) -> bool:
    """True for a trusted name (any port), for a request without Host (not a browser), and when all are trusted."""
    if trusted is None or host_header is None:
        return True
    name = _bare_host(host_header)
    return name in trusted or name.endswith(".localhost")


def carries_admin_token(headers: dict[str, str], admin_token: str | None) -> bool:
    """A request with the admin token comes from someone who holds it, whatever name or page it came by."""
    if not admin_token:
        return False
    return deps.presents_admin_token(headers.get("authorization"), admin_token)


def is_cross_origin(method: str, path: str, headers: dict[str, str]) -> bool:
    """A browser request from another origin that the guarded paths refuse.

    `/_mirror` refuses every one but a top-level navigation (a link to a page); the console, whose pages are
    linked to, refuses only the ones that change something.
    """
    if method in _SAFE_METHODS and (path.startswith("/console") or headers.get("sec-fetch-mode") == "navigate"):
        return False
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site not in _SAME_ORIGIN_FETCHES
    origin = headers.get("origin")
    if origin is None:
        return False  # not a browser, or a same-origin GET
    return origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def declares_other_than_json(method: str, headers: dict[str, str]) -> bool:
    """A body sent with a Content-Type that is not JSON (the JSON APIs answer 415; no type at all is read as JSON)."""
    if method in _SAFE_METHODS:
        return False
    declared = headers.get("content-type")
    if declared is None or not _has_body(headers):
        return False
    return not json_input.is_json_type(declared)


def _has_body(headers: dict[str, str]) -> bool:
    length = headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in headers


def _bare_host(host: str) -> str:
    """`Example.test:8090` → `example.test`; `[::1]:8090` → `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host
