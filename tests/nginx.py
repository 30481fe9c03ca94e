"""A real nginx on loopback for interop tests: HTTP/1.1, HTTPS with ALPN h2, and h2c."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

CONFIG = """
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    http2_max_concurrent_streams 1000;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{h2c_port} http2;
        listen 127.0.0.1:{https_port} ssl http2;
        ssl_certificate {root}/server.pem;
        ssl_certificate_key {root}/server.key;
        root {root}/www;
    }}
}}
"""


@dataclass
class Nginx:
    http_url: str
    h2c_url: str
    https_url: str
    ca_file: str
    big_size: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("nginx exited: " + (root / "error.log").read_text())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start listening")


def start_nginx(root: Path, ca: trustme.CA, big_size: int = 64 << 20) -> Iterator[Nginx]:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed")
    (root / "www").mkdir()
    (root / "tmp").mkdir()
    (root / "www" / "small.json").write_bytes(b'{"hello": "world", "n": 1}' + b" " * 74)
    (root / "www" / "medium.bin").write_bytes(bytes(range(256)) * 1024)  # 256 KiB
    block = bytes(range(256)) * 4096
    with open(root / "www" / "big.bin", "wb") as f:
        for _ in range(big_size // len(block)):
            f.write(block)
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    ports = {"http_port": _free_port(), "h2c_port": _free_port(), "https_port": _free_port()}
    config = root / "nginx.conf"
    # As root, nginx's workers would run as "nobody", who cannot read pytest's temp dirs.
    user = "user root;" if os.geteuid() == 0 else ""
    config.write_text(CONFIG.format(root=root, user=user, **ports))
    process = subprocess.Popen(
        [binary, "-c", str(config), "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for port in ports.values():
            _wait_for_port(port, process, root)
        yield Nginx(
            http_url=f"http://127.0.0.1:{ports['http_port']}",
            h2c_url=f"http://127.0.0.1:{ports['h2c_port']}",
            https_url=f"https://127.0.0.1:{ports['https_port']}",
            ca_file=str(root / "ca.pem"),
            big_size=big_size,
        )
    finally:
        process.terminate()
        process.wait(10)
