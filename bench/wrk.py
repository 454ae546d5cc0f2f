"""wrk on loopback: the Lua script that posts a body and counts non-2xx answers, and wrk's report parsed."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

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


def write_lua(path: Path, body_path: Path, key: str) -> Path:
    """The Lua script posting the body in `body_path` with `key`."""
    path.write_text(LUA_SCRIPT.format(body_path=json.dumps(str(body_path)), key=json.dumps(key)))
    return path


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
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "-s", str(lua)]
    if latency:
        args.append("--latency")
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed (exit {done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout, latency=latency)
