"""Keep credentials out of log lines: the access log prints every request's path and query string.

Emailed links carry their token in the URL (`/console/reset-password?token=`, `/console/sso?code=`,
`/console/signup/confirm?token=`, `.../verify/<token>`), and a careless client may put an API key in a
query string. The filter rewrites such values before any handler formats the record.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

_PATTERNS: Final = (
    (re.compile(r"([?&](?:token|code|key|api_key|password|secret)=)[^&\s\"]*", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"(/verify/)[^/?\s\"]+"), r"\1[redacted]"),
    (re.compile(r"SG\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "SG.[redacted]"),
)
# The request line of uvicorn's access log, the mirror's own error log (method and path of a failed request).
LOGGERS: Final = ("uvicorn.access", "uvicorn.error", "sgmirror.errors")


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Rewrites the message and its string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        return True


_FILTER: Final = RedactSecrets()


def install() -> None:
    """Idempotent: once per logger, however many apps a process builds."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
