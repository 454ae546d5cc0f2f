"""SMTP relay benchmark next to HTTP mail send, on one mirror process (`sgmirror serve`, HTTP + relay).

    python -m bench.smtp [--rounds 3] [--duration 10] [--connections 32] [--database sqlite]

Each round starts a fresh mirror (empty database, one worker) and measures both transports with the same
message content (bench.mkbody's 2.4 KB body; over SMTP the equivalent MIME with an X-SMTPAPI header), in
alternating order:

- SMTP: `--connections` asyncio clients in this process, each one connection with STARTTLS and AUTH PLAIN
  once, then MAIL / RCPT / DATA per message, waiting for each `250 Ok: queued as <id>` (as real clients do).
- HTTP: wrk, as `make bench` drives it (skipped, with a note, when wrk is not installed).

The table gives medians over the rounds and the server's CPU per message; after each round the number of
stored messages is compared with the number of acknowledgements.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import ssl
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from bench import mkbody, run
from bench.mkbody import mail_body, mail_body_bytes


def mime_body() -> bytes:
    """bench.mkbody's mail body as the MIME message an SMTP client would send (CRLF, dot-stuffing not needed)."""
    body = mail_body()
    personalization = body["personalizations"][0]
    message = EmailMessage()
    message["From"] = f"{body['from']['name']} <{body['from']['email']}>"
    message["To"] = ", ".join(f"{to['name']} <{to['email']}>" for to in personalization["to"])
    message["Reply-To"] = f"{body['reply_to']['name']} <{body['reply_to']['email']}>"
    message["Subject"] = body["subject"]
    smtpapi = {"category": body["categories"], "unique_args": personalization["custom_args"]}
    # Spaced JSON, as SendGrid's smtpapi libraries write it, folds at spaces instead of being RFC 2047-encoded.
    message["X-SMTPAPI"] = json.dumps(smtpapi)
    text, html = body["content"]
    message.set_content(text["value"])
    message.add_alternative(html["value"], subtype="html")
    return message.as_bytes(policy=SMTP)


@dataclass
class SmtpResult:
    accepted: int = 0
    refused: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    duration: float = 0.0

    @property
    def rate(self) -> float:
        return self.accepted / self.duration if self.duration else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


class _Client:
    """The least an SMTP client does: one reply per command, multi-line replies joined."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def reply(self) -> tuple[int, bytes]:
        line = await self.reader.readline()
        while line[3:4] == b"-":
            line = await self.reader.readline()
        if not line:
            raise ConnectionError("the relay closed the connection")
        return int(line[:3]), line

    async def command(self, line: bytes) -> tuple[int, bytes]:
        self.writer.write(line + b"\r\n")
        return await self.reply()


async def _connect(port: int, key: str) -> _Client:
    client = _Client(*await asyncio.open_connection("127.0.0.1", port))
    await client.reply()
    await client.command(b"EHLO bench.example")
    if (await client.command(b"STARTTLS"))[0] != 220:
        raise RuntimeError("STARTTLS refused")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    await client.writer.start_tls(context)
    await client.command(b"EHLO bench.example")
    code, reply = await client.command(b"AUTH PLAIN " + base64.b64encode(f"\0apikey\0{key}".encode()))
    if code != 235:
        raise RuntimeError(f"AUTH failed: {reply!r}")
    return client


async def _one_connection(port: int, key: str, data: bytes, deadline: float, result: SmtpResult) -> None:
    try:
        client = await _connect(port, key)
    except (OSError, RuntimeError, ConnectionError):
        result.errors += 1
        return
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            await client.command(f"MAIL FROM:<{mkbody.SENDER}>".encode())
            await client.command(f"RCPT TO:<{mkbody.RECIPIENT}>".encode())
            await client.command(b"DATA")
            client.writer.write(data + b".\r\n")
            code, _ = await client.reply()
        except (OSError, ConnectionError):
            result.errors += 1
            return
        if code == 250:
            result.accepted += 1
            result.latencies.append(time.monotonic() - started)
        else:
            result.refused += 1
    client.writer.write(b"QUIT\r\n")
    client.writer.close()


async def drive_smtp(port: int, key: str, *, connections: int, duration: float) -> SmtpResult:
    """`connections` clients sending for `duration` seconds."""
    data = mime_body()
    result = SmtpResult()
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(*(_one_connection(port, key, data, deadline, result) for _ in range(connections)))
    result.duration = time.monotonic() - started
    return result


@dataclass
class Round:
    smtp: SmtpResult
    smtp_cpu_us: float | None
    http: run.WrkResult | None
    http_cpu_us: float | None
    stored: int | None
    acknowledged: int


def _mirror_env(port: int, smtp_port: int, data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = run.mirror_env(port, data_dir, database_url)
    env.update(
        SGMIRROR_SMTP_ENABLED="true", SGMIRROR_SMTP_PORT=str(smtp_port), SGMIRROR_SMTPS_PORT=str(run.free_port())
    )
    return env


def _cpu_per_message(server: run.Server, before: float | None, count: int) -> float | None:
    after = server.cpu_seconds()
    if before is None or after is None or not count:
        return None
    return (after - before) * 1e6 / count


def one_round(number: int, args: argparse.Namespace, workdir: Path, wrk: str | None, lua: Path, pg: object) -> Round:
    port, smtp_port = run.free_port(), run.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=f"smtp-r{number}-", dir=workdir))
    database_url = pg.create_database(f"bench_smtp_r{number}") if pg is not None else None  # type: ignore[attr-defined]
    command = [sys.executable, "-m", "app", "serve"]
    server = run.start_server(f"mirror-smtp-r{number}", command, _mirror_env(port, smtp_port, data_dir, database_url),
                              port, workdir)  # fmt: skip
    try:
        acknowledged = run.wait_ready(server, mail_body_bytes())
        warmup = asyncio.run(drive_smtp(smtp_port, run.BENCH_KEY, connections=args.connections, duration=args.warmup))
        acknowledged += warmup.accepted
        order = ("smtp", "http") if number % 2 else ("http", "smtp")
        smtp, smtp_cpu, http, http_cpu = SmtpResult(), None, None, None
        for transport in order:
            before = server.cpu_seconds()
            if transport == "smtp":
                smtp = asyncio.run(drive_smtp(smtp_port, run.BENCH_KEY, connections=args.connections,
                                              duration=args.duration))  # fmt: skip
                smtp_cpu = _cpu_per_message(server, before, smtp.accepted + smtp.refused)
            elif wrk is not None:
                http = run.run_wrk(wrk, server.base_url + run.MAIL_PATH, lua, threads=2, connections=args.connections,
                                   duration=args.duration, latency=True)  # fmt: skip
                http_cpu = _cpu_per_message(server, before, http.requests)
        time.sleep(0.5)
        stored = run.stored_messages(server)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return Round(smtp, smtp_cpu, http, http_cpu, stored, acknowledged + smtp.accepted + (http.accepted if http else 0))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(rounds: list[Round], args: argparse.Namespace) -> str:
    smtp = [r.smtp for r in rounds]
    http = [r.http for r in rounds if r.http is not None]
    lines = [
        f"Mail send over SMTP and HTTP, same 2.4 KB message, {args.connections} connections, {args.duration:g} s per "
        f"run, {len(rounds)} round(s), medians; {args.database}, 1 worker; {os.cpu_count()} CPUs shared by the "
        "clients and the server.",
        "",
        "| transport | msgs/s (median) | runs | p50 ms | p99 ms | refused / errors | server CPU µs/msg |",
        "|---|---:|---|---:|---:|---:|---:|",
        f"| SMTP (STARTTLS, AUTH once per connection) | {_median([r.rate for r in smtp]):,.0f} "
        f"| {', '.join(f'{r.rate:,.0f}' for r in smtp)} | {_median([r.percentile(0.5) for r in smtp]):.2f} "
        f"| {_median([r.percentile(0.99) for r in smtp]):.2f} | {sum(r.refused for r in smtp)} / "
        f"{sum(r.errors for r in smtp)} | {_median([r.smtp_cpu_us for r in rounds if r.smtp_cpu_us]):.0f} |",
    ]
    if http:
        lines.append(
            f"| HTTP POST /v3/mail/send (wrk) | {_median([r.rps for r in http]):,.0f} "
            f"| {', '.join(f'{r.rps:,.0f}' for r in http)} | {_median([r.p50_ms for r in http]):.2f} "
            f"| {_median([r.p99_ms for r in http]):.2f} | {sum(r.non2xx for r in http)} / "
            f"{sum(r.socket_error_total for r in http)} | "
            f"{_median([r.http_cpu_us for r in rounds if r.http_cpu_us]):.0f} |"
        )
        ratio = _median([r.rate for r in smtp]) / _median([r.rps for r in http])
        lines += ["", f"SMTP / HTTP messages per second: **{ratio:.2f}**."]
    else:
        lines += ["", run.WRK_INSTALL_HINT + " — HTTP not measured."]
    lines.append("")
    for number, r in enumerate(rounds, 1):
        consistent = r.stored is not None and r.acknowledged <= r.stored <= r.acknowledged + 4 * args.connections
        lines.append(
            f"Round {number}: {r.stored} messages stored for {r.acknowledged} acknowledgements (250 + 202) — "
            f"{'consistent' if consistent else 'MISMATCH'}."
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.smtp", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds, transports alternating (default 3)")
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per transport (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured SMTP warm-up seconds (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        run.log(run.WRK_INSTALL_HINT + " — measuring SMTP only.")
    workdir = Path(tempfile.mkdtemp(prefix="sgmirror-bench-smtp-"))
    body_path = workdir / "body.json"
    body_path.write_bytes(mail_body_bytes())
    lua = workdir / "post.lua"
    lua.write_text(run.LUA_SCRIPT.format(body_path=json.dumps(str(body_path)), key=json.dumps(run.BENCH_KEY)))
    rounds: list[Round] = []
    try:
        with run.postgres_server(args.database) as pg:
            for number in range(1, args.rounds + 1):
                run.log(f"round {number}/{args.rounds} ...")
                done = one_round(number, args, workdir, wrk, lua, pg)
                http = f", HTTP {done.http.rps:,.0f} req/s" if done.http else ""
                run.log(f"  SMTP {done.smtp.rate:,.0f} msgs/s{http}, stored {done.stored} / {done.acknowledged}")
                rounds.append(done)
    except run.NotReady as exc:
        run.log(f"benchmark aborted: {exc}")
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(report(rounds, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
