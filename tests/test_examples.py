"""Each script of examples/ runs against the local servers, so none can rot."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import trio

import httpcore
from tests.servers import ServerThread

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# -- the crawler ---------------------------------------------------------------------

# /site?n=K links to 2K+1 and 2K+2 up to 30 (tests/apps.py): 31 pages, of which
# 13 answers 500 and 14 answers 404, so their children (27 to 30) are never found.
REACHABLE = {*range(13), *range(15, 27)}


def test_crawler(server: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    crawler = load("crawler")
    status = crawler.main([f"{server.url}/site?n=0", "--per-host", "3", "--timeout", "10"])
    out, err = capsys.readouterr()
    assert status == 1  # two pages failed
    lines = out.splitlines()
    ok = {int(line.split("n=")[1]) for line in lines if line.startswith("200 ")}
    assert ok == REACHABLE
    assert f"ERR {server.url}/site?n=13: HTTP 500" in lines
    assert f"ERR {server.url}/site?n=14: HTTP 404" in lines
    assert "elsewhere.invalid" not in out  # other hosts are not crawled
    assert "2 errors" in err.splitlines()[-1]


def test_crawler_limits_and_errors(server: ServerThread) -> None:
    crawler = load("crawler")
    result = trio.run(
        lambda: crawler.crawl(f"{server.url}/site", max_pages=5, per_host=1, progress=False)
    )
    assert len(result.pages) + len(result.errors) == 5
    # A refused connection is an error of the page, not of the crawl.
    result = trio.run(lambda: crawler.crawl("http://127.0.0.1:9/", progress=False))
    assert result.pages == {}
    assert result.errors["http://127.0.0.1:9/"].startswith("ConnectError")


# -- the download manager ------------------------------------------------------------


def pattern(size: int) -> bytes:
    block = bytes(range(256)) * 4096
    return (block * (size // len(block) + 1))[:size]


def test_download_resumes_with_range(nginx: Any, tmp_path: Path) -> None:
    download = load("download")
    url = f"{nginx.http_url}/big.bin"
    options = {"timeout": 30}
    # The first run is interrupted after ~1 MiB.
    first = trio.run(lambda: download.download_all([url], tmp_path, stop_after=1 << 20, **options))
    assert not first[0].complete
    partial = tmp_path / "big.bin.part"
    kept = partial.stat().st_size
    assert kept >= 1 << 20
    assert (tmp_path / "big.bin.part.validator").read_text().startswith('"')  # nginx's ETag
    # The second run asks for the rest only.
    second = trio.run(lambda: download.download_all([url], tmp_path, **options))
    assert second[0].complete
    assert second[0].resumed_from == kept
    assert second[0].received == nginx.big_size - kept
    data = (tmp_path / "big.bin").read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(pattern(nginx.big_size)).digest()
    assert not partial.exists()


def test_download_restarts_when_the_file_changed(nginx: Any, tmp_path: Path) -> None:
    download = load("download")
    (tmp_path / "small.json.part").write_bytes(b"stale bytes of an older version")
    (tmp_path / "small.json.part.validator").write_text('"an-old-etag"')
    done = trio.run(lambda: download.download_all([f"{nginx.http_url}/small.json"], tmp_path))
    assert done[0].complete and done[0].resumed_from == 0
    assert json.loads((tmp_path / "small.json").read_bytes()) == {"hello": "world", "n": 1}


def test_download_without_range_support_and_failures(
    server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hypercorn's test app ignores Range: the download starts again; a 404 is reported."""
    download = load("download")
    (tmp_path / "4096.part").write_bytes(b"x" * 100)
    (tmp_path / "4096.part.validator").write_text("Mon, 01 Jan 2024 00:00:00 GMT")
    status = download.main(
        [f"{server.url}/pattern/4096", f"{server.url}/status/404", "--dir", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert (tmp_path / "4096").read_bytes() == pattern(4096)
    assert "4096: 4096 bytes received" in out
    assert "404 Not Found" in err


def test_download_of_a_whole_part_file(nginx: Any, tmp_path: Path) -> None:
    """A .part that is already whole gets a 416 and is simply completed."""
    download = load("download")
    url = f"{nginx.http_url}/small.json"
    body = httpcore.get(url).content
    (tmp_path / "small.json.part").write_bytes(body)
    (tmp_path / "small.json.part.validator").write_text(httpcore.head(url).headers["etag"])
    done = trio.run(lambda: download.download_all([url], tmp_path))
    assert done[0].complete and done[0].resumed_from == len(body) and done[0].received == 0
    assert (tmp_path / "small.json").read_bytes() == body
    assert not (tmp_path / "small.json.part.validator").exists()


# -- the streaming upload ------------------------------------------------------------


def test_upload(server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    upload = load("upload")
    path = tmp_path / "build.bin"
    data = pattern(3_000_000)
    path.write_bytes(data)
    status = upload.main([f"{server.url}/multipart", str(path), "--field", "note=nightly build"])
    out, err = capsys.readouterr()
    assert status == 0
    code, _, body = out.partition(" ")
    assert code == "200"
    fields = json.loads(body)
    assert fields["file"] == {
        "filename": "build.bin",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    assert fields["note"]["size"] == len("nightly build")
    assert err.strip().endswith("100% sent")


# -- asyncio -------------------------------------------------------------------------


def test_asyncio_example(server: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    example = load("asyncio_fetch")
    urls = [f"{server.url}/", f"{server.url}/status/404", "http://127.0.0.1:9/"]
    assert example.main(urls) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"200 {server.url}/" in lines
    assert f"404 {server.url}/status/404" in lines
    assert any(line.startswith("ConnectError") for line in lines)
