"""The API over HTTPS, as clients that always use https:// reach it: the official SDKs, certificates verified."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sendgrid

from tests.support import mirror_process
from tests.support.mirror_process import MirrorProcess
from tests.support.node import NodeRunner, node_runner

pytestmark = pytest.mark.contract

KEY = "SG.httpsKey0000000000000.httpsSecret00000000000000000000000000000000"
MAIL = {
    "personalizations": [{"to": [{"email": "secure@example.com"}]}],
    "from": {"email": "shop@example.com"},
    "subject": "Over TLS",
    "content": [{"type": "text/plain", "value": "Sent to https://"}],
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("https") / "data"


@pytest.fixture(scope="module")
def mirror(data_dir: Path) -> Iterator[MirrorProcess]:
    running = mirror_process.start(data_dir, api_key=KEY, require_verified_sender="false")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def certificate(mirror: MirrorProcess, data_dir: Path) -> Path:
    """The file `sgmirror cert` tells clients to trust, read from its output as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}
    env["SGMIRROR_DATA_DIR"] = str(data_dir)
    shown = subprocess.run([sys.executable, "-m", "app", "cert"], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.splitlines()[0]
    path = Path(first.rsplit(": ", 1)[1])
    assert b"PRIVATE KEY" not in path.read_bytes()
    assert f"NODE_EXTRA_CA_CERTS={path}" in shown.stdout
    return path


def _sent_over_https(mirror: MirrorProcess, subject: str) -> list[str]:
    listed = httpx.get(f"{mirror.url}/_mirror/messages", params={"subject": subject}).json()["messages"]
    return [m["id"] for m in listed]


def test_the_python_sdk_verifies_the_certificate_it_was_told_to_trust(
    mirror: MirrorProcess, certificate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sendgrid.SendGridAPIClient(api_key=KEY, host=mirror.https_url)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        client.client.scopes.get()
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    assert client.client.scopes.get().status_code == 200
    sent = client.client.mail.send.post(request_body={**MAIL, "subject": "Python over TLS"})
    assert sent.status_code == 202
    assert _sent_over_https(mirror, "Python over TLS") == [sent.headers["X-Message-Id"]]


@pytest.mark.node
def test_the_node_sdk_verifies_the_certificate_given_in_node_extra_ca_certs(
    mirror: MirrorProcess, certificate: Path
) -> None:
    node: NodeRunner = node_runner()
    send = {"method": "POST", "url": "/v3/mail/send", "body": {**MAIL, "subject": "Node over TLS"}}
    payload = {"baseUrl": mirror.https_url, "apiKey": KEY, "requests": [send]}
    [untrusted] = node.run("client_request.js", payload)["results"]
    assert untrusted["ok"] is False
    assert untrusted["code"] in {"DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN"}, untrusted
    [trusted] = node.run("client_request.js", payload, env={"NODE_EXTRA_CA_CERTS": str(certificate)})["results"]
    assert (trusted["ok"], trusted["statusCode"]) == (True, 202), trusted
    assert _sent_over_https(mirror, "Node over TLS") == [trusted["messageId"]]


def test_plain_http_on_the_https_port_is_refused_and_both_ports_keep_serving(
    mirror: MirrorProcess, certificate: Path
) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(mirror.https_url.replace("https://", "http://") + "/_mirror/health", timeout=15)
    trusting = ssl.create_default_context(cafile=str(certificate))
    assert httpx.get(f"{mirror.https_url}/_mirror/health", verify=trusting).status_code == 200
    assert httpx.get(f"{mirror.url}/_mirror/health").status_code == 200
