"""The README's "After the 202" walk-through, performed as written: its curl commands, in order and with their
bodies, against `sgmirror serve` on free ports, and the receiver in docs/examples on loopback verifying each
signed Event Webhook POST with the official SDK's helper. And every curl command anywhere in the README names
an endpoint the app serves, so the README cannot drift from the routes."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from starlette.routing import Match

from app.router import ROUTERS
from tests.support import mirror_process, postgres
from tests.support.mirror_process import MirrorProcess
from tests.support.postgres import free_port

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RECEIVER = ROOT / "docs" / "examples" / "webhook_receiver.py"
SECTION = "## After the 202: bounce → webhook → suppression → dropped"
COMPUTED = "$(…)"  # the path of a curl whose URL is the output of a command substitution
README_RECEIVER_PORT = "9000"
WAIT_SECONDS = 60
BOUNCED = "user+bounce@example.com"


@dataclass(frozen=True)
class Curl:
    """One curl command of the README: what it asks of the mirror."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


def _tokens(text: str) -> list[str]:
    """Shell words and operators; a newline outside quotes is an operator, comments are gone."""
    text = re.sub(r"(?m)(?:^|[ \t])#.*$", "", text.replace("\\\n", " "))
    lexer = shlex.shlex(text, posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.whitespace = " \t\r"
    return list(lexer)


def _is_operator(token: str) -> bool:
    return all(char in "();<>|&\n" for char in token)


def curl_commands(text: str) -> list[Curl]:
    """The curl commands of a shell text in the order they run (a substitution inside a URL runs first)."""
    tokens = _tokens(text)
    commands: list[Curl] = []
    for start, token in enumerate(tokens):
        if token != "curl":
            continue
        args: list[str] = []
        for arg in tokens[start + 1 :]:
            if _is_operator(arg):
                break
            args.append(arg)
        commands.extend(_curl(args))
    return commands


def _curl(args: list[str]) -> list[Curl]:
    method, url, body, get = None, None, None, False
    headers: list[tuple[str, str]] = []
    query: list[tuple[str, str]] = []
    inner: list[Curl] = []
    arguments = iter(args)
    for arg in arguments:
        if arg == "-X":
            method = next(arguments)
        elif arg == "-H":
            name, _, value = next(arguments).partition(":")
            headers.append((name.strip(), value.strip()))
        elif arg == "-d":
            body = next(arguments)
        elif arg == "--data-urlencode":
            name, _, value = next(arguments).partition("=")
            query.append((name, value))
        elif arg == "-G":
            get = True
        elif arg.startswith("$("):
            inner, url = curl_commands(arg[2:-1]), COMPUTED
        elif not arg.startswith("-"):
            url = arg
    assert url is not None, f"a curl command without a URL: {args}"
    path, url_query = _path(url)
    default = "POST" if body is not None and not get else "GET"
    command = Curl(method or default, path, tuple(url_query + query), tuple(headers), body)
    return [*inner, command]


def _path(url: str) -> tuple[str, list[tuple[str, str]]]:
    """`$MIRROR/p?q`, `localhost:8090/p` or `http://127.0.0.1:8090/p` → ("/p", [query pairs])."""
    if url == COMPUTED:
        return url, []
    rest = url.removeprefix("$MIRROR")
    if rest == url:
        rest = "/" + url.split("://", 1)[-1].split("/", 1)[1]
    parts = urlsplit(rest)
    return parts.path, parse_qsl(parts.query)


def readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n{title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def shell_blocks(markdown: str) -> list[str]:
    """The ```sh blocks, unindented (list items indent theirs)."""
    blocks = re.findall(r"^( *)```sh\n(.*?)^\1```", markdown, flags=re.S | re.M)
    return ["\n".join(line.removeprefix(indent) for line in block.splitlines()) for indent, block in blocks]


@dataclass
class Receiver:
    """docs/examples/webhook_receiver.py run as the README runs it; its output lines, as they come."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, line: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while line not in self.lines:
            assert time.monotonic() < deadline, f"the receiver never printed {line!r}; it printed {self.lines}"
            time.sleep(0.1)


@pytest.fixture
def receiver_factory() -> Iterator[Callable[[int, str], Receiver]]:
    """Start docs/examples/webhook_receiver.py on a port with a public key; stopped after the test."""
    started: list[Receiver] = []

    def start(port: int, public_key: str) -> Receiver:
        process = subprocess.Popen(
            [sys.executable, str(RECEIVER), str(port)],
            env={**os.environ, "PUBLIC_KEY": public_key},
            stdout=subprocess.PIPE,
            text=True,
        )
        receiver = Receiver(process, port)
        started.append(receiver)
        threading.Thread(target=receiver.read, daemon=True).start()
        receiver.wait_for(f"listening on http://127.0.0.1:{port}/events")
        return receiver

    yield start
    for receiver in started:
        receiver.process.terminate()
        receiver.process.wait(timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def mirror(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MirrorProcess]:
    """A fresh `sgmirror serve`, as `make run` starts it (no key given: it prints one)."""
    if request.param == "postgresql":
        server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
        started = mirror_process.start(tmp_path / "data", database_url=server.create_database("sgmirror_walkthrough"))
    else:
        started = mirror_process.start(tmp_path / "data")
    yield started
    started.stop()


@dataclass
class Walk:
    """Runs the README's curl commands one after the other, as a reader pastes them."""

    commands: list[Curl]
    mirror: str
    key: str
    receiver_port: int = 0
    done: int = 0

    def next(self, method: str, path: str, url: str | None = None, **variables: str) -> httpx.Response:
        """Run the next command, which must be `method path`; `$NAME` in its path is `variables[NAME]`."""
        assert self.done < len(self.commands), f"the README has no step {method} {path}"
        command = self.commands[self.done]
        assert (command.method, command.path) == (method, path), f"README step {self.done + 1} is {command}"
        self.done += 1
        return self.run(command, url, **variables)

    def run(self, command: Curl, url: str | None = None, **variables: str) -> httpx.Response:
        target = url or self.mirror + self._expand(command.path, variables)
        body = command.body
        if body is not None:
            body = body.replace(f"127.0.0.1:{README_RECEIVER_PORT}", f"127.0.0.1:{self.receiver_port}")
        headers = {name: self._expand(value, variables) for name, value in command.headers}
        return httpx.request(command.method, target, params=list(command.query), headers=headers, content=body)

    def _expand(self, text: str, variables: dict[str, str]) -> str:
        for name, value in {**variables, "KEY": self.key}.items():
            text = text.replace(f"${name}", value)
        return text

    def finish(self) -> None:
        assert self.done == len(self.commands), f"README steps not performed: {self.commands[self.done :]}"


def _default_key(mirror: MirrorProcess) -> str:
    found = re.search(r"Full-access API key for 'default' \(shown once\): (SG\.\S+)", mirror.log_text())
    assert found, mirror.log_text()
    return found.group(1)


def test_the_walkthrough_as_written(mirror: MirrorProcess, receiver_factory: Callable[[int, str], Receiver]) -> None:
    commands = [command for block in shell_blocks(readme_section(SECTION)) for command in curl_commands(block)]
    walk = Walk(commands, mirror.url, _default_key(mirror))

    # 1. Verify shop@example.com through the email the mirror captured.
    assert walk.next("POST", "/v3/verified_senders").status_code == 201
    [email] = walk.next("GET", "/_mirror/messages").json()["messages"]
    text = walk.next("GET", "/_mirror/messages/$ID/text", ID=email["id"]).text
    link = re.search(r"http[^ ]*/verify/[A-Za-z0-9_-]*", text)
    assert link, text
    assert "Sender verified" in walk.next("GET", COMPUTED, url=link.group(0)).text

    # 2. The Event Webhook, signed; the public key from the signed-settings endpoint.
    walk.receiver_port = free_port()
    assert walk.next("PATCH", "/v3/user/webhooks/event/settings").json()["enabled"] is True
    assert walk.next("PATCH", "/v3/user/webhooks/event/settings/signed").status_code == 200
    public_key = walk.next("GET", "/v3/user/webhooks/event/settings/signed").json()["public_key"]

    # 3. The receiver, on the port the webhook's URL names.
    receiver = receiver_factory(walk.receiver_port, public_key)

    # 4. A send the simulator bounces; the signed bounce event reaches the receiver and verifies.
    send = walk.commands[walk.done]
    first = walk.next("POST", "/v3/mail/send")
    assert first.status_code == 202
    receiver.wait_for(f"processed {BOUNCED} signature verified")
    receiver.wait_for(
        f"bounce {BOUNCED} signature verified (550 5.1.1 The email account that you tried to reach does not exist)"
    )

    # 5. The address is on the bounce list.
    assert [entry["email"] for entry in walk.next("GET", "/v3/suppression/bounces").json()] == [BOUNCED]

    # 6. The same send again is dropped as a bounced address.
    second = walk.run(send)
    assert second.status_code == 202
    receiver.wait_for(f"dropped {BOUNCED} signature verified (Bounced Address)")
    listed = walk.next("GET", "/v3/messages").json()["messages"]
    assert [m["status"] for m in listed] == ["not_delivered", "not_delivered"]
    msg_id = walk.next("GET", "/v3/messages").json()["messages"][0]["msg_id"]
    assert msg_id.startswith(second.headers["x-message-id"])
    events = walk.next("GET", "/v3/messages/$MSG_ID", MSG_ID=msg_id).json()["events"]
    assert [(e["event_name"], e.get("reason")) for e in events] == [("processed", None), ("dropped", "Bounced Address")]

    # 7. Clearing the address empties the list.
    assert walk.next("DELETE", f"/v3/suppression/bounces/{BOUNCED}").status_code == 204
    walk.finish()
    bounces = httpx.get(f"{mirror.url}/v3/suppression/bounces", headers={"Authorization": f"Bearer {walk.key}"})
    assert bounces.json() == []


def test_the_readme_shows_the_receiver_it_runs() -> None:
    section = readme_section(SECTION)
    [shown] = re.findall(r"^( *)```python\n(.*?)^\1```", section, flags=re.S | re.M)
    indent, code = shown
    assert "\n".join(line.removeprefix(indent) for line in code.splitlines()) + "\n" == RECEIVER.read_text()
    assert f"docs/examples/webhook_receiver.py {README_RECEIVER_PORT} &" in section
    assert f"http://127.0.0.1:{README_RECEIVER_PORT}/events" in section


def _served(method: str, path: str) -> bool:
    scope = {"type": "http", "method": method, "path": re.sub(r"\$\w+|<[^>]+>|\{\w+\}", "x", path)}
    return any(route.matches(scope)[0] is Match.FULL for router in ROUTERS for route in router.routes)


def test_every_curl_in_the_readme_names_an_endpoint_the_app_serves() -> None:
    text = README.read_text()
    inline = [code for code in re.findall(r"`(curl [^`]+)`", text) if "8090" in code or "$MIRROR" in code]
    shell = shell_blocks(text) + inline
    commands = [command for block in shell for command in curl_commands(block)]
    assert len(commands) > 30
    for command in commands:
        if command.path == COMPUTED:
            continue
        assert _served(command.method, command.path), f"the README asks for an endpoint nobody serves: {command}"
        if command.body is not None and command.body.lstrip().startswith(("{", "[")):
            json.loads(command.body)
