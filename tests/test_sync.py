"""The blocking Client: streaming across the portal, threads, Ctrl-C, interpreter exit."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

import httpcore
from tests.servers import ServerThread

pytestmark = pytest.mark.usefixtures("h1_codec")


def test_stream_across_portal(server: ServerThread) -> None:
    with httpcore.Client() as client:
        with client.stream("GET", server.url + "/bytes/300000?chunk=1000") as response:
            assert response.status_code == 200
            with pytest.raises(httpcore.ResponseNotRead):
                _ = response.content
            total = sum(len(chunk) for chunk in response.stream())
            assert total == 300000
            with pytest.raises(httpcore.StreamConsumed):
                list(response.stream())
        with client.stream("GET", server.url + "/stream-lines/5") as response:
            assert list(response.stream_lines()) == [f"line {i}" for i in range(5)]
        with client.stream("GET", server.url + "/gzip") as response:
            raw = b"".join(response.raw())
            assert raw.startswith(b"\x1f\x8b")
            assert response.num_bytes_downloaded == len(raw)
        with client.stream("GET", server.url + "/bytes/300000?chunk=1000") as response:
            next(response.stream())
        # The half-read response closed its connection; the client is still fine.
        assert client.get(server.url + "/").text == "Hello, world!"


def test_closed_unread_response(server: ServerThread) -> None:
    with httpcore.Client() as client:
        response = client.get(server.url + "/bytes/100", stream=True)
        response.close()
        with pytest.raises(httpcore.ResponseClosed):
            response.read()


def test_threads_share_one_client(server: ServerThread) -> None:
    errors: list[BaseException] = []
    statuses: list[int] = []
    with httpcore.Client() as client:

        def work() -> None:
            try:
                for _ in range(25):
                    statuses.append(client.get(server.url + "/").status_code)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert client._engine.statistics().connections <= 8
    assert errors == []
    assert statuses == [200] * 200


def test_client_without_with_and_reuse_after_close(server: ServerThread) -> None:
    client = httpcore.Client()
    assert client.get(server.url + "/").status_code == 200
    assert client.headers["user-agent"].startswith("python-httpcore/")
    client.close()
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.get(server.url + "/")


def test_ctrl_c_interrupts_a_blocked_request(server: ServerThread) -> None:
    with httpcore.Client() as client:
        timer = threading.Timer(
            0.2, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)
        )
        started = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            client.get(server.url + "/slow?delay=10", timeout=None)
        assert time.monotonic() - started < 0.2 + 0.5
        stats = client._engine.statistics()
        assert stats.connections == stats.idle
        assert client.get(server.url + "/").text == "Hello, world!"


def test_module_functions(server: ServerThread) -> None:
    assert httpcore.get(server.url + "/").text == "Hello, world!"
    assert httpcore.request("GET", server.url + "/", trust_env=False).status_code == 200
    assert httpcore.post(server.url + "/upload-size", data=b"abc").text == "3"
    assert httpcore.put(server.url + "/echo").json()["method"] == "PUT"
    assert httpcore.patch(server.url + "/echo").json()["method"] == "PATCH"
    assert httpcore.delete(server.url + "/echo").json()["method"] == "DELETE"
    assert httpcore.options(server.url + "/echo").json()["method"] == "OPTIONS"
    assert httpcore.head(server.url + "/").content == b""


def test_unclosed_client_does_not_block_exit(server: ServerThread) -> None:
    script = (
        "import httpcore\n"
        "client = httpcore.Client()\n"
        f"print(client.get({server.url + '/'!r}).status_code)\n"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "200"
    assert result.stderr == ""
    assert time.monotonic() - started < 10


async def test_call_cancelled_before_it_started() -> None:
    """A Ctrl-C that reaches the trio side before the call's scope exists still cancels it."""
    import trio

    from httpcore._trio.sync import _Call

    call = _Call()
    call.cancel()
    with trio.CancelScope() as scope:
        call.enter(scope)
        await trio.sleep_forever()
    assert scope.cancelled_caught


def test_ctrl_c_just_after_a_streaming_response_arrived(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt lands as the call returns: the response nobody will see is closed
    at once (not left to the garbage collector), and its connection is free."""
    import trio

    quick = httpcore.TimeoutConfig(5.0, pool_timeout=1.0)
    with httpcore.Client(pool_limits=httpcore.PoolLimits(hard_limit=1)) as client:
        assert client.get(server.url + "/").status_code == 200
        run = trio.from_thread.run

        def run_then_interrupt(*args: object, **kwargs: object) -> object:
            monkeypatch.setattr(trio.from_thread, "run", run)
            run(*args, **kwargs)  # type: ignore[arg-type]
            raise KeyboardInterrupt

        monkeypatch.setattr(trio.from_thread, "run", run_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            client.get(server.url + "/bytes/100000", stream=True)
        stats = client._engine.statistics()
        assert (stats.streams, stats.connections) == (0, 0)  # unread: closed
        assert client.get(server.url + "/", timeout=quick).status_code == 200
