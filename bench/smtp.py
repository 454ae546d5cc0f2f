"""SMTP relay benchmark against a bare aiosmtpd sink, next to HTTP mail send and its bare FastAPI ceiling.

    python -m bench.smtp [--rounds 3] [--duration 10] [--connections 32] [--workers 1] [--database sqlite]

Each round measures three servers, in an order that rotates from round to round, with the same message
content (bench.mkbody's 2.4 KB body; over SMTP the equivalent MIME with an X-SMTPAPI header):

- a fresh mirror (`sgmirror serve`, HTTP + relay, empty database; with --workers N, N processes sharing the
  relay's one listener), both transports in alternating order;
- the SMTP ceiling, bench.bare_smtp: aiosmtpd's `Sink` handler behind the same STARTTLS and AUTH, storing nothing;
- the HTTP ceiling, bench.bare_app: FastAPI parsing the body with pydantic, storing nothing.

The load: over SMTP, `--connections` asyncio clients spread over `--client-processes` processes (default: one
per worker), each one connection with STARTTLS and AUTH PLAIN once, then MAIL / RCPT / DATA per message,
waiting for each `250` (as real clients do); over HTTP, wrk as `make bench` drives it. Every server runs as
many worker processes as the mirror.

The table gives medians over the rounds, the server's CPU per message and each row against its transport's
ceiling; after each round the number of stored messages is compared with the number of acknowledgements.
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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from bench import mkbody, servers, wrk
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


async def _send_until(client: _Client, data: bytes, deadline: float, result: SmtpResult) -> None:
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


def drive_smtp(port: int, key: str, *, connections: int, duration: float, processes: int = 1) -> SmtpResult:
    """`connections` clients spread over `processes` processes, sending for `duration` seconds."""
    if processes <= 1:
        return asyncio.run(_drive(port, key, connections, duration))
    shares = [connections // processes + (1 if n < connections % processes else 0) for n in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        parts = list(pool.map(_drive_blocking, [port] * processes, [key] * processes, shares, [duration] * processes))
    merged = SmtpResult(duration=max(part.duration for part in parts))
    for part in parts:
        merged.accepted += part.accepted
        merged.refused += part.refused
        merged.errors += part.errors
        merged.latencies += part.latencies
    return merged


def _drive_blocking(port: int, key: str, connections: int, duration: float) -> SmtpResult:
    return asyncio.run(_drive(port, key, connections, duration))


async def _drive(port: int, key: str, connections: int, duration: float) -> SmtpResult:
    """`connections` clients on this loop, connected (STARTTLS, AUTH) first, then sending for `duration` s."""
    data = mime_body()
    result = SmtpResult()
    connected = await asyncio.gather(*(_connect(port, key) for _ in range(connections)), return_exceptions=True)
    clients = [client for client in connected if isinstance(client, _Client)]
    result.errors += len(connected) - len(clients)
    started = time.monotonic()
    await asyncio.gather(*(_send_until(client, data, started + duration, result) for client in clients))
    result.duration = time.monotonic() - started
    return result


@dataclass
class Round:
    smtp: SmtpResult
    smtp_cpu_us: float | None
    http: wrk.WrkResult
    http_cpu_us: float | None
    stored: int | None
    acknowledged: int
    bare: wrk.WrkResult | None = None  # the HTTP ceiling, measured in the same round
    bare_cpu_us: float | None = None
    sink: SmtpResult | None = None  # the SMTP ceiling, measured in the same round
    sink_cpu_us: float | None = None


@dataclass(frozen=True)
class Setup:
    args: argparse.Namespace
    workdir: Path
    wrk_path: str
    lua: Path
    pg: object

    def http(self, url: str, duration: float) -> wrk.WrkResult:
        connections = self.args.connections
        return wrk.run_wrk(self.wrk_path, url + servers.MAIL_PATH, self.lua, threads=2, connections=connections,
                           duration=duration, latency=True)  # fmt: skip

    def smtp(self, port: int, duration: float) -> SmtpResult:
        processes = self.args.client_processes or self.args.workers
        return drive_smtp(port, servers.BENCH_KEY, connections=self.args.connections, duration=duration,
                          processes=processes)  # fmt: skip


def _mirror_env(port: int, smtp_port: int, data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = servers.mirror_env(port, data_dir, database_url)
    env.update(
        SGMIRROR_SMTP_ENABLED="true", SGMIRROR_SMTP_PORT=str(smtp_port), SGMIRROR_SMTPS_PORT=str(servers.free_port())
    )
    return env


def _cpu_per_message(server: servers.Server, before: float | None, count: int) -> float | None:
    after = server.cpu_seconds()
    if before is None or after is None or not count:
        return None
    return (after - before) * 1e6 / count


def measure_bare(number: int, setup: Setup) -> tuple[wrk.WrkResult, float | None]:
    port = servers.free_port()
    command = servers.bare_command(port, setup.args.workers)
    server = servers.start_server(f"bare-r{number}", command, servers.base_env(), port, setup.workdir)
    try:
        servers.wait_ready(server, mail_body_bytes())
        setup.http(server.base_url, setup.args.warmup)
        before = server.cpu_seconds()
        result = setup.http(server.base_url, setup.args.duration)
        return result, _cpu_per_message(server, before, result.requests)
    finally:
        server.stop()


def measure_sink(number: int, setup: Setup) -> tuple[SmtpResult, float | None]:
    port = servers.free_port()
    command = servers.bare_smtp_command(port, setup.args.workers)
    server = servers.start_server(f"sink-r{number}", command, servers.base_env(), port, setup.workdir)
    try:
        servers.wait_smtp_ready(server, port)
        setup.smtp(port, setup.args.warmup)
        before = server.cpu_seconds()
        result = setup.smtp(port, setup.args.duration)
        return result, _cpu_per_message(server, before, result.accepted + result.refused)
    finally:
        server.stop()


def measure_mirror(number: int, setup: Setup) -> Round:
    args = setup.args
    port, smtp_port = servers.free_port(), servers.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=f"smtp-r{number}-", dir=setup.workdir))
    database_url = setup.pg.create_database(f"bench_smtp_r{number}") if setup.pg is not None else None  # type: ignore[attr-defined]
    env = _mirror_env(port, smtp_port, data_dir, database_url)
    server = servers.start_server(f"mirror-smtp-r{number}", servers.mirror_command(args.workers), env, port,
                                  setup.workdir)  # fmt: skip
    try:
        acknowledged = servers.wait_ready(server, mail_body_bytes())
        acknowledged += setup.smtp(smtp_port, args.warmup).accepted
        acknowledged += setup.http(server.base_url, args.warmup).accepted
        order = ("smtp", "http") if number % 2 else ("http", "smtp")
        smtp, smtp_cpu, http, http_cpu = SmtpResult(), None, None, None
        for transport in order:
            before = server.cpu_seconds()
            if transport == "smtp":
                smtp = setup.smtp(smtp_port, args.duration)
                smtp_cpu = _cpu_per_message(server, before, smtp.accepted + smtp.refused)
            else:
                http = setup.http(server.base_url, args.duration)
                http_cpu = _cpu_per_message(server, before, http.requests)
        time.sleep(0.5)
        stored = servers.stored_messages(server)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    assert http is not None
    acknowledged += smtp.accepted + http.accepted
    return Round(smtp, smtp_cpu, http, http_cpu, stored, acknowledged)


def one_round(number: int, setup: Setup) -> Round:
    """The mirror (both transports), the SMTP sink and the bare HTTP app, in an order rotating by round."""
    measured: dict[str, Any] = {}
    steps = {
        "mirror": lambda: measure_mirror(number, setup),
        "sink": lambda: measure_sink(number, setup),
        "bare": lambda: measure_bare(number, setup),
    }
    names = list(steps)
    shift = (number - 1) % len(names)
    for name in names[shift:] + names[:shift]:
        measured[name] = steps[name]()
    done: Round = measured["mirror"]
    done.sink, done.sink_cpu_us = measured["sink"]
    done.bare, done.bare_cpu_us = measured["bare"]
    return done


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _row(label: str, rates: list[float], p50: list[float], p99: list[float], failures: str, cpu: list[float],
         ceiling: float) -> str:  # fmt: skip
    rate = _median(rates)
    return (
        f"| {label} | {rate:,.0f} | {', '.join(f'{r:,.0f}' for r in rates)} | {_median(p50):.2f} "
        f"| {_median(p99):.2f} | {failures} | {_median(cpu):,.0f} | {rate / ceiling:.2f} |"
    )


def report(rounds: list[Round], args: argparse.Namespace) -> str:
    smtp, http = [r.smtp for r in rounds], [r.http for r in rounds]
    bare = [r.bare for r in rounds if r.bare is not None]
    sink = [r.sink for r in rounds if r.sink is not None]
    http_ceiling, smtp_ceiling = _median([r.rps for r in bare]), _median([r.rate for r in sink])
    relay_to_sink = _median([r.rate for r in smtp]) / smtp_ceiling
    smtp_to_http = _median([r.rate for r in smtp]) / _median([r.rps for r in http])
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    lines = [
        f"Mail send over SMTP and HTTP, same 2.4 KB message, {args.connections} connections, {args.duration:g} s per "
        f"run, {len(rounds)} round(s), medians; {args.database}, {workers} (each server); "
        f"{os.cpu_count()} CPUs shared by the clients and the servers.",
        "",
        "| server | msgs/s (median) | runs | p50 ms | p99 ms | refused / errors | server CPU µs/msg | / ceiling |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
        _row("bare aiosmtpd Sink, STARTTLS + AUTH, no storage (SMTP ceiling)", [r.rate for r in sink],
             [r.percentile(0.5) for r in sink], [r.percentile(0.99) for r in sink],
             f"{sum(r.refused for r in sink)} / {sum(r.errors for r in sink)}",
             [r.sink_cpu_us for r in rounds if r.sink_cpu_us], smtp_ceiling),
        _row("mirror, SMTP relay (STARTTLS, AUTH once per connection)", [r.rate for r in smtp],
             [r.percentile(0.5) for r in smtp], [r.percentile(0.99) for r in smtp],
             f"{sum(r.refused for r in smtp)} / {sum(r.errors for r in smtp)}",
             [r.smtp_cpu_us for r in rounds if r.smtp_cpu_us], smtp_ceiling),
        _row("bare FastAPI, HTTP, no storage (HTTP ceiling)", [r.rps for r in bare], [r.p50_ms for r in bare],
             [r.p99_ms for r in bare], f"{sum(r.non2xx for r in bare)} / {sum(r.socket_error_total for r in bare)}",
             [r.bare_cpu_us for r in rounds if r.bare_cpu_us], http_ceiling),
        _row("mirror, HTTP POST /v3/mail/send (wrk)", [r.rps for r in http], [r.p50_ms for r in http],
             [r.p99_ms for r in http], f"{sum(r.non2xx for r in http)} / {sum(r.socket_error_total for r in http)}",
             [r.http_cpu_us for r in rounds if r.http_cpu_us], http_ceiling),
        "",
        f"Relay / sink messages per second: **{relay_to_sink:.2f}** (per round: "
        f"{', '.join(f'{r.smtp.rate / r.sink.rate:.2f}' for r in rounds if r.sink and r.sink.rate)}).",
        f"SMTP / HTTP messages per second on the mirror: {smtp_to_http:.2f}.",
        "",
    ]  # fmt: skip
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
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured warm-up seconds (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes, both servers (default 1)")
    parser.add_argument("--client-processes", type=int, help="processes running the SMTP clients (default: workers)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        servers_log(wrk.WRK_INSTALL_HINT)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sgmirror-bench-smtp-"))
    body_path = workdir / "body.json"
    body_path.write_bytes(mail_body_bytes())
    lua = wrk.write_lua(workdir / "post.lua", body_path, servers.BENCH_KEY)
    rounds: list[Round] = []
    try:
        with servers.postgres_server(args.database) as pg:
            setup = Setup(args, workdir, wrk_path, lua, pg)
            for number in range(1, args.rounds + 1):
                servers_log(f"round {number}/{args.rounds} ...")
                done = one_round(number, setup)
                bare = done.bare.rps if done.bare else float("nan")
                sink = done.sink.rate if done.sink else float("nan")
                servers_log(f"  SMTP {done.smtp.rate:,.0f} msgs/s (sink {sink:,.0f}), HTTP {done.http.rps:,.0f} req/s "
                            f"(bare {bare:,.0f}); stored {done.stored} / {done.acknowledged}")  # fmt: skip
                rounds.append(done)
    except servers.NotReady as exc:
        servers_log(f"benchmark aborted: {exc}")
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(report(rounds, args))
    return 0


def servers_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
