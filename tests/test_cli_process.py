"""The `httpcore` command as a separate process: real terminals (pty), Ctrl-C,
a closed pipe, a password prompt, rich missing, and memory use of a large download."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerThread

ROOT = Path(__file__).resolve().parent.parent
# Runs the command with rich hidden, as if the `cli` extra were not installed.
WITHOUT_RICH = (
    "import sys; sys.modules['rich'] = None; sys.modules['rich.console'] = None;"
    " from httpcore.cli import main; sys.exit(main())"
)


def command(*argv: str, without_rich: bool = False) -> list[str]:
    if without_rich:
        return [sys.executable, "-c", WITHOUT_RICH, *argv]
    return [sys.executable, "-m", "httpcore", *argv]


def environment() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TERM="xterm-256color", COLUMNS="100")
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM"):
        env.pop(name, None)
    return env


class PtyReader:
    """A pty whose output is collected by a thread (so the child never blocks on it)."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self.data = bytearray()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave end is closed
                return
            if not chunk:
                return
            self.data += chunk

    def close_slave(self) -> None:
        os.close(self.slave)

    def finish(self) -> bytes:
        self._thread.join(10)
        os.close(self.master)
        return bytes(self.data)


@pytest.fixture
def pty_reader() -> Iterator[PtyReader]:
    reader = PtyReader()
    yield reader
    if reader._thread.is_alive():
        os.close(reader.master)


@pytest.mark.parametrize("without_rich", [False, True])
def test_progress_on_a_terminal_and_only_the_body_on_stdout(
    server: ServerThread, pty_reader: PtyReader, without_rich: bool
) -> None:
    size = 8 * 1024 * 1024
    process = subprocess.Popen(
        command(server.url + f"/bytes/{size}", without_rich=without_rich),
        stdout=subprocess.PIPE,
        stderr=pty_reader.slave,
        env=environment(),
        cwd=ROOT,
    )
    pty_reader.close_slave()
    out, _ = process.communicate(timeout=60)
    err = pty_reader.finish().decode()
    assert process.returncode == 0, err
    assert out == b"x" * size
    if without_rich:
        assert "stdout  8.0 MiB / 8.0 MiB  100%" in err
    else:
        assert "8.4/8.4 MB" in err
        assert "\x1b[" in err  # drawn with terminal control sequences
    assert "Traceback" not in err


def test_download_to_a_file_leaves_the_terminal_stdout_empty(
    server: ServerThread, pty_reader: PtyReader, tmp_path: Path
) -> None:
    target = tmp_path / "out.bin"
    process = subprocess.Popen(
        command("-o", str(target), server.url + "/bytes/1000000"),
        stdout=pty_reader.slave,
        stderr=subprocess.PIPE,
        env=environment(),
        cwd=ROOT,
    )
    pty_reader.close_slave()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert pty_reader.finish() == b""
    assert err == b""  # stderr is a pipe: no bar
    assert target.read_bytes() == b"x" * 1000000


def test_pretty_json_on_a_terminal_without_rich(
    server: ServerThread, pty_reader: PtyReader
) -> None:
    process = subprocess.Popen(
        command(server.url + "/json", without_rich=True),
        stdout=pty_reader.slave,
        stderr=subprocess.PIPE,
        env=environment(),
        cwd=ROOT,
    )
    pty_reader.close_slave()
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (0, b"")
    assert pty_reader.finish() == b'{\r\n  "b": [\r\n    1,\r\n    2\r\n  ],\r\n  "a": "x"\r\n}\r\n'


@pytest.mark.parametrize("to_file", [False, True])
def test_ctrl_c_exits_130_quietly(
    server: ServerThread, pty_reader: PtyReader, tmp_path: Path, to_file: bool
) -> None:
    target = tmp_path / "partial"
    argv = ["-o", str(target)] if to_file else []
    process = subprocess.Popen(
        command(*argv, server.url + "/slow-body?delay=30"),
        stdout=subprocess.PIPE,
        stderr=pty_reader.slave,  # a terminal: the progress bar is up when Ctrl-C comes
        env=environment(),
        cwd=ROOT,
    )
    pty_reader.close_slave()
    assert process.stdout is not None
    try:
        if to_file:
            deadline = time.monotonic() + 20
            while b"partial" not in pty_reader.data:  # the bar is up: the body has begun
                assert time.monotonic() < deadline, "the download did not start"
                time.sleep(0.02)
        else:
            assert process.stdout.read(5) == b"first"  # the body is written as it arrives
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 130
        assert process.stdout.read() == b""
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    err = pty_reader.finish().decode()
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    if to_file:
        assert target.read_bytes() == b"first"  # kept, for --continue


def test_closed_pipe_is_quiet(server: ServerThread) -> None:
    process = subprocess.Popen(
        command(server.url + f"/bytes/{20 * 1024 * 1024}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10) == b"x" * 10
    process.stdout.close()  # as `| head -c 10` does
    assert process.wait(30) == 1
    assert process.stderr.read() == b""
    process.stderr.close()


def test_password_prompt_does_not_echo(server: ServerThread) -> None:
    # The child makes the pty its controlling terminal, where getpass asks.
    launcher = (
        "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
        " os.execv(sys.executable, [sys.executable, '-m', 'httpcore'] + sys.argv[1:])"
    )
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, "-a", "user", server.url + "/basic-auth"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=environment(),
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 20
    while b"Password for user@127.0.0.1: " not in seen:
        assert time.monotonic() < deadline, seen
        seen += os.read(master, 1024)
    os.write(master, b"pass\n")
    out, _ = process.communicate(timeout=30)
    try:
        while chunk := os.read(master, 1024):
            seen += chunk
    except OSError:
        pass
    os.close(master)
    assert (process.returncode, out) == (0, b"authenticated")
    assert b"pass\r" not in seen.replace(b"Password", b"")


def test_console_entry_point(server: ServerThread) -> None:
    result = subprocess.run(
        command(server.url + "/"), capture_output=True, timeout=30, env=environment(), cwd=ROOT
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"Hello, world!", b"")


def test_python_dash_m_in_process(
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


# Runs the command and, at exit, writes its peak RSS (VmHWM, KiB) to stderr. Not
# getrusage(RUSAGE_CHILDREN): Linux counts in a child's ru_maxrss the memory of the
# process it was forked from, up to its exec, so a large test runner inflates it.
MEASURED = (
    "import atexit, runpy, sys\n"
    "def report():\n"
    "    status = open('/proc/self/status').read()\n"
    "    sys.stderr.write(status.split('VmHWM:')[1].split()[0])\n"
    "atexit.register(report)\n"
    "sys.argv = ['httpcore', *sys.argv[1:]]\n"
    "runpy.run_module('httpcore', run_name='__main__')\n"
)


def peak_rss_of(*argv: str) -> tuple[int, int]:
    """Run the command; return (exit status, its peak RSS in bytes)."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=environment(),
        cwd=ROOT,
        timeout=120,
    )
    return result.returncode, int(result.stderr) * 1024


def test_large_download_runs_in_constant_memory(server: ServerThread, tmp_path: Path) -> None:
    size = 200 * 1024 * 1024
    target = tmp_path / "big.bin"
    status, peak = peak_rss_of("-o", str(target), server.url + f"/bytes/{size}?chunk={1 << 20}")
    assert status == 0
    assert target.stat().st_size == size
    assert peak < 64 * 1024 * 1024, f"peak RSS {peak / 2**20:.1f} MiB for a 200 MiB download"
    # A tiny request, for scale: the download adds only its buffers.
    status, small = peak_rss_of(server.url + "/")
    assert status == 0
    assert peak - small < 16 * 1024 * 1024, (peak / 2**20, small / 2**20)
    # The same bound holds for a body streamed to stdout.
    status, peak = peak_rss_of(server.url + f"/bytes/{size}?chunk={1 << 20}")
    assert status == 0
    assert peak < 64 * 1024 * 1024, f"peak RSS {peak / 2**20:.1f} MiB streaming to stdout"
