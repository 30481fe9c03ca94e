"""The `httpcore` command against a real server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from httpcore.cli.main import main
from tests.servers import ServerThread

pytestmark = pytest.mark.usefixtures("h1_codec")


def test_get(server: ServerThread, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main([server.url + "/"]) == 0
    assert capsysbinary.readouterr().out == b"Hello, world!"


def test_include_head_and_post(
    server: ServerThread, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["-i", "-H", "X-A: 1", "-d", "payload", server.url + "/echo"]) == 0
    out = capsysbinary.readouterr().out
    head, _, body = out.partition(b"\n\n")
    assert head.startswith(b"HTTP/1.1 200 OK\n")
    data = json.loads(body)
    assert data["method"] == "POST"
    assert data["body"] == "payload"
    assert ["x-a", "1"] in data["headers"]


def test_json_and_method(server: ServerThread, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["-X", "PUT", "--json", '{"a": 1}', server.url + "/echo"]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    assert (data["method"], data["body"]) == ("PUT", '{"a":1}')


def test_no_follow(server: ServerThread, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["--no-follow", "-i", server.url + "/redirect?to=/"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"HTTP/1.1 302 Found\n")


def test_errors(server: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-H", "no-colon", server.url + "/"]) == 1
    assert "bad header" in capsys.readouterr().err
    assert main(["not a url"]) == 1
    assert "InvalidURL" in capsys.readouterr().err
    assert main(["--timeout", "0.2", server.url + "/slow?delay=5"]) == 1
    assert "ReadTimeout" in capsys.readouterr().err


def test_console_entry_point(server: ServerThread) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "httpcore", server.url + "/"], capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Hello, world!"


def test_python_dash_m(
    server: ServerThread,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    import runpy

    monkeypatch.setattr(sys, "argv", ["httpcore", server.url + "/"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("httpcore", run_name="__main__")
    assert info.value.code == 0
    assert capsysbinary.readouterr().out == b"Hello, world!"
