"""Benchmark client: the curl command (libcurl, nghttp2), a native-code reference.

One curl process runs the whole workload: the small-GET workloads are one
config file of `url`/`output` pairs, so curl reuses its connections
(`--parallel --parallel-max N` for N-way runs, `--parallel-max` at most 300);
downloads write to /dev/null. The CPU time and peak RSS are curl's, as the
kernel accounts them to this script's children.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import Job, Tally, Unsupported, measure, parse_args

VARIANTS = ("cli",)
# curl refuses a larger --parallel-max.
MAX_PARALLEL = 300


def command(job: Job, config: Path) -> list[str]:
    curl = shutil.which("curl")
    if curl is None:
        raise Unsupported("no curl command on PATH")
    args = [curl, "--silent", "--show-error", "--config", str(config)]
    args += ["--write-out", "%{http_code} %{size_download} %{http_version}\\n"]
    if job.protocol == "h1":
        args.append("--http1.1")
    else:
        args.append("--http2")
    if job.is_tls:
        args += ["--cacert", str(job.cafile)]
    if job.concurrency > 1:
        if job.concurrency > MAX_PARALLEL:
            raise Unsupported(f"curl runs at most {MAX_PARALLEL} transfers at once")
        args += ["--parallel", "--parallel-max", str(job.concurrency)]
    return args


def run(job: Job, tally: Tally) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-curl-") as tmp:
        config = Path(tmp) / "urls.conf"
        config.write_text(f'url = "{job.url}"\noutput = "/dev/null"\n' * job.count)
        done = subprocess.run(command(job, config), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"curl exited with status {done.returncode}: {done.stderr.strip()}")
    wanted = "1.1" if job.protocol == "h1" else "2"
    for line in done.stdout.splitlines():
        status, size, http_version = line.split()
        if http_version != wanted:
            raise RuntimeError(f"curl spoke HTTP/{http_version}, not HTTP/{wanted}")
        tally.add(int(status), int(size))


def main() -> int:
    job = parse_args(VARIANTS)
    found = shutil.which("curl")
    library = "curl"
    if found is not None:
        version = subprocess.run([found, "--version"], capture_output=True, text=True)
        library = " ".join(version.stdout.split()[:2])
    return measure(job, library, lambda tally: run(job, tally), children=True)


if __name__ == "__main__":
    sys.exit(main())
