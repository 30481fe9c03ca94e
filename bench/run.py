"""Benchmark httpcore against its peers, over a local nginx.

    python bench/run.py [--quick] [--only WORKLOAD,..] [--clients NAME,..]
                        [--repeat N] [--output FILE] [--json FILE] [--profile N]

Starts nginx (one worker, pinned to the first CPU) in a temporary directory
holding its configuration, trustme certificates, a ~100-byte JSON file and a
256 MiB file. Every client run is its own process, pinned to the second CPU,
that prints a JSON report (see clients/_common.py). Our httpcore runs with
this interpreter; the peers (httpx, aiohttp, requests, urllib3) run in their
own virtualenv, bench/.venv-peers, created here when missing, because httpx
depends on an unrelated package that is also called `httpcore`.

The markdown report (medians over the repetitions, and httpcore's figures as
ratios to every peer's) is printed and, with --output, written to a file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CLIENTS_DIR = BENCH_DIR / "clients"
TEMPLATE = BENCH_DIR / "nginx.conf.template"
PEERS_VENV = BENCH_DIR / ".venv-peers"
PEER_REQUIREMENTS = ("httpx[http2]", "trio", "anyio", "aiohttp", "requests", "urllib3")
PEER_IMPORTS = ("httpx", "h2", "trio", "anyio", "aiohttp", "requests", "urllib3")

SMALL_PATH = "/small.json"
BIG_PATH = "/big.bin"
SMALL_SIZE = 100
BIG_SIZE = 256 * 1024 * 1024
# Read size for the APIs that ask for one (requests, urllib3): httpcore's own read size.
CHUNK_SIZE = 64 * 1024
# --quick divides every request count by this.
QUICK_DIVISOR = 10
# nginx >= 1.25.1 spells HTTP/2 as `http2 on;` rather than as a `listen` flag.
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)
# Open files wanted for this process and its children (nginx, the clients): the
# scale workloads hold 2,000 connections at each end of the loopback.
OPEN_FILES = 16384
# The scale workloads: the same requests at each concurrency, over HTTP/1.1 and h2c.
SCALE_CONCURRENCY = (1, 64, 512, 2000)
SCALE_COUNT = 20000
# The idle-pool workloads open this many connections, then leave them idle.
IDLE_CONNECTIONS = (1, 500)
READY_TIMEOUT = 10.0
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class Workload:
    name: str
    protocol: str  # "h1", "h2" or "h2c": what the client must speak
    tls: bool
    count: int
    concurrency: int
    download: bool
    # "scale": one row of the concurrency series; "idle": ends with a snapshot of
    # RSS and connections while the pool holds them idle.
    family: str = ""

    @property
    def snapshot(self) -> bool:
        return self.family in ("scale", "idle")

    @property
    def path(self) -> str:
        return BIG_PATH if self.download else SMALL_PATH

    @property
    def body_size(self) -> int:
        return BIG_SIZE if self.download else SMALL_SIZE

    def describe(self) -> str:
        wire = {"h1": "HTTP/1.1", "h2": "HTTP/2", "h2c": "HTTP/2 (h2c)"}[self.protocol]
        if self.tls:
            wire += " over TLS"
        if self.download:
            return f"{self.body_size // MIB} MiB download, {wire}"
        if self.family == "idle":
            return (
                f"{self.concurrency:,} concurrent small GETs over {wire}, then RSS with "
                f"their connections idle in the pool"
            )
        shape = "sequential" if self.concurrency == 1 else f"{self.concurrency}-way concurrent"
        return f"{self.count:,} {shape} small GETs, {wire}"


WORKLOADS = (
    Workload("seq", "h1", False, 3000, 1, False),
    Workload("c64", "h1", False, 10000, 64, False),
    Workload("tls-c64", "h1", True, 10000, 64, False),
    Workload("h2-c100", "h2", True, 10000, 100, False),
    Workload("h2c-c100", "h2c", False, 10000, 100, False),
    Workload("dl-h1", "h1", False, 1, 1, True),
    Workload("dl-tls", "h1", True, 1, 1, True),
    Workload("dl-h2", "h2", True, 1, 1, True),
    *(
        Workload(f"scale-{protocol}-{n}", protocol, False, SCALE_COUNT, n, False, "scale")
        for protocol in ("h1", "h2c")
        for n in SCALE_CONCURRENCY
    ),
    *(
        Workload(f"idle-{name}-{n}", "h1", tls, n, n, False, "idle")
        for name, tls in (("h1", False), ("tls", True))
        for n in IDLE_CONNECTIONS
    ),
)


@dataclass(frozen=True)
class ClientSpec:
    name: str
    script: str
    variant: str
    ours: bool  # our httpcore, run with this interpreter; else a peer, in the peers' venv
    blocking: bool  # blocking clients run the sequential workloads only...
    protocols: frozenset[str]
    threads: bool = False  # ...and, with threads, the scale and idle workloads
    # Scale workloads over HTTP/1.1 above this concurrency are skipped (0: none are).
    h1_scale_cap: int = 0
    # False for a client that keeps no pool to take a snapshot of (the scale and idle rows).
    snapshots: bool = True

    def runs(self, workload: Workload) -> bool:
        if workload.protocol not in self.protocols:
            return False
        if workload.snapshot and not self.snapshots:
            return False
        if (
            self.h1_scale_cap
            and workload.family == "scale"
            and workload.protocol == "h1"
            and workload.concurrency > self.h1_scale_cap
        ):
            return False
        if self.blocking and workload.concurrency > 1:
            return self.threads and workload.family in ("scale", "idle")
        return True


ALL_PROTOCOLS = frozenset({"h1", "h2", "h2c"})
H1_ONLY = frozenset({"h1"})
H1_H2 = frozenset({"h1", "h2"})
# httpx's HTTP/1.1 pool spends CPU per request in proportion to its connections
# (about 33 ms per request at 2,000-way): its 512- and 2,000-way HTTP/1.1 scale
# runs would take many minutes each, so they are left out.
HTTPX_H1_SCALE_CAP = 64
CLIENTS = (
    ClientSpec("httpcore-trio", "bench_httpcore.py", "trio", True, False, ALL_PROTOCOLS),
    # TrioClient with the pure-Python h11 codec (as without the speedups extra).
    ClientSpec("httpcore-trio-h11", "bench_httpcore.py", "trio-h11", True, False, H1_ONLY),
    ClientSpec("httpcore-asyncio", "bench_httpcore.py", "asyncio", True, False, ALL_PROTOCOLS),
    ClientSpec("httpcore-sync", "bench_httpcore.py", "sync", True, True, ALL_PROTOCOLS, True),
    ClientSpec(
        "httpx-asyncio",
        "bench_httpx.py",
        "asyncio",
        False,
        False,
        ALL_PROTOCOLS,
        h1_scale_cap=HTTPX_H1_SCALE_CAP,
    ),
    ClientSpec(
        "httpx-trio",
        "bench_httpx.py",
        "trio",
        False,
        False,
        ALL_PROTOCOLS,
        h1_scale_cap=HTTPX_H1_SCALE_CAP,
    ),
    ClientSpec("httpx-sync", "bench_httpx.py", "sync", False, True, ALL_PROTOCOLS),
    ClientSpec("aiohttp", "bench_aiohttp.py", "asyncio", False, False, H1_ONLY),
    ClientSpec("requests", "bench_requests.py", "sync", False, True, H1_ONLY),
    ClientSpec("urllib3", "bench_urllib3.py", "sync", False, True, H1_ONLY),
    # curl 7.88's --parallel over h2c (prior knowledge) fails with framing errors.
    ClientSpec("curl", "bench_curl.py", "cli", False, False, H1_H2, snapshots=False),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the peers' virtualenv ---------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_peers_venv() -> Path:
    """The peers' interpreter, creating the venv and installing the peers if needed."""
    python = venv_python(PEERS_VENV)
    if not python.exists():
        log(f"creating {PEERS_VENV.relative_to(REPO_DIR)}")
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    probe = [str(python), "-c", "import " + ", ".join(PEER_IMPORTS)]
    if subprocess.run(probe, capture_output=True, env=clean_env()).returncode != 0:
        log("installing the peers: " + " ".join(PEER_REQUIREMENTS))
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS],
            check=True,
            env=clean_env(),
        )
        subprocess.run(probe, check=True, env=clean_env())
    return python


def clean_env() -> dict[str, str]:
    """This environment without what could put one interpreter's packages in another's path."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["PYTHONNOUSERSITE"] = "1"
    return env


# --- the server --------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nginx_version(nginx: str) -> tuple[int, ...]:
    out = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=True)
    match = re.search(r"nginx/(\d+(?:\.\d+)*)", out.stderr + out.stdout)
    if match is None:
        raise RuntimeError(f"cannot read the nginx version from {out.stderr!r}")
    return tuple(int(part) for part in match.group(1).split("."))


def pinned(cpu: int | None) -> list[str]:
    """A command prefix pinning a process to `cpu` (nothing when pinning is off)."""
    return [] if cpu is None else ["taskset", "-c", str(cpu)]


def write_site(workdir: Path) -> None:
    """The files nginx serves, and its TLS certificate (trustme); ca.pem is for the clients."""
    import trustme

    www = workdir / "www"
    www.mkdir()
    payload: dict[str, Any] = {"message": "hello from the benchmark", "items": [], "pad": ""}
    body = json.dumps(payload, separators=(",", ":"))
    payload["pad"] = "x" * (SMALL_SIZE - 1 - len(body))
    (www / SMALL_PATH.lstrip("/")).write_text(json.dumps(payload, separators=(",", ":")) + "\n")
    assert (www / SMALL_PATH.lstrip("/")).stat().st_size == SMALL_SIZE
    block = os.urandom(MIB)
    with open(www / BIG_PATH.lstrip("/"), "wb") as big:
        for _ in range(BIG_SIZE // MIB):
            big.write(block)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / "tmp" / sub).mkdir(parents=True)

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    cert.private_key_pem.write_to_path(str(workdir / "server.key"))
    (workdir / "server.pem").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    # nginx workers may run as another user: they must be able to read the site.
    workdir.chmod(0o755)


@dataclass
class Server:
    workdir: Path
    version: tuple[int, ...]
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, workload: Workload) -> str:
        if workload.protocol == "h2c":
            return f"http://127.0.0.1:{self.ports['h2c']}{workload.path}"
        if workload.tls:
            return f"https://127.0.0.1:{self.ports['https']}{workload.path}"
        return f"http://127.0.0.1:{self.ports['http']}{workload.path}"

    @property
    def cafile(self) -> str:
        return str(self.workdir / "ca.pem")


def render_config(server: Server) -> str:
    modern = server.version >= HTTP2_DIRECTIVE_SINCE
    values = {
        "DIR": str(server.workdir),
        "HTTP_PORT": str(server.ports["http"]),
        "HTTPS_PORT": str(server.ports["https"]),
        "H2C_PORT": str(server.ports["h2c"]),
        "LISTEN_HTTP2": "" if modern else " http2",
        "HTTP2_ON": "http2 on;" if modern else "",
        # As root, nginx would switch its workers to an unprivileged user.
        "USER_DIRECTIVE": "user root;" if os.geteuid() == 0 else "",
    }
    text = TEMPLATE.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    leftover = re.search(r"@[A-Z_0-9]+@", text)
    if leftover:
        raise RuntimeError(f"unfilled placeholder {leftover.group(0)} in {TEMPLATE.name}")
    return text


@contextmanager
def running_nginx(server_cpu: int | None) -> Iterator[Server]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is not installed (Debian: apt-get install -y nginx)")
    with tempfile.TemporaryDirectory(prefix="httpcore-bench-") as tmp:
        server = Server(Path(tmp), nginx_version(nginx))
        log(f"writing the site to {tmp}")
        write_site(server.workdir)
        server.ports = {name: free_port() for name in ("http", "https", "h2c")}
        config = server.workdir / "nginx.conf"
        config.write_text(render_config(server))
        command = [*pinned(server_cpu), nginx, "-p", tmp, "-c", str(config)]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        try:
            wait_ready(server, process)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=READY_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ready(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    pending = set(server.ports.values())
    while pending:
        if process.poll() is not None:
            errors = server.workdir / "error.log"
            detail = errors.read_text() if errors.exists() else ""
            sys.exit(f"nginx exited with status {process.returncode}\n{detail}")
        if time.monotonic() > deadline:
            sys.exit("nginx did not start listening in time")
        for port in list(pending):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                pending.discard(port)
            except OSError:
                time.sleep(0.05)


# --- running the clients -----------------------------------------------------


@dataclass
class Interpreters:
    ours: str
    peers: str | None


def client_command(
    spec: ClientSpec,
    workload: Workload,
    server: Server,
    pythons: Interpreters,
    client_cpu: int | None,
    profile: int = 0,
) -> list[str]:
    python = pythons.ours if spec.ours else pythons.peers
    assert python is not None
    command = [
        *pinned(client_cpu),
        python,
        str(CLIENTS_DIR / spec.script),
        "--url",
        server.url(workload),
        "--count",
        str(workload.count),
        "--concurrency",
        str(workload.concurrency),
        "--protocol",
        workload.protocol,
        "--variant",
        spec.variant,
        "--chunk-size",
        str(CHUNK_SIZE),
    ]
    if workload.tls:
        command += ["--cafile", server.cafile]
    if workload.download:
        command.append("--download")
    if workload.snapshot:
        command.append("--snapshot")
    if profile:
        command += ["--profile", str(profile)]
    return command


def run_client(command: list[str], workload: Workload, cwd: Path, timeout: float) -> dict[str, Any]:
    """One client process: its JSON report, with failures turned into an "error" report."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=clean_env()
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"no result after {timeout:g} s"}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        report: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return {"status": "error", "reason": f"exit status {done.returncode}: {tail}"}
    if report.get("status") == "ok":
        expected = workload.count * workload.body_size
        if report["bytes"] != expected:
            report = {"status": "error", "reason": f"{report['bytes']} bytes, not {expected}"}
    report["stderr"] = done.stderr
    return report


# --- the report --------------------------------------------------------------


@dataclass
class Cell:
    """All runs of one client on one workload."""

    workload: Workload
    client: ClientSpec
    reports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.reports if r["status"] == "ok"]

    def median(self, metric: str) -> float:
        return statistics.median(METRICS[metric](r) for r in self.ok)

    def problems(self) -> list[str]:
        seen: list[str] = []
        for report in self.reports:
            if report["status"] != "ok" and report["reason"] not in seen:
                seen.append(report["reason"])
        return seen


METRICS: dict[str, Callable[[dict[str, Any]], float]] = {
    "rps": lambda r: r["requests"] / r["wall_s"],
    "cpu_us": lambda r: r["cpu_s"] / r["requests"] * 1e6,
    "mbps": lambda r: r["bytes"] / r["wall_s"] / 1e6,
    "cpu_gib": lambda r: r["cpu_s"] / (r["bytes"] / GIB),
    "rss": lambda r: r["peak_rss_kib"] / 1024,
    # Only in --snapshot reports: at the end of the run, pool still open.
    "end_rss_kib": lambda r: r["rss_kib"],
    "connections": lambda r: r["connections"] if r["connections"] is not None else float("nan"),
}


def throughput_metrics(workload: Workload) -> tuple[str, str]:
    """(throughput, CPU per unit of work): the two figures that matter for `workload`."""
    return ("mbps", "cpu_gib") if workload.download else ("rps", "cpu_us")


def fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def results_table(cells: Sequence[Cell]) -> list[str]:
    lines = [
        "| Workload | Client | requests/s | CPU µs/request | MB/s | CPU s/GiB | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        head = f"| {cell.workload.name} | {cell.client.name} |"
        if not cell.ok:
            statuses = {r["status"] for r in cell.reports}
            word = "n/a" if statuses == {"unsupported"} else "failed"
            lines.append(f"{head} {word} | {word} | {word} | {word} | {word} |")
            continue
        if cell.workload.download:
            speed = f" — | — | {fmt(cell.median('mbps'), 1)} | {fmt(cell.median('cpu_gib'), 2)} |"
        else:
            speed = f" {fmt(cell.median('rps'), 0)} | {fmt(cell.median('cpu_us'), 0)} | — | — |"
        lines.append(f"{head}{speed} {fmt(cell.median('rss'), 1)} |")
    return lines


def ratio_table(cells: Sequence[Cell]) -> list[str]:
    lines = [
        "| Workload | httpcore client | peer | throughput ÷ peer | CPU per unit ÷ peer "
        "| peak RSS ÷ peer |",
        "|---|---|---|---:|---:|---:|",
    ]
    for workload in dict.fromkeys(cell.workload for cell in cells):
        here = [c for c in cells if c.workload == workload and c.ok]
        speed, cost = throughput_metrics(workload)
        unit = "MB/s" if workload.download else "req/s"
        per = "CPU/GiB" if workload.download else "CPU/req"
        for ours in (c for c in here if c.client.ours):
            for peer in (c for c in here if not c.client.ours):
                lines.append(
                    f"| {workload.name} | {ours.client.name} | {peer.client.name} "
                    f"| {unit} {ours.median(speed) / peer.median(speed):.2f} "
                    f"| {per} {ours.median(cost) / peer.median(cost):.2f} "
                    f"| {ours.median('rss') / peer.median('rss'):.2f} |"
                )
    return lines


def series_label(workload: Workload) -> str:
    return {"h1": "HTTP/1.1", "h2": "HTTP/2", "h2c": "h2c"}[workload.protocol] + (
        " TLS" if workload.tls and workload.protocol == "h1" else ""
    )


def scale_tables(cells: Sequence[Cell]) -> list[str]:
    """The scale series per protocol and client: CPU µs/request, then peak RSS, by concurrency."""
    scale = [c for c in cells if c.workload.family == "scale"]
    if not scale:
        return []
    levels = sorted({c.workload.concurrency for c in scale})
    rows: dict[tuple[str, str], dict[int, Cell]] = {}
    for cell in scale:
        key = (series_label(cell.workload), cell.client.name)
        rows.setdefault(key, {})[cell.workload.concurrency] = cell
    low, high = 64, max(levels)
    growth = low in levels and high > low
    head = " | ".join(f"{n:,}-way" for n in levels)
    lines = [
        "CPU µs per request (median), by number of requests in flight"
        + (f"; growth is {high:,}-way ÷ {low}-way (target: at most 1.5)" if growth else "")
        + "; conns is the connections to the server open at the end of the highest level.",
        "",
        f"| protocol | client | {head} |"
        + (f" growth {low}→{high:,} |" if growth else "")
        + " conns |",
        "|---|---|" + "---:|" * len(levels) + ("---:|" if growth else "") + "---:|",
    ]

    def value(cells_by_n: dict[int, Cell], n: int, metric: str, digits: int) -> str:
        cell = cells_by_n.get(n)
        if cell is None:
            return "—"
        if not cell.ok:
            statuses = {r["status"] for r in cell.reports}
            return "n/a" if statuses == {"unsupported"} else "failed"
        return fmt(cell.median(metric), digits)

    for (label, client), by_n in rows.items():
        cols = [value(by_n, n, "cpu_us", 0) for n in levels]
        line = f"| {label} | {client} | " + " | ".join(cols) + " |"
        if growth:
            a, b = by_n.get(low), by_n.get(high)
            ratio = (
                f"{b.median('cpu_us') / a.median('cpu_us'):.2f}x"
                if a is not None and b is not None and a.ok and b.ok
                else "—"
            )
            line += f" {ratio} |"
        top = by_n.get(max(by_n))
        conns = fmt(top.median("connections"), 0) if top is not None and top.ok else "—"
        lines.append(line + f" {conns} |")
    lines += [
        "",
        "Peak RSS MiB (median), by number of requests in flight.",
        "",
        f"| protocol | client | {head} |",
        "|---|---|" + "---:|" * len(levels),
    ]
    for (label, client), by_n in rows.items():
        cols = [value(by_n, n, "rss", 1) for n in levels]
        lines.append(f"| {label} | {client} | " + " | ".join(cols) + " |")
    return lines


def idle_table(cells: Sequence[Cell]) -> list[str]:
    """RSS per idle pooled connection: (RSS with many idle - RSS with one) / (connections - 1)."""
    idle = [c for c in cells if c.workload.family == "idle" and c.ok]
    if not idle:
        return []
    rows: dict[tuple[str, str], dict[int, Cell]] = {}
    for cell in idle:
        key = (series_label(cell.workload), cell.client.name)
        rows.setdefault(key, {})[cell.workload.concurrency] = cell
    lines = [
        "RSS (median, after `gc.collect()`) while the pool holds the connections idle; "
        "per connection = (RSS at most - RSS at fewest) ÷ (difference in measured "
        "connections).",
        "",
        "| protocol | client | idle conns | RSS MiB | idle conns | RSS MiB "
        "| KiB per idle connection |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (label, client), by_n in rows.items():
        if len(by_n) < 2:
            continue
        few, many = by_n[min(by_n)], by_n[max(by_n)]
        conns_few, conns_many = few.median("connections"), many.median("connections")
        rss_few, rss_many = few.median("end_rss_kib"), many.median("end_rss_kib")
        extra = conns_many - conns_few
        per = fmt((rss_many - rss_few) / extra, 1) if extra > 0 else "—"
        lines.append(
            f"| {label} | {client} | {fmt(conns_few, 0)} | {fmt(rss_few / 1024, 1)} "
            f"| {fmt(conns_many, 0)} | {fmt(rss_many / 1024, 1)} | {per} |"
        )
    return lines


def environment_lines(
    server: Server, cells: Sequence[Cell], args: argparse.Namespace, cpus: tuple[int | None, ...]
) -> list[str]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1) if found else ""
    libraries = sorted({r["library"] for c in cells for r in c.reports if r.get("library")})
    commit = subprocess.run(
        ["git", "-C", str(REPO_DIR), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    server_cpu, client_cpu = cpus
    pinning = (
        f"nginx on CPU {server_cpu}, clients on CPU {client_cpu} (taskset)"
        if server_cpu is not None
        else "off (fewer than two CPUs, or taskset missing)"
    )
    return [
        f"- date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.platform()}; {os.cpu_count()} CPUs; {model}",
        f"- pinning: {pinning}",
        f"- Python {platform.python_version()}; nginx {'.'.join(map(str, server.version))}; "
        f"httpcore at {commit or 'unknown commit'}",
        f"- libraries: {', '.join(libraries)}",
        f"- repetitions: {args.repeat} (downloads: {args.download_repeat}); medians shown"
        + (f"; quick mode (request counts divided by {QUICK_DIVISOR})" if args.quick else ""),
    ]


def render_report(
    server: Server,
    cells: Sequence[Cell],
    args: argparse.Namespace,
    cpus: tuple[int | None, ...],
    profiles: Sequence[tuple[str, str]],
) -> str:
    lines = ["# httpcore benchmark", ""]
    lines += environment_lines(server, cells, args, cpus)
    lines += ["", "## Workloads", ""]
    for workload in dict.fromkeys(cell.workload for cell in cells):
        lines.append(f"- `{workload.name}`: {workload.describe()}")
    lines += ["", "## Results (medians)", ""]
    lines += results_table(cells)
    lines += [
        "",
        "## httpcore ÷ peers",
        "",
        "Throughput (req/s, or MB/s for downloads) above 1 means httpcore is faster; "
        "CPU per unit of work (CPU µs per request, or CPU s per GiB) and peak RSS "
        "below 1 mean httpcore spends less.",
        "",
    ]
    lines += ratio_table(cells)
    scale = scale_tables(cells)
    if scale:
        lines += ["", "## Scale: cost by concurrency", "", *scale]
    idle = idle_table(cells)
    if idle:
        lines += ["", "## RSS per idle pooled connection", "", *idle]
    notes = [
        f"- {cell.workload.name} / {cell.client.name}: {problem}"
        for cell in cells
        for problem in cell.problems()
    ]
    if notes:
        lines += ["", "## n/a and failures", "", *notes]
    if profiles:
        lines += [
            "",
            "## Profiles",
            "",
            "cProfile of httpcore-trio, one run per workload (profiling slows it down), "
            "functions by tottime, then tottime by package.",
        ]
        for title, text in profiles:
            lines += ["", f"### {title}", "", "```", text.strip("\n"), "```"]
    return "\n".join(lines) + "\n"


def shorten_paths(text: str) -> str:
    """Profile lines without machine paths: repository-relative, or from site-packages on."""
    text = text.replace(str(REPO_DIR) + os.sep, "")
    text = re.sub(r"\S*[/\\]site-packages[/\\]", "", text)
    return re.sub(r"\S*[/\\]lib[/\\]python\d+\.\d+[/\\]", "", text)


# --- main --------------------------------------------------------------------


def pick(names: str | None, known: Sequence[Any], what: str) -> list[Any]:
    if not names:
        return list(known)
    by_name = {item.name: item for item in known}
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        sys.exit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(by_name)})")
    return [by_name[name] for name in wanted]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="workloads: " + ",".join(w.name for w in WORKLOADS))
    parser.add_argument("--clients", help="clients: " + ",".join(c.name for c in CLIENTS))
    parser.add_argument("--repeat", type=int, help="repetitions (default 3; 1 with --quick)")
    parser.add_argument(
        "--download-repeat", type=int, help="repetitions of the downloads (default: --repeat)"
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"request counts divided by {QUICK_DIVISOR}"
    )
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    parser.add_argument("--json", type=Path, help="write every run's JSON report here")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="also profile httpcore-trio once on each workload; report the top N functions",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed to one client run"
    )
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.download_repeat is None:
        args.download_repeat = args.repeat
    if args.repeat < 1 or args.download_repeat < 1:
        parser.error("repetitions must be at least 1")
    return args


def choose_cpus() -> tuple[int | None, int | None]:
    """(server CPU, client CPU), or no pinning when that is impossible."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2 or shutil.which("taskset") is None:
        log("warning: not pinning (needs two CPUs and taskset)")
        return None, None
    return cpus[0], cpus[1]


def summary(report: dict[str, Any], workload: Workload) -> str:
    if report["status"] != "ok":
        return f"{report['status']}: {report['reason']}"
    speed, cost = throughput_metrics(workload)
    units = {"rps": "req/s", "cpu_us": "CPU µs/req", "mbps": "MB/s", "cpu_gib": "CPU s/GiB"}
    return (
        f"{METRICS[speed](report):,.1f} {units[speed]}, "
        f"{METRICS[cost](report):,.2f} {units[cost]}, {METRICS['rss'](report):.0f} MiB"
    )


def raise_open_files() -> None:
    """Lift this process's open-file limit (inherited by nginx and the clients) if it is low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < OPEN_FILES:
        log(f"warning: at most {wanted} open files: the 2,000-way workloads may fail")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files()
    workloads: list[Workload] = pick(args.only, WORKLOADS, "workload")
    if args.quick:
        workloads = [
            w if w.download else replace(w, count=max(w.count // QUICK_DIVISOR, w.concurrency))
            for w in workloads
        ]
    clients: list[ClientSpec] = pick(args.clients, CLIENTS, "client")
    cells = [Cell(w, c) for w in workloads for c in clients if c.runs(w)]
    if not cells:
        sys.exit("no client runs any of these workloads")
    peers = ensure_peers_venv() if any(not c.client.ours for c in cells) else None
    pythons = Interpreters(sys.executable, str(peers) if peers else None)
    server_cpu, client_cpu = choose_cpus()

    with running_nginx(server_cpu) as server:
        rounds = max(args.repeat, args.download_repeat)
        for rep in range(rounds):
            # Repetitions are the outer loop, so that a slow spell of the machine
            # spreads over every client instead of hitting one.
            for cell in cells:
                limit = args.download_repeat if cell.workload.download else args.repeat
                if rep >= limit:
                    continue
                command = client_command(cell.client, cell.workload, server, pythons, client_cpu)
                report = run_client(command, cell.workload, server.workdir, args.timeout)
                cell.reports.append(report)
                log(
                    f"[{rep + 1}/{rounds}] {cell.workload.name:9} {cell.client.name:14} "
                    f"{summary(report, cell.workload)}"
                )
                if report["status"] == "error" and report.get("stderr"):
                    log(report["stderr"].rstrip())

        profiles: list[tuple[str, str]] = []
        if args.profile:
            ours = next(c for c in CLIENTS if c.name == "httpcore-trio")
            for workload in workloads:
                command = client_command(ours, workload, server, pythons, client_cpu, args.profile)
                log(f"profiling {ours.name} on {workload.name}")
                report = run_client(command, workload, server.workdir, args.timeout)
                title = f"`{workload.name}` ({workload.describe()})"
                text = report.get("stderr", "") or report.get("reason", "")
                profiles.append((title, shorten_paths(text)))

        markdown = render_report(server, cells, args, (server_cpu, client_cpu), profiles)

    print(markdown)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(markdown)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        raw = [
            {"workload": c.workload.name, "client": c.client.name, "runs": c.reports} for c in cells
        ]
        args.json.write_text(json.dumps(raw, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
