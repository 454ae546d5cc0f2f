"""What a test holds: where the mirror answers, its keys, and helpers over its own `/_mirror` API (stdlib only)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class MirrorError(AssertionError):
    """The mirror answered a helper with an error, or did not start."""


@dataclass(frozen=True)
class Mirror:
    base_url: str
    https_url: str
    api_key: str
    partner_api_key: str
    admin_token: str
    smtp_host: str
    smtp_port: int
    data_dir: Path

    def messages(self, **filters: str | int) -> list[dict[str, Any]]:
        """Stored messages, newest first: `to`, `from_`, `subject` (substring), `category`, `limit`, ..."""
        query = {("from" if name == "from_" else name): value for name, value in filters.items()}
        listed: list[dict[str, Any]] = self._call("GET", "/_mirror/messages", query=query)["messages"]
        return listed

    def message(self, message_id: str) -> dict[str, Any]:
        """One message with its personalizations (headers, text, html, attachments), recipients and events."""
        found: dict[str, Any] = self._call("GET", f"/_mirror/messages/{urllib.parse.quote(message_id)}")
        return found

    def wait_for_message(self, timeout: float = 10, **filters: str | int) -> dict[str, Any]:
        """The newest stored message matching `filters`, waiting up to `timeout` seconds for one to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(**filters, limit=1)
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                raise MirrorError(f"no message matching {filters} within {timeout} s")
            time.sleep(0.1)

    def add_fault(self, rule: dict[str, Any]) -> dict[str, Any]:
        """Add a fault-injection rule (the mirror's README, "Fault injection"); returns it as stored."""
        added: dict[str, Any] = self._call("POST", "/_mirror/faults", body=rule)
        return added

    def clear_faults(self) -> None:
        self._call("DELETE", "/_mirror/faults")

    def advance_clock(self, seconds: int) -> dict[str, Any]:
        """Move the mirror's clock forward; what falls due (scheduled sends, events) is delivered first."""
        clock: dict[str, Any] = self._call("POST", "/_mirror/clock/advance", body={"seconds": seconds})
        return clock

    def reset(self) -> dict[str, Any]:
        """The whole mirror back to its first start; the session's keys stay valid."""
        report: dict[str, Any] = self._call("POST", "/_mirror/reset")
        return report

    def wait_until_up(self, timeout: float, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise MirrorError(f"sgmirror serve exited with {process.returncode}; see {self.data_dir}")
            try:
                self._call("GET", "/_mirror/health")
                return
            except (OSError, MirrorError):
                time.sleep(0.1)
        raise MirrorError(f"sgmirror serve did not answer within {timeout} s")

    def _call(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None) -> Any:
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.admin_token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise MirrorError(f"{method} {path}: {error.code} {error.read().decode(errors='replace')}") from None
        return json.loads(text) if text else None
