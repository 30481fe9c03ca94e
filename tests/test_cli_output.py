"""The command's downloads and its output on a terminal (in-process, terminals simulated).

`Terminal.from_sys` is replaced so that the captured streams count as
terminals; real terminals (a pty) are in test_cli_process.py.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from httpcore.cli import main
from httpcore.cli.download import human_bytes, human_time, safe_name
from httpcore.cli.output import Terminal, load_rich
from tests.servers import ServerThread
from tests.test_cli import Result, Run, one_line

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture
def tty(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> Callable[..., Run]:
    """`tty(stdout=True, stderr=True, rich=True)` gives a runner with those terminals."""

    def make(*, stdout: bool = True, stderr: bool = True, rich: bool = True) -> Run:
        def from_sys() -> Terminal:
            return Terminal(sys.stdout, sys.stderr, stdout, stderr, rich)

        monkeypatch.setattr(Terminal, "from_sys", staticmethod(from_sys))

        def run(*argv: str) -> Result:
            status = main(list(argv), stdin=io.BytesIO())
            captured = capsysbinary.readouterr()
            return Result(status, captured.out, captured.err.decode())

        return run

    return make


@pytest.fixture
def cli(capsysbinary: pytest.CaptureFixture[bytes]) -> Run:
    def run(*argv: str) -> Result:
        status = main(list(argv), stdin=io.BytesIO())
        captured = capsysbinary.readouterr()
        return Result(status, captured.out, captured.err.decode())

    return run


# -- terminals -----------------------------------------------------------------------


@pytest.mark.parametrize("rich", [True, False])
def test_json_is_pretty_on_a_terminal(tty: Any, server: ServerThread, rich: bool) -> None:
    result = tty(rich=rich)(server.url + "/json")
    assert plain(result.out.decode()) == '{\n  "b": [\n    1,\n    2\n  ],\n  "a": "x"\n}\n'
    assert (b"\x1b[" in result.out) is rich  # highlighted by rich only


def test_json_is_raw_on_a_pipe(cli: Run, server: ServerThread) -> None:
    assert cli(server.url + "/json").out == b'{"b": [1, 2], "a": "x"}'


def test_json_that_is_not_json(tty: Any, server: ServerThread) -> None:
    result = tty()(server.url + "/echo", "Accept:", "x:=1")  # /echo answers JSON: valid
    assert plain(result.out.decode()).startswith("{\n")
    # A "JSON" body that does not parse is written as it came.
    assert tty()(server.url + "/json", "body=={oops").out == b"{oops\n"


def test_binary_is_not_written_to_a_terminal(tty: Any, server: ServerThread) -> None:
    result = tty()(server.url + "/binary")
    assert (result.status, result.out) == (0, b"")
    assert one_line(result) == (
        "httpcore: binary body (image/png, 8 bytes) not shown on the terminal:"
        " use -o FILE, or redirect the output"
    )
    assert tty(stdout=False)(server.url + "/binary").out == b"\x89PNG\r\n\x00\x00"


def test_text_gets_a_final_newline_on_a_terminal(tty: Any, server: ServerThread) -> None:
    assert tty()(server.url + "/").out == b"Hello, world!\n"
    assert tty()(server.url + "/stream-lines/2").out == b"line 0\nline 1\n"


def test_coloured_heads_and_trace(tty: Any, server: ServerThread) -> None:
    result = tty()("-i", "-v", server.url + "/")
    out = result.out.decode()
    assert "\x1b[" in out
    assert plain(out).startswith("HTTP/1.1 200 OK\ncontent-type: text/plain\n")
    assert "\x1b[" in result.err
    assert "< HTTP/1.1 200 OK" in plain(result.err)
    result = tty()("-v", server.url + "/status/404")
    assert "< HTTP/1.1 404 Not Found" in plain(result.err)


def test_rich_progress_on_a_terminal(tty: Any, server: ServerThread) -> None:
    size = 3 * 1024 * 1024
    result = tty(stdout=False)(server.url + f"/bytes/{size}")
    assert result.out == b"x" * size  # only the body on stdout
    err = plain(result.err)
    assert "stdout" in err
    assert "3.1/3.1 MB" in err  # rich counts in decimal units
    # -s, or a body shown on the terminal itself: no bar.
    assert tty(stdout=False)("-s", server.url + "/bytes/10").err == ""
    assert tty()(server.url + "/").err == ""


def test_plain_progress_without_rich(tty: Any, server: ServerThread, tmp_path: Path) -> None:
    size = 3 * 1024 * 1024
    target = tmp_path / "out.bin"
    result = tty(rich=False)("-o", str(target), server.url + f"/bytes/{size}")
    assert target.read_bytes() == b"x" * size
    assert result.out == b""
    last = result.err.rsplit("\r", 1)[1]
    assert last.startswith(f"{target}  3.0 MiB / 3.0 MiB  100%  ")
    assert last.endswith("\x1b[K\n")
    # Unknown length: no total and no ETA.
    result = tty(rich=False, stdout=False)(server.url + "/stream-lines/3")
    assert result.err.rsplit("\r", 1)[1].startswith("stdout  21 B  ")


def test_plain_progress_updates_while_downloading(
    tty: Any, server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from httpcore.cli.download import PlainProgress

    monkeypatch.setattr(PlainProgress, "INTERVAL", 0.0)
    result = tty(rich=False, stdout=False)(server.url + "/bytes/300000?chunk=65536")
    assert result.err.count("\r") >= 3
    assert "ETA 0:00:00" in result.err


def test_load_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_rich() is True
    monkeypatch.setitem(sys.modules, "rich.console", None)
    assert load_rich() is False


def test_terminal_from_sys(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = Terminal.from_sys()
    assert (terminal.stdout_tty, terminal.stderr_tty) == (False, False)
    assert terminal.console(stderr=True) is None


# -- downloads -----------------------------------------------------------------------


def test_output_file(cli: Run, server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "page.txt"
    target.write_bytes(b"old content, longer than the new one")
    result = cli("-o", str(target), server.url + "/")
    assert (result.status, result.out, result.err) == (0, b"", "")
    assert target.read_bytes() == b"Hello, world!"
    assert cli("-o", "-", server.url + "/").out == b"Hello, world!"


def test_output_errors(cli: Run, server: ServerThread, tmp_path: Path) -> None:
    result = cli("-o", str(tmp_path / "no" / "file"), server.url + "/")
    assert result.status == 1
    assert one_line(result) == (
        f"httpcore: cannot write {tmp_path / 'no' / 'file'}: No such file or directory"
    )
    result = cli("-o", "/dev/full", server.url + "/bytes/100000")
    assert result.status == 1
    assert one_line(result) == "httpcore: cannot write /dev/full: No space left on device"


def test_error_status_is_saved_with_a_notice(
    cli: Run, server: ServerThread, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    result = cli("-o", str(target), server.url + "/nothing-here")
    assert result.status == 0
    assert one_line(result) == (
        f"httpcore: HTTP 404 Not Found: saving the error body to {target}"
        " (--fail to exit non-zero and save nothing)"
    )
    assert target.read_bytes() == b"not found"
    assert cli("--fail", "-o", str(tmp_path / "other"), server.url + "/nothing").status == 4
    assert not (tmp_path / "other").exists()


def test_download_names(
    cli: Run, server: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("-O", server.url + "/attachment").status == 0
    assert (tmp_path / "report.txt").read_bytes() == b"attached"
    # An existing file is never overwritten.
    assert cli("-O", server.url + "/attachment").status == 0
    assert (tmp_path / "report-1.txt").read_bytes() == b"attached"
    # A name that tries to leave the directory keeps only its last component.
    escape = 'attachment; filename="../../escape.txt"'
    cli("-O", server.url + "/attachment", "disposition==" + escape)
    assert (tmp_path / "escape.txt").exists()
    rfc5987 = "attachment; filename*=UTF-8''na%C3%AFve%20file.txt"
    cli("-O", server.url + "/attachment", "disposition==" + rfc5987)
    assert (tmp_path / "naïve file.txt").exists()
    # No usable name in the header: the URL's.
    cli("-O", server.url + "/attachment", "disposition==attachment; filename=..")
    assert (tmp_path / "attachment").exists()
    cli("-O", server.url + "/attachment", "disposition==inline")
    assert (tmp_path / "attachment-1").exists()
    cli("-O", server.url + "/stream-lines/2")
    assert (tmp_path / "2").read_bytes() == b"line 0\nline 1\n"
    cli("-O", server.url + "/")
    assert (tmp_path / "index.html").read_bytes() == b"Hello, world!"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2", "attachment", "attachment-1", "escape.txt", "index.html", "naïve file.txt",
        "report-1.txt", "report.txt",
    ]  # fmt: skip


def test_safe_names() -> None:
    assert safe_name("a/b/c.txt") == "c.txt"
    assert safe_name("..\\..\\c.txt") == "c.txt"
    assert safe_name(".bashrc") == "bashrc"
    assert safe_name("...") is None
    assert safe_name("a\nb") is None
    assert safe_name("") is None
    assert human_bytes(10) == "10 B"
    assert human_bytes(5 * 1024**4) == "5120.0 GiB"
    assert human_time(3725) == "1:02:05"


def test_no_free_name(cli: Run, server: ServerThread, tmp_path: Path, monkeypatch: Any) -> None:
    from httpcore.cli import download

    monkeypatch.chdir(tmp_path)

    def exists(*args: Any) -> Any:
        raise FileExistsError

    monkeypatch.setattr(download, "open", exists, raising=False)
    result = cli("-O", server.url + "/attachment")
    assert one_line(result) == "httpcore: cannot find a free file name for report.txt"


def check_pattern(data: bytes) -> None:
    block = bytes(range(256))
    assert data == (block * (len(data) // 256 + 1))[: len(data)]


def test_continue_with_nginx(
    cli: Run, nginx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = nginx.http_url + "/big.bin"
    target = tmp_path / "big.bin"
    target.write_bytes(bytes(range(256)) * 4096)  # the first MiB, as a cut download left it
    result = cli("-C", "-o", str(target), url)
    assert (result.status, result.err) == (0, "")
    assert target.stat().st_size == nginx.big_size
    check_pattern(target.read_bytes())
    result = cli("--continue", "-o", str(target), url)
    assert (result.status, one_line(result)) == (
        0,
        f"httpcore: {target} is already complete ({nginx.big_size} bytes)",
    )
    assert cli("-s", "--continue", "-o", str(target), url).err == ""
    # -O -C takes the name from the URL; with no partial file it is a plain download.
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert cli("-O", "-C", "--cacert", nginx.ca_file, nginx.https_url + "/small.json").status == 0
    assert (tmp_path / "cwd" / "small.json").read_bytes().startswith(b'{"hello"')


def test_continue_without_range_support(cli: Run, server: ServerThread, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"stale")
    result = cli("-C", "-o", str(target), server.url + "/")
    assert one_line(result) == (
        f"httpcore: the server cannot resume: downloading {target} from the start"
    )
    assert target.read_bytes() == b"Hello, world!"


def test_continue_with_a_wrong_range(cli: Run, tmp_path: Path) -> None:
    import socket
    import threading

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1/2\r\n"
                    b"Content-Length: 2\r\n\r\nab"
                )

        thread = threading.Thread(target=answer)
        thread.start()
        target = tmp_path / "file"
        target.write_bytes(b"abc")
        result = cli("-C", "-o", str(target), f"http://127.0.0.1:{port}/file")
        thread.join(10)
    assert result.status == 2
    assert one_line(result) == (
        f"httpcore: cannot resume http://127.0.0.1:{port}/file: asked for bytes from 3,"
        " got range bytes 0-1/2"
    )
    assert target.read_bytes() == b"abc"
