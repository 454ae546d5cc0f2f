"""The disk under `sgmirror serve` fills up during a send burst, then space comes back: no 202 or 250 for a
message that is not stored, refusals are 503 with Retry-After (SMTP 452), health and the console say so, and
the same process accepts mail again once the filler is gone.

The database lives on a small tmpfs mounted for the test (root only; CI must be able to).
"""

from __future__ import annotations

import base64
import email.policy
import errno
import os
import smtplib
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from tests.conftest import IN_CI
from tests.support import mirror_process

pytestmark = pytest.mark.contract

KEY = "SG." + "diskFullKey".ljust(22, "0") + "." + "diskFullSecret".ljust(43, "0")
AUTH = {"Authorization": f"Bearer {KEY}"}
DISK = "4m"
CLIENTS = 4
# Each client stops after this many refusals, or this many sends whatever happened (the disk is 4 MiB).
REFUSALS_EACH, MOST_EACH = 5, 400
MAIL_ENVELOPE = b'{"errors":[{"message":"service unavailable","field":null,"help":null}]}'


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)], capture_output=True, text=True
        )
        refusal = mounted.stderr.strip() if mounted.returncode != 0 else None
    except OSError as error:
        refusal = str(error)
    if refusal is not None:
        reason = f"mounting a {DISK} tmpfs was refused ({refusal}); the test needs root"
        if IN_CI:
            pytest.fail(reason + " — CI must allow it")
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture
def mirror(small_disk: Path) -> Iterator[mirror_process.MirrorProcess]:
    # SGMIRROR_DATA_DIR is the small disk: the database, the certificates and the server's log all fill it.
    process = mirror_process.start(small_disk, api_key=KEY, require_verified_sender="false", log_level="warning")
    yield process
    process.stop()


@dataclass
class Burst:
    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    first_acceptances: threading.Event = field(default_factory=threading.Event)
    accepted: list[str] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _mail(number: int) -> dict[str, object]:
    attachment = base64.b64encode(os.urandom(12_000)).decode()
    return {
        "personalizations": [{"to": [{"email": f"burst{number}@example.com"}]}],
        "from": {"email": "sender@example.com"},
        "subject": f"Burst {number}",
        "content": [{"type": "text/plain", "value": f"Message {number}"}],
        "attachments": [{"content": attachment, "filename": f"noise-{number}.bin"}],
    }


def _client(burst: Burst, client: int) -> None:
    refusals = 0
    with httpx.Client(base_url=burst.url, headers=AUTH, timeout=60) as http:
        for sent in range(MOST_EACH):
            if burst.stop.is_set() or refusals >= REFUSALS_EACH:
                return
            response = http.post("/v3/mail/send", json=_mail(client * MOST_EACH + sent))
            with burst.lock:
                if response.status_code == 202:
                    burst.accepted.append(response.headers["x-message-id"])
                    if len(burst.accepted) >= 20:
                        burst.first_acceptances.set()
                elif response.status_code == 503:
                    burst.refused.append(response)
                    refusals += 1
                else:
                    burst.other.append(f"{response.status_code} {response.text[:200]}")


def _fill(disk: Path) -> Path:
    """A file that takes every free byte of `disk`."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as output:
        for chunk in (64 * 1024, 4096, 512):
            assert _write_until_refused(output, b"\0" * chunk) == errno.ENOSPC
    return filler


def _write_until_refused(output: BinaryIO, chunk: bytes) -> int | None:
    try:
        while True:
            output.write(chunk)
    except OSError as refused:
        return refused.errno


def _smtp_until_refused(port: int, attempts: int) -> tuple[list[str], smtplib.SMTPResponseException | None]:
    """SMTP sends (each with an attachment) until one is refused; the ids queued meanwhile, and the refusal."""
    queued = []
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as relay:
        relay.starttls()
        relay.login("apikey", KEY)
        for number in range(attempts):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "sender@example.com", "rcpt@example.com", "relay"
            message.set_content(f"relay {number}")
            message.add_attachment(os.urandom(12_000), maintype="application", subtype="octet-stream")
            assert relay.mail("sender@example.com")[0] == 250
            assert relay.rcpt("rcpt@example.com")[0] == 250
            code, reply = relay.data(message.as_bytes(policy=email.policy.SMTP))
            if code != 250:
                return queued, smtplib.SMTPResponseException(code, reply)
            queued.append(reply.decode().removeprefix("Ok: queued as "))
    return queued, None


def _stored_ids(http: httpx.Client) -> set[str]:
    found: set[str] = set()
    while True:
        listed = http.get("/_mirror/messages", params={"limit": 500, "offset": len(found)})
        assert listed.status_code == 200, listed.text
        page = {item["id"] for item in listed.json()["messages"]}
        if not page:
            return found
        found |= page


def test_a_full_disk_refuses_with_503_and_the_same_process_recovers_when_space_returns(
    mirror: mirror_process.MirrorProcess, small_disk: Path
) -> None:
    burst = Burst(mirror.url)
    clients = [threading.Thread(target=_client, args=(burst, n)) for n in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        assert burst.first_acceptances.wait(120), "the burst got no 202s before the disk was filled"
        filler = _fill(small_disk)
    except BaseException:
        burst.stop.set()
        raise
    finally:
        for thread in clients:
            thread.join(300)

    assert burst.other == []
    assert burst.refused, "a full disk refused no send"
    for refused in burst.refused:
        assert refused.content == MAIL_ENVELOPE
        assert refused.headers["retry-after"] == "5"
        assert "x-message-id" not in refused.headers

    with httpx.Client(base_url=mirror.url, headers=AUTH, timeout=60) as http:
        # Any write: a small one may still fit where the WAL reuses its space, not for long.
        batches = [http.post("/v3/mail/batch") for _ in range(50)]
        refused_batch = next((r for r in batches if r.status_code != 201), None)
        assert refused_batch is not None, "50 batch ids fitted on a full disk"
        assert refused_batch.status_code == 503
        assert refused_batch.headers["retry-after"] == "5"
        assert refused_batch.json() == {"errors": [{"message": "service unavailable"}]}

        queued, smtp_refusal = _smtp_until_refused(mirror.smtp_port, 50)
        assert smtp_refusal is not None
        assert (smtp_refusal.smtp_code, smtp_refusal.smtp_error) == (452, b"4.3.1 Insufficient system storage")

        health = http.get("/_mirror/health")
        assert health.status_code == 503
        assert (health.json()["status"], health.json()["storage"]) == ("unavailable", "full")
        deep = http.get("/_mirror/health", params={"deep": "1"})
        assert (deep.status_code, deep.json()["storage"]) == (503, "full")
        assert deep.json()["detail"] == "No space left on device"  # the OS's words, no file name
        assert 'id="storage-banner"' in http.get("/console/login").text

        filler.unlink()

        # Recovery is immediate for a deep check: it writes.
        deep = http.get("/_mirror/health", params={"deep": "1"})
        assert deep.status_code == 200, deep.text
        assert deep.json()["storage"] == "writable"
        assert http.get("/_mirror/health").status_code == 200
        assert 'id="storage-banner"' not in http.get("/console/login").text

        again = http.post("/v3/mail/send", json=_mail(10**6))
        assert again.status_code == 202, again.text
        queued_after, refusal_after = _smtp_until_refused(mirror.smtp_port, 1)
        assert (len(queued_after), refusal_after) == (1, None)

        # Every acknowledged send is stored and reads back whole; no refused one is. A first read stores the
        # message's rendering, so reading them all needs more room than the filler left: the disk grows first.
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        stored = _stored_ids(http)
        acknowledged = {*burst.accepted, again.headers["x-message-id"], *queued, *queued_after}
        assert stored == acknowledged
        for message_id in sorted(acknowledged):
            read = http.get(f"/_mirror/messages/{message_id}")
            assert read.status_code == 200, read.text
