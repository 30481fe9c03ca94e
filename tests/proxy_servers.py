"""Real proxy servers on loopback for the proxy tests, each started once per session.

- tinyproxy (Debian package): an HTTP proxy that forwards and tunnels
  (CONNECT), open or with ``BasicAuth user pass``; its log has a line per
  request (``Request (file descriptor N): GET http://... HTTP/1.1``).
- pproxy (PyPI): a SOCKS5 server, open or with user ``user`` password
  ``pass``; with ``-v`` it logs each target (``socks5 127.0.0.1:x -> host:port``).
- nginx's ``stream`` module as a TLS front: an ``https://`` proxy whose TLS
  ends in nginx and whose HTTP proxying is done by tinyproxy behind it.

Each process is stopped by its PID at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

USER = "user"
PASSWORD = "pass"

TINYPROXY_CONFIG = """
Port {port}
Listen 127.0.0.1
Timeout 60
LogFile "{root}/tinyproxy.log"
LogLevel Connect
PidFile "{root}/tinyproxy.pid"
MaxClients 200
Allow 127.0.0.1
DisableViaHeader Yes
{auth}
"""

NGINX_STREAM_CONFIG = """
{user}
load_module {module};
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
stream {{
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {root}/proxy.pem;
        ssl_certificate_key {root}/proxy.key;
        proxy_pass 127.0.0.1:{backend_port};
    }}
}}
"""
NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


@dataclass
class ProxyServer:
    """A running proxy: its URL (without credentials) and its log file."""

    url: str
    port: int
    log: Path
    _offset: int = field(default=0, repr=False)

    def mark(self) -> None:
        """Remember the end of the log: `new_lines()` returns what comes after."""
        self._offset = self.log.stat().st_size if self.log.exists() else 0

    def new_lines(self) -> list[str]:
        """Log lines written since `mark()`, once the log has stopped growing
        for 50 ms (at most 2 s): the proxy may still be writing."""
        size = -1
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            time.sleep(0.05)
            new_size = self.log.stat().st_size
            if new_size == size:
                break
            size = new_size
        with open(self.log, "rb") as f:
            f.seek(self._offset)
            return f.read().decode("utf-8", "replace").splitlines()

    def url_with(self, userinfo: str) -> str:
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{userinfo}@{rest}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"{name} exited: {text}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start listening")


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:  # only if the proxy hangs
        process.kill()
        process.wait(10)


def start_tinyproxy(root: Path, *, auth: bool = False) -> Iterator[ProxyServer]:
    binary = shutil.which("tinyproxy") or (
        "/usr/bin/tinyproxy" if os.path.exists("/usr/bin/tinyproxy") else None
    )
    if binary is None:
        _missing("tinyproxy")
    port = free_port()
    config = root / "tinyproxy.conf"
    config.write_text(
        TINYPROXY_CONFIG.format(
            port=port, root=root, auth=f"BasicAuth {USER} {PASSWORD}" if auth else ""
        )
    )
    log = root / "tinyproxy.log"
    process = subprocess.Popen(
        [str(binary), "-d", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "tinyproxy", log)
        yield ProxyServer(url=f"http://127.0.0.1:{port}", port=port, log=log)
    finally:
        _stop(process)


# pproxy installs uvloop when it can, and uvloop's loop cannot start the way
# pproxy starts it on Python 3.11+: run it on asyncio's own loop.
PPROXY_MAIN = (
    "import sys, warnings; warnings.simplefilter('ignore'); sys.modules['uvloop'] = None; "
    "from pproxy.server import main; sys.argv = ['pproxy', *sys.argv[1:]]; main()"
)


def start_pproxy(root: Path, *, auth: bool = False) -> Iterator[ProxyServer]:
    try:
        import pproxy  # noqa: F401
    except ImportError:
        _missing("pproxy")
    port = free_port()
    listen = f"socks5://127.0.0.1:{port}" + (f"#{USER}:{PASSWORD}" if auth else "")
    log = root / "pproxy.log"
    with open(log, "wb") as out:
        # --auth 0: ask every connection for credentials (pproxy otherwise
        # trusts an address that authenticated once, for 30 days).
        process = subprocess.Popen(
            [sys.executable, "-u", "-c", PPROXY_MAIN, "-l", listen, "-v", "--auth", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, "pproxy", log)
        yield ProxyServer(url=f"socks5://127.0.0.1:{port}", port=port, log=log)
    finally:
        _stop(process)


def start_tls_front(root: Path, ca: trustme.CA, backend: ProxyServer) -> Iterator[ProxyServer]:
    """nginx terminating TLS on a port of its own and passing the bytes to `backend`."""
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if binary is None or not os.path.exists(NGINX_STREAM_MODULE):
        _missing("nginx with the stream module (libnginx-mod-stream)")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "proxy.key"))
    cert.cert_chain_pems[0].write_to_path(str(root / "proxy.pem"))
    port = free_port()
    config = root / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    config.write_text(
        NGINX_STREAM_CONFIG.format(
            user=user,
            module=NGINX_STREAM_MODULE,
            root=root,
            port=port,
            backend_port=backend.port,
        )
    )
    process = subprocess.Popen(
        [str(binary), "-c", str(config), "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process, "nginx", root / "error.log")
        # The log that tells what the proxy did is the backend's.
        yield ProxyServer(url=f"https://127.0.0.1:{port}", port=port, log=backend.log)
    finally:
        _stop(process)
