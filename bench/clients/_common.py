"""Shared by the client scripts: their command line, the measurement and the JSON report.

Each client script parses its arguments with `parse_args`, then hands a
blocking callable that performs the whole workload (client creation included)
to `measure`, which prints one JSON object on stdout:

    {"status": "ok", "wall_s": ..., "cpu_s": ..., "bytes": ..., "requests": ...,
     "peak_rss_kib": ..., "ru_maxrss_kib": ..., "library": "name version"}

With `--snapshot`, the script calls `snapshot` once its requests are done and
before it closes its client, which adds "rss_kib" (the resident set then,
after a `gc.collect()`) and "connections" (this process's TCP connections to
the server's port, as /proc sees them) to the report; the CPU that the
snapshot itself takes is left out of "cpu_s".

`status` is "unsupported" (with a `reason`) when the client cannot run the
workload, for instance a protocol it does not speak yet, and "error" (with a
`reason`, exit status 1) when the run failed.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import re
import resource
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROTOCOLS = ("h1", "h2", "h2c")


class Unsupported(Exception):
    """The client cannot run this workload; reported as "n/a", not as a failure."""


@dataclass(frozen=True)
class Job:
    """One workload as the orchestrator describes it."""

    url: str
    count: int
    concurrency: int
    protocol: str
    variant: str
    cafile: str | None
    download: bool
    chunk_size: int
    profile: int
    snapshot: bool = False

    @property
    def port(self) -> int:
        parsed = urllib.parse.urlsplit(self.url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    @property
    def is_tls(self) -> bool:
        return self.url.startswith("https:")

    @property
    def wants_http2(self) -> bool:
        return self.protocol in ("h2", "h2c")


@dataclass
class Tally:
    """What a workload has done so far."""

    requests: int = 0
    bytes: int = 0
    # Filled in by `snapshot`.
    rss_kib: int | None = None
    connections: int | None = None
    snapshot_cpu_s: float = 0.0

    def add(self, status: int, num_bytes: int) -> None:
        """Count one response; a status other than 200 fails the run."""
        if status != 200:
            raise RuntimeError(f"unexpected status {status}")
        self.requests += 1
        self.bytes += num_bytes


def parse_args(variants: tuple[str, ...]) -> Job:
    """Parse the command line shared by every client script."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True, help="number of requests")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--protocol", choices=PROTOCOLS, required=True)
    parser.add_argument("--variant", choices=variants, required=True)
    parser.add_argument("--cafile", help="CA bundle to trust for https URLs")
    parser.add_argument("--download", action="store_true", help="stream the body, do not keep it")
    parser.add_argument(
        "--chunk-size", type=int, required=True, help="read size, for APIs that need one"
    )
    parser.add_argument(
        "--profile", type=int, default=0, help="print the top N functions by tottime to stderr"
    )
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="report RSS and connections to the server once the requests are done",
    )
    ns = parser.parse_args()
    return Job(
        url=ns.url,
        count=ns.count,
        concurrency=ns.concurrency,
        protocol=ns.protocol,
        variant=ns.variant,
        cafile=ns.cafile,
        download=ns.download,
        chunk_size=ns.chunk_size,
        profile=ns.profile,
        snapshot=ns.snapshot,
    )


def shared_counter(count: int) -> Iterator[int]:
    """One iterator that all workers of a run pull request numbers from."""
    return iter(range(count))


def threaded_counter(count: int) -> Callable[[], bool]:
    """For workers in threads: `take()` claims one request, False once all are claimed."""
    lock = threading.Lock()
    left = count

    def take() -> bool:
        nonlocal left
        with lock:
            if left == 0:
                return False
            left -= 1
            return True

    return take


def run_threads(concurrency: int, worker: Callable[[], None]) -> None:
    """`worker` in `concurrency` threads at once; re-raises the first error any of them hit."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            worker()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def snapshot(job: Job, tally: Tally) -> None:
    """With --snapshot: note the resident set and the connections to the server, now.

    Called with the workload's requests done and its client still open, so
    its pooled connections are idle and still counted. Its own CPU time is
    subtracted from the run's.
    """
    if not job.snapshot:
        return
    before = resource.getrusage(resource.RUSAGE_SELF)
    gc.collect()
    tally.rss_kib = _status_kib("VmRSS:")
    tally.connections = connections_to(job.port)
    after = resource.getrusage(resource.RUSAGE_SELF)
    tally.snapshot_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def connections_to(port: int) -> int | None:
    """How many of this process's sockets are TCP connections to `port` (None without /proc)."""
    try:
        inodes = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
        found = 0
        for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
            if not os.path.exists(table):
                continue
            with open(table) as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    # rem_address is HEX_IP:HEX_PORT; state 01 is ESTABLISHED.
                    remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                    if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                        found += 1
        return found
    except OSError:
        return None


def _emit(report: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


def measure(
    job: Job, library: str, workload: Callable[[Tally], None], *, children: bool = False
) -> int:
    """Run `workload` once, timing it, and print the JSON report; returns the exit status.

    With `children`, the CPU time and peak RSS are those of the processes the
    workload ran (a command-line client), not this script's.
    """
    tally = Tally()
    profiler = cProfile.Profile() if job.profile else None
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    before = resource.getrusage(who)
    started = time.perf_counter()
    try:
        if profiler is not None:
            profiler.runcall(workload, tally)
        else:
            workload(tally)
    except BaseException as exc:
        unsupported = _find_unsupported(exc)
        if unsupported is not None:
            _emit({"status": "unsupported", "reason": str(unsupported), "library": library})
            return 0
        traceback.print_exc()
        _emit({"status": "error", "reason": describe(exc), "library": library})
        return 1
    wall = time.perf_counter() - started
    after = resource.getrusage(who)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu -= tally.snapshot_cpu_s
    if tally.requests != job.count:
        _emit(
            {
                "status": "error",
                "reason": f"{tally.requests} of {job.count} requests completed",
                "library": library,
            }
        )
        return 1
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(job.profile)
        sys.stderr.write(out.getvalue())
        sys.stderr.write(tottime_by_package(stats, job.profile))
    report: dict[str, Any] = {
        "status": "ok",
        "library": library,
        "wall_s": wall,
        "cpu_s": cpu,
        "bytes": tally.bytes,
        "requests": tally.requests,
        # A child's own VmHWM is gone with it: its ru_maxrss is all there is (KiB on Linux).
        "peak_rss_kib": after.ru_maxrss if children else peak_rss_kib(after),
        # Linux reports ru_maxrss in KiB.
        "ru_maxrss_kib": after.ru_maxrss,
    }
    if job.snapshot:
        if tally.rss_kib is None:
            _emit({"status": "error", "reason": "no snapshot was taken", "library": library})
            return 1
        report["rss_kib"] = tally.rss_kib
        report["connections"] = tally.connections
    _emit(report)
    return 0


def tottime_by_package(stats: pstats.Stats, limit: int) -> str:
    """The profile's own time summed per package (or stdlib module), the `limit` largest."""
    totals: dict[str, float] = {}
    entries: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, _, tottime, _, _) in entries.items():
        totals[_package_of(filename)] = totals.get(_package_of(filename), 0.0) + tottime
    overall = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    lines = ["   tottime  share  package"]
    for name, seconds in ranked[:limit]:
        lines.append(f"{seconds:10.3f} {seconds / overall:6.1%}  {name}")
    rest = sum(seconds for _, seconds in ranked[limit:])
    if rest:
        lines.append(f"{rest:10.3f} {rest / overall:6.1%}  (the other {len(ranked) - limit})")
    return "\n".join(lines) + "\n"


def _package_of(filename: str) -> str:
    if filename == "~":
        return "C built-ins"
    generated = re.match(r"<attrs generated \w+ (\w+)", filename)
    if generated:  # classes made by attrs: count them with their package
        return generated.group(1)
    if filename.startswith("<"):
        return filename
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    path = Path(filename)
    return path.parent.name if (path.parent / "__init__.py").exists() else path.stem


def peak_rss_kib(usage: resource.struct_rusage) -> int:
    """This process's peak resident set, in KiB.

    ru_maxrss is not used when /proc can answer: Linux carries it over from the
    parent across fork and exec, so every child of a larger orchestrator would
    report at least the orchestrator's size. VmHWM belongs to this image only.
    """
    found = _status_kib("VmHWM:")
    return usage.ru_maxrss if found is None else found


def _status_kib(field: str) -> int | None:
    """A KiB figure of /proc/self/status (VmRSS:, VmHWM:), or None without /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _find_unsupported(exc: BaseException) -> Unsupported | None:
    """`exc` itself, or the first `Unsupported` inside an exception group."""
    if isinstance(exc, Unsupported):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find_unsupported(inner)
            if found is not None:
                return found
    return None


def describe(exc: BaseException) -> str:
    """A one-line description of `exc`, following the chain of causes and groups."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__
    return " <- ".join(parts)
