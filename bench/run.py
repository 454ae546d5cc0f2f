"""Mail-send benchmark: the mirror against a bare FastAPI ceiling, both driven by wrk on loopback.

    python -m bench.run [--rounds 3] [--duration 10] [--connections 32] [--workers 1] [--database sqlite]
                        [--variants two-personalizations,attachment-1mb]

Each round starts each server fresh (the mirror on an empty database; with --workers N both servers run N
worker processes), waits until a POST returns 202, then for each body (the plain 2.5 KB send first, then the
variants of bench.mkbody) runs an unmeasured warm-up and a measured `wrk --latency`. The order of the two
servers alternates between rounds. The tables give medians over the rounds; every non-2xx response and
socket error is counted and shown; each variant is also given as a ratio to the plain body of the same run.
After each mirror run, the number of stored messages is compared with the number of 202s the load received.
Method: shared/reference/perf-anchors.md ("Method").
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import servers, wrk
from bench.mkbody import VARIANTS, mail_body_bytes
from bench.servers import MAIL_PATH, NotReady, Server
from bench.wrk import WRK_INSTALL_HINT, WrkResult

TARGET_RATIO = 0.5
TARGET_P99_MS = 25.0
CONFIGS = ("bare", "mirror")


@dataclass(frozen=True)
class Body:
    name: str
    data: bytes
    lua: Path


@dataclass
class Run:
    config: str
    round: int
    body: str
    result: WrkResult
    cpu_us_per_request: float | None = None


@dataclass
class Stored:
    round: int
    stored: int | None
    accepted: int  # 2xx over readiness, warm-ups and measurements
    slack: int  # requests in flight when wrk stopped, or given up on: maybe stored, never counted


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
    bodies: list[Body]
    postgres: Any = None

    @property
    def mirror_label(self) -> str:
        return f"sendgrid-mirror ({self.database}, {self.workers} worker{'s' if self.workers > 1 else ''})"


# ---------------------------------------------------------------------------------------------- rounds


def measure(name: str, round_no: int, server: Server, opts: Options) -> tuple[list[Run], Stored | None]:
    """Every body in turn on one server: warm-up, then the measured run."""
    accepted = servers.wait_ready(server, opts.bodies[0].data)
    slack = 0
    runs = []
    for body in opts.bodies:
        common = {"threads": opts.threads, "connections": opts.connections}
        warm = wrk.run_wrk(opts.wrk, server.base_url + MAIL_PATH, body.lua, duration=opts.warmup, latency=False,
                           **common)  # fmt: skip
        cpu_before = server.cpu_seconds()
        result = wrk.run_wrk(opts.wrk, server.base_url + MAIL_PATH, body.lua, duration=opts.duration, latency=True,
                             **common)  # fmt: skip
        cpu_after = server.cpu_seconds()
        run = Run(name, round_no, body.name, result)
        if cpu_before is not None and cpu_after is not None and result.requests:
            run.cpu_us_per_request = (cpu_after - cpu_before) * 1e6 / result.requests
        runs.append(run)
        accepted += warm.accepted + result.accepted
        slack += 2 * opts.connections + warm.socket_error_total + result.socket_error_total
        log_run(run)
    if name != "mirror":
        return runs, None
    time.sleep(0.5)  # requests still in flight when wrk stopped may finish and be stored
    return runs, Stored(round_no, servers.stored_messages(server), accepted, slack)


def run_bare(round_no: int, opts: Options) -> tuple[list[Run], Stored | None]:
    port = servers.free_port()
    command = servers.bare_command(port, opts.workers)
    server = servers.start_server(f"bare-r{round_no}", command, servers.base_env(), port, opts.workdir)
    try:
        return measure("bare", round_no, server, opts)
    finally:
        server.stop()


def run_mirror(round_no: int, opts: Options) -> tuple[list[Run], Stored | None]:
    port = servers.free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=f"mirror-r{round_no}-", dir=opts.workdir))
    database_url = opts.postgres.create_database(f"bench_r{round_no}") if opts.postgres else None
    env = servers.mirror_env(port, data_dir, database_url)
    server = servers.start_server(f"mirror-r{round_no}", servers.mirror_command(opts.workers), env, port, opts.workdir)
    try:
        return measure("mirror", round_no, server, opts)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        # The 1 MB-attachment run leaves the kernel about a gigabyte to write back; without this the next
        # server's first run paid for it (p99 of 160-220 ms in that run alone, every other run under 25 ms).
        os.sync()


def rounds(opts: Options) -> tuple[list[Run], list[Stored]]:
    configs: list[tuple[str, Callable[[int, Options], tuple[list[Run], Stored | None]]]] = [
        ("bare", run_bare),
        ("mirror", run_mirror),
    ]
    runs, stored = [], []
    for round_no in range(1, opts.rounds + 1):
        order = configs if round_no % 2 else configs[::-1]
        for name, runner in order:
            log(f"round {round_no}/{opts.rounds}: {name} ...")
            done, counted = runner(round_no, opts)
            runs += done
            if counted is not None:
                stored.append(counted)
                log(f"  stored {counted.stored} / {counted.accepted} accepted")
    return runs, stored


# ---------------------------------------------------------------------------------------------- report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def log_run(run: Run) -> None:
    r = run.result
    log(
        f"  {run.body}: {r.rps:,.0f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, non-2xx {r.non2xx}, "
        f"socket errors {r.socket_error_total}"
    )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class Figures:
    """Medians of one (config, body) over the rounds."""

    rps: float
    p50: float
    p99: float
    cpu: float

    @staticmethod
    def of(runs: list[Run]) -> Figures:
        # A run in which no request completed has no latency (wrk prints zeros): leave it out.
        done = [run for run in runs if run.result.requests]
        cpu = [run.cpu_us_per_request for run in done if run.cpu_us_per_request is not None]
        return Figures(
            rps=_median([run.result.rps for run in runs]),
            p50=_median([run.result.p50_ms for run in done]),
            p99=_median([run.result.p99_ms for run in done]),
            cpu=_median(cpu),
        )


def _failures(runs: list[Run]) -> str:
    statuses: dict[int, int] = {}
    for run in runs:
        for status, count in run.result.by_status.items():
            statuses[status] = statuses.get(status, 0) + count
    text = str(sum(run.result.non2xx for run in runs))
    if statuses:
        text += " (" + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ")"
    return text


def main_table(opts: Options, runs: list[Run]) -> tuple[list[str], bool]:
    """The plain body: each server's req/s, latency and CPU, and the mirror against the ceiling."""
    plain = opts.bodies[0].name
    labels = {"bare": "bare FastAPI + pydantic, no storage (ceiling)", "mirror": opts.mirror_label}
    lines = [
        f"POST {MAIL_PATH}, {len(opts.bodies[0].data):,}-byte body, wrk -t{opts.threads} -c{opts.connections} "
        f"-d{opts.duration:g}s --latency after a {opts.warmup:g} s warm-up; {opts.workers} worker(s) per server; "
        f"{opts.rounds} round(s), medians; {os.cpu_count()} CPUs shared by wrk and the servers.",
        "",
        "| config | req/s (median) | runs | p50 ms | p99 ms | non-2xx | socket errors | CPU µs/req |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    figures: dict[str, Figures] = {}
    for name in CONFIGS:
        config_runs = [run for run in runs if run.config == name and run.body == plain]
        if not config_runs:
            continue
        f = figures[name] = Figures.of(config_runs)
        lines.append(
            f"| {labels[name]} | {f.rps:,.0f} | {', '.join(f'{r.result.rps:,.0f}' for r in config_runs)} "
            f"| {f.p50:.2f} | {f.p99:.2f} | {_failures(config_runs)} "
            f"| {sum(r.result.socket_error_total for r in config_runs)} | {f.cpu:.0f} |"
        )
    if len(figures) < len(CONFIGS):
        return lines, True
    ratio, p99 = figures["mirror"].rps / figures["bare"].rps, figures["mirror"].p99
    ratio_ok, p99_ok = ratio >= TARGET_RATIO, p99 < TARGET_P99_MS
    all_ok = all(r.result.non2xx == 0 and r.result.socket_error_total == 0 for r in runs)
    lines += [
        "",
        f"mirror / bare req/s: **{ratio:.2f}** (target ≥ {TARGET_RATIO:.2f}: {'met' if ratio_ok else 'NOT met'}); "
        f"mirror p99 {p99:.2f} ms (target < {TARGET_P99_MS:g} ms: {'met' if p99_ok else 'NOT met'}); "
        f"{'no' if all_ok else 'SOME'} non-2xx responses or socket errors.",
    ]
    if opts.database != "sqlite" or opts.workers != 1:
        lines.append(f"(The targets are set for SQLite with 1 worker; this run used {opts.database}, {opts.workers}.)")
    return lines, ratio_ok and p99_ok and all_ok


def variants_table(opts: Options, runs: list[Run]) -> list[str]:
    """What a heavier body costs: each body's figures and their ratio to the plain body's, per server."""
    if len(opts.bodies) < 2:
        return []
    lines = [
        "",
        "Heavier bodies, same servers and run (ratios: this body's median / the plain body's median):",
        "",
        "| body | bytes | bare req/s | mirror req/s | mirror p50 ms | mirror p99 ms | mirror / bare req/s "
        "| req/s vs plain | p50 vs plain | p99 vs plain | mirror CPU µs/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    plain = {c: Figures.of([r for r in runs if r.config == c and r.body == opts.bodies[0].name]) for c in CONFIGS}
    for body in opts.bodies:
        bare = Figures.of([r for r in runs if r.config == "bare" and r.body == body.name])
        mirror = Figures.of([r for r in runs if r.config == "mirror" and r.body == body.name])
        base = plain["mirror"]
        lines.append(
            f"| {body.name} | {len(body.data):,} | {bare.rps:,.0f} | {mirror.rps:,.0f} | {mirror.p50:.2f} "
            f"| {mirror.p99:.2f} | {mirror.rps / bare.rps:.2f} | {mirror.rps / base.rps:.2f} "
            f"| {mirror.p50 / base.p50:.2f} | {mirror.p99 / base.p99:.2f} | {mirror.cpu:,.0f} |"
        )
    return lines


def storage_lines(stored: list[Stored]) -> list[str]:
    lines = []
    for counted in stored:
        if counted.stored is None:
            return ["Stored-message check skipped: the mirror has no GET /_mirror/messages total count yet."]
        ok = counted.accepted <= counted.stored <= counted.accepted + counted.slack
        lines.append(
            f"Round {counted.round}: the mirror stored {counted.stored:,} messages for {counted.accepted:,} 202s "
            f"(readiness + warm-ups + runs) — {'consistent' if ok else 'MISMATCH'}."
        )
    return lines


def report(opts: Options, runs: list[Run], stored: list[Stored]) -> tuple[str, bool]:
    lines, passed = main_table(opts, runs)
    lines += variants_table(opts, runs)
    lines += [
        "",
        "CPU µs/req: user + system CPU of the server's process group over the measured run, per request"
        + (" (PostgreSQL's own CPU not included)." if opts.database == "postgresql" else "."),
        "",
        *storage_lines(stored),
    ]
    return "\n".join(lines), passed


# ---------------------------------------------------------------------------------------------- main


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
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS[1:]),
        help=f"bodies measured after the plain one, comma-separated, or 'none' (default {','.join(VARIANTS[1:])})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs, Lua scripts)")
    parser.add_argument("--check", action="store_true", help="exit 3 when a target is missed or any request failed")
    args = parser.parse_args(argv)
    args.variants = [] if args.variants in ("", "none") else args.variants.split(",")
    unknown = set(args.variants) - set(VARIANTS[1:])
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(sorted(unknown))}; known: {', '.join(VARIANTS[1:])}")
    return args


def write_bodies(workdir: Path, names: list[str]) -> list[Body]:
    """Each body and the wrk script posting it, in the work folder."""
    bodies = []
    for name in names:
        body_path = workdir / f"{name}.json"
        body_path.write_bytes(mail_body_bytes(name))
        lua = wrk.write_lua(workdir / f"{name}.lua", body_path, servers.BENCH_KEY)
        bodies.append(Body(name, body_path.read_bytes(), lua))
    return bodies


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        log(WRK_INSTALL_HINT)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sgmirror-bench-"))
    try:
        with servers.postgres_server(args.database) as pg:
            opts = Options(
                rounds=args.rounds,
                duration=args.duration,
                warmup=args.warmup,
                connections=args.connections,
                threads=args.threads,
                workers=args.workers,
                database=args.database,
                wrk=wrk_path,
                workdir=workdir,
                bodies=write_bodies(workdir, [VARIANTS[0], *args.variants]),
                postgres=pg,
            )
            runs, stored = rounds(opts)
    except NotReady as exc:
        log(f"benchmark aborted: {exc}")
        return 1
    finally:
        if args.keep:
            log(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    table, passed = report(opts, runs, stored)
    print(table)
    return 3 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
