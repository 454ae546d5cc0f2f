"""Mail-send benchmark: the mirror against a bare FastAPI ceiling, both driven by wrk on loopback.

    python -m bench.run [--rounds 3] [--duration 10] [--connections 32] [--workers 1] [--database sqlite]

Each round starts each server fresh (the mirror on an empty database), waits until a POST returns 202, runs an
unmeasured warm-up, then measures with `wrk --latency`. The order of the two servers alternates between rounds.
The table gives medians over the rounds; every non-2xx response and socket error is counted and shown. After
each mirror run, the number of stored messages is compared with the number of 202s the load received.
Method: shared/reference/perf-anchors.md ("Method").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from bench.mkbody import mail_body_bytes

REPO = Path(__file__).resolve().parents[1]
MAIL_PATH = "/v3/mail/send"
BENCH_KEY = "SG." + "benchKey".ljust(22, "0") + "." + "benchSecret".ljust(43, "0")
TARGET_RATIO = 0.5
TARGET_P99_MS = 25.0
WRK_INSTALL_HINT = "wrk is not installed: apt-get install wrk (Debian/Ubuntu; `make bench` does it when run as root)"

LUA_SCRIPT = """\
-- POST the benchmark body; count responses outside 2xx by status (written by bench/run.py).
local file = assert(io.open({body_path}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. {key}

local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {{}}
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local merged = {{}}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {{}}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  io.write("NON2XX_BY_STATUS {{" .. table.concat(parts, ", ") .. "}}\\n")
end
"""


# ---------------------------------------------------------------------------------------------- wrk output


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    by_status: dict[int, int]
    socket_errors: dict[str, int]

    @property
    def accepted(self) -> int:
        """Responses in 2xx."""
        return self.requests - self.non2xx

    @property
    def socket_error_total(self) -> int:
        return sum(self.socket_errors.values())


_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _TIME_UNITS_MS[unit]


def parse_wrk(output: str, latency: bool = True) -> WrkResult:
    """Read wrk 4's report (percentiles only with --latency) plus the status line of our Lua script."""

    def need(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output has no match for {pattern!r}:\n{output}")
        return match

    totals = need(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
    p50 = _ms(*need(r"^\s*50(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$").groups()) if latency else float("nan")
    p99 = _ms(*need(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$").groups()) if latency else float("nan")
    rps = need(r"^Requests/sec:\s+([\d.]+)")
    socket_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        socket_errors = dict(zip(socket_errors, (int(n) for n in errors.groups()), strict=True))
    statuses = re.search(r"^NON2XX_BY_STATUS (\{.*\})\s*$", output, re.MULTILINE)
    by_status = {int(k): int(v) for k, v in json.loads(statuses.group(1)).items()} if statuses else {}
    wrk_non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    # wrk itself counts only status >= 400; the Lua script counts everything outside 2xx.
    non2xx = sum(by_status.values()) if statuses else int(wrk_non2xx.group(1)) if wrk_non2xx else 0
    return WrkResult(
        requests=int(totals.group(1)),
        duration_s=_ms(totals.group(2), totals.group(3)) / 1000,
        rps=float(rps.group(1)),
        p50_ms=p50,
        p99_ms=p99,
        non2xx=non2xx,
        by_status=by_status,
        socket_errors=socket_errors,
    )


def run_wrk(
    wrk: str, url: str, lua: Path, *, threads: int, connections: int, duration: float, latency: bool
) -> WrkResult:
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "2s", "-s", str(lua)]
    if latency:
        args.append("--latency")
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout, latency=latency)


# ---------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    log_file: IO[bytes]

    def log_tail(self, lines: int = 30) -> str:
        self.log_file.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float | None:
        """utime + stime of every live process in the server's process group (Linux /proc), else None."""
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        total = 0
        try:
            entries = list(Path("/proc").iterdir())
        except OSError:
            return None
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            # fields[2] is pgrp, fields[11] utime, fields[12] stime (man 5 proc, counted after the comm field)
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self) -> None:
        """SIGINT to the whole process group, SIGKILL if it is still there after 15 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
        self.log_file.close()


def start_server(name: str, args: list[str], env: dict[str, str], port: int, workdir: Path) -> Server:
    log_path = workdir / f"{name}.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return Server(name, process, f"http://127.0.0.1:{port}", log_path, log_file)


def bare_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
        "bench.bare_app:app",
    ]


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SGMIRROR_")}


def mirror_env(port: int, data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = base_env()
    env.update(
        SGMIRROR_DATA_DIR=str(data_dir),
        SGMIRROR_API_KEY=BENCH_KEY,
        SGMIRROR_HOST="127.0.0.1",
        SGMIRROR_HTTP_PORT=str(port),
        SGMIRROR_LOG_LEVEL="warning",
        # No sender identity is set up on a fresh database; measure ingest, not the 403 path.
        SGMIRROR_REQUIRE_VERIFIED_SENDER="false",
        # The relay runs in the same process; bench.smtp turns it on, on free ports.
        SGMIRROR_SMTP_ENABLED="false",
    )
    if database_url:
        env["SGMIRROR_DATABASE_URL"] = database_url
    return env


class NotReady(RuntimeError):
    pass


def wait_ready(server: Server, body: bytes, timeout: float = 60) -> int:
    """POST the benchmark body until it returns 202; returns the number of 202s it got (1)."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {BENCH_KEY}", "Content-Type": "application/json"}
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise NotReady(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            response = httpx.post(server.base_url + MAIL_PATH, content=body, headers=headers, timeout=5)
        except httpx.TransportError as exc:
            last = repr(exc)
            time.sleep(0.1)
            continue
        if response.status_code == 202:
            return 1
        last = f"HTTP {response.status_code}: {response.text[:500]}"
        if 400 <= response.status_code < 500:
            raise NotReady(f"{server.name} answered the benchmark body with {last}")
        time.sleep(0.1)
    raise NotReady(f"{server.name} was not ready after {timeout:g} s ({last})\n{server.log_tail()}")


def stored_messages(server: Server) -> int | None:
    """Messages the mirror holds, from GET /_mirror/messages?limit=1; None when that API does not exist."""
    try:
        response = httpx.get(server.base_url + "/_mirror/messages", params={"limit": 1}, timeout=30)
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    total = response.json().get("total")
    return total if isinstance(total, int) else None


# ---------------------------------------------------------------------------------------------- rounds


@dataclass
class Run:
    config: str
    round: int
    result: WrkResult
    cpu_us_per_request: float | None = None
    stored: int | None = None
    accepted_total: int = 0  # 2xx over readiness, warm-up and measurement


@dataclass
class Options:
    rounds: int
    duration: float
    warmup: float
    connections: int
    threads: int
    workers: int
    database: str
    wrk: str
    workdir: Path
    lua: Path
    body: bytes
    postgres: Any = None


def measure(name: str, round_no: int, server: Server, opts: Options, count_stored: bool) -> Run:
    url = server.base_url + MAIL_PATH
    accepted = wait_ready(server, opts.body)
    common = {"threads": opts.threads, "connections": opts.connections}
    warm = run_wrk(opts.wrk, url, opts.lua, duration=opts.warmup, latency=False, **common)
    cpu_before = server.cpu_seconds()
    result = run_wrk(opts.wrk, url, opts.lua, duration=opts.duration, latency=True, **common)
    cpu_after = server.cpu_seconds()
    run = Run(name, round_no, result, accepted_total=accepted + warm.accepted + result.accepted)
    if cpu_before is not None and cpu_after is not None and result.requests:
        run.cpu_us_per_request = (cpu_after - cpu_before) * 1e6 / result.requests
    if count_stored:
        time.sleep(0.5)  # requests still in flight when wrk stopped may finish and be stored
        run.stored = stored_messages(server)
    return run


def run_bare(round_no: int, opts: Options) -> Run:
    port = free_port()
    server = start_server(f"bare-r{round_no}", bare_command(port, opts.workers), base_env(), port, opts.workdir)
    try:
        return measure("bare", round_no, server, opts, count_stored=False)
    finally:
        server.stop()


def run_mirror(round_no: int, opts: Options) -> Run:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=f"mirror-r{round_no}-", dir=opts.workdir))
    database_url = opts.postgres.create_database(f"bench_r{round_no}") if opts.postgres else None
    command = [sys.executable, "-m", "app", "serve", "--workers", str(opts.workers)]
    server = start_server(f"mirror-r{round_no}", command, mirror_env(port, data_dir, database_url), port, opts.workdir)
    try:
        return measure("mirror", round_no, server, opts, count_stored=True)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def rounds(opts: Options) -> Iterator[Run]:
    configs: list[tuple[str, Callable[[int, Options], Run]]] = [("bare", run_bare), ("mirror", run_mirror)]
    for round_no in range(1, opts.rounds + 1):
        order = configs if round_no % 2 else configs[::-1]
        for name, runner in order:
            log(f"round {round_no}/{opts.rounds}: {name} ...")
            run = runner(round_no, opts)
            r = run.result
            log(
                f"  {r.rps:,.0f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, non-2xx {r.non2xx}, "
                f"socket errors {r.socket_error_total}"
                + (f", stored {run.stored} / {run.accepted_total} accepted" if run.stored is not None else "")
            )
            yield run


# ---------------------------------------------------------------------------------------------- report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(opts: Options, runs: list[Run]) -> tuple[str, bool]:
    by_config = {name: [run for run in runs if run.config == name] for name in ("bare", "mirror")}
    labels = {
        "bare": "bare FastAPI + pydantic, no storage (ceiling)",
        "mirror": f"sendgrid-mirror ({opts.database})",
    }
    lines = [
        f"POST {MAIL_PATH}, {len(opts.body):,}-byte body, wrk -t{opts.threads} -c{opts.connections} "
        f"-d{opts.duration:g}s --latency after a {opts.warmup:g} s warm-up; {opts.workers} worker(s); "
        f"{opts.rounds} round(s), medians; {os.cpu_count()} CPUs shared by wrk and the server.",
        "",
        "| config | req/s (median) | runs | p50 ms | p99 ms | non-2xx | socket errors | CPU µs/req |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    medians: dict[str, dict[str, float]] = {}
    for name, config_runs in by_config.items():
        if not config_runs:
            continue
        results = [run.result for run in config_runs]
        cpu = [run.cpu_us_per_request for run in config_runs if run.cpu_us_per_request is not None]
        medians[name] = {
            "rps": _median([r.rps for r in results]),
            "p50": _median([r.p50_ms for r in results]),
            "p99": _median([r.p99_ms for r in results]),
        }
        statuses: dict[int, int] = {}
        for r in results:
            for status, count in r.by_status.items():
                statuses[status] = statuses.get(status, 0) + count
        non2xx = str(sum(r.non2xx for r in results))
        if statuses:
            non2xx += " (" + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ")"
        lines.append(
            f"| {labels[name]} | {medians[name]['rps']:,.0f} | {', '.join(f'{r.rps:,.0f}' for r in results)} "
            f"| {medians[name]['p50']:.2f} | {medians[name]['p99']:.2f} | {non2xx} "
            f"| {sum(r.socket_error_total for r in results)} | {_median(cpu):.0f} |"
        )
    passed = True
    if "bare" in medians and "mirror" in medians:
        ratio = medians["mirror"]["rps"] / medians["bare"]["rps"]
        p99 = medians["mirror"]["p99"]
        ratio_ok, p99_ok = ratio >= TARGET_RATIO, p99 < TARGET_P99_MS
        all_ok = all(r.result.non2xx == 0 and r.result.socket_error_total == 0 for r in runs)
        passed = ratio_ok and p99_ok and all_ok
        lines += [
            "",
            f"mirror / bare req/s: **{ratio:.2f}** (target ≥ {TARGET_RATIO:.2f}: {'met' if ratio_ok else 'NOT met'}); "
            f"mirror p99 {p99:.2f} ms (target < {TARGET_P99_MS:g} ms: {'met' if p99_ok else 'NOT met'}); "
            f"{'no' if all_ok else 'SOME'} non-2xx responses or socket errors.",
        ]
        if opts.database != "sqlite" or opts.workers != 1:
            lines.append(
                f"(The targets are set for SQLite with 1 worker; this run used {opts.database}, {opts.workers}.)"
            )
    lines.append(
        "CPU µs/req: user + system CPU of the server's process group over the measured run, per request"
        + (" (PostgreSQL's own CPU not included)." if opts.database == "postgresql" else ".")
    )
    lines += ["", *storage_lines(by_config["mirror"], opts.connections)]
    return "\n".join(lines), passed


def storage_lines(runs: list[Run], connections: int) -> list[str]:
    if not runs:
        return []
    if any(run.stored is None for run in runs):
        return ["Stored-message check skipped: the mirror has no GET /_mirror/messages total count yet."]
    lines = []
    for run in runs:
        # Up to `connections` requests per wrk run can be in flight when wrk stops: stored but not counted.
        # Requests wrk gave up on (socket errors) may have been stored too.
        slack = 2 * connections + run.result.socket_error_total
        ok = run.accepted_total <= (run.stored or 0) <= run.accepted_total + slack
        lines.append(
            f"Round {run.round}: the mirror stored {run.stored:,} messages for {run.accepted_total:,} 202s "
            f"(readiness + warm-up + run) — {'consistent' if ok else 'MISMATCH'}."
        )
    return lines


# ---------------------------------------------------------------------------------------------- main


@contextmanager
def postgres_server(database: str) -> Iterator[Any]:
    if database != "postgresql":
        yield None
        return
    sys.path.insert(0, str(REPO))
    from tests.support import postgres

    server = postgres.start_server()
    if server is None:
        raise SystemExit("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    try:
        yield server
    finally:
        server.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0] if __doc__ else ""
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured warm-up seconds (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes, both servers (default 1)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs, Lua script)")
    parser.add_argument("--check", action="store_true", help="exit 3 when a target is missed or any request failed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        log(WRK_INSTALL_HINT)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sgmirror-bench-"))
    body = mail_body_bytes()
    body_path = workdir / "body.json"
    body_path.write_bytes(body)
    lua = workdir / "post.lua"
    lua.write_text(LUA_SCRIPT.format(body_path=json.dumps(str(body_path)), key=json.dumps(BENCH_KEY)))
    try:
        with postgres_server(args.database) as pg:
            opts = Options(
                rounds=args.rounds,
                duration=args.duration,
                warmup=args.warmup,
                connections=args.connections,
                threads=args.threads,
                workers=args.workers,
                database=args.database,
                wrk=wrk,
                workdir=workdir,
                lua=lua,
                body=body,
                postgres=pg,
            )
            runs = list(rounds(opts))
    except NotReady as exc:
        log(f"benchmark aborted: {exc}")
        return 1
    finally:
        if args.keep:
            log(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    table, passed = report(opts, runs)
    print(table)
    return 3 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
