"""The blocking Client: streaming across the portal, threads, Ctrl-C, interpreter exit."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import trio
from outcome import Error

import httpcore
from httpcore._trio.portal import Interrupted, Portal, _Work
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


def test_ctrl_c_just_after_a_streaming_response_arrived(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt lands as the call returns: the response nobody will see is closed
    at once (not left to the garbage collector), and its connection is free."""
    quick = httpcore.TimeoutConfig(5.0, pool_timeout=1.0)
    with httpcore.Client(pool_limits=httpcore.PoolLimits(hard_limit=1)) as client:
        assert client.get(server.url + "/").status_code == 200
        wait = _Work.wait

        def wait_then_interrupt(work: _Work) -> None:
            monkeypatch.setattr(_Work, "wait", wait)
            wait(work)
            raise KeyboardInterrupt  # as if the signal landed right after the wait

        monkeypatch.setattr(_Work, "wait", wait_then_interrupt)
        with pytest.raises(KeyboardInterrupt):
            client.get(server.url + "/bytes/100000", stream=True)
        stats = client._engine.statistics()
        assert (stats.streams, stats.connections) == (0, 0)  # unread: closed
        assert client.get(server.url + "/", timeout=quick).status_code == 200


async def _noop() -> str:
    return "done"


def test_ctrl_c_before_the_call_was_queued(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    with httpcore.Client() as client:
        portal = client._get_portal()

        def interrupted(self: Portal, work: _Work) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(Portal, "_submit", interrupted)
        with pytest.raises(KeyboardInterrupt):
            portal.call(_noop)
        monkeypatch.undo()
        assert client.get(server.url + "/").status_code == 200


def test_ctrl_c_before_the_call_started(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted while queued, or after it was taken but before its task ran:
    it is cancelled from the start, and the calls after it run."""
    submit = Portal._submit
    ran: list[str] = []
    busy = threading.Event()

    async def record() -> None:
        await trio.lowlevel.checkpoint()  # a cancelled call stops at its first checkpoint
        ran.append("ran")  # pragma: no cover - must not run

    async def hold_the_trio_thread() -> None:
        busy.set()
        time.sleep(0.3)  # blocks trio: what comes in meanwhile waits in its queues

    with httpcore.Client() as client:
        portal = client._get_portal()
        # _noop has no checkpoint: it finishes despite the cancel, and its worker ends.
        for pending_drain, call in ((True, record), (False, record), (False, _noop)):
            busy.clear()
            holder = threading.Thread(target=portal.call, args=(hold_the_trio_thread,))
            holder.start()
            busy.wait()

            def submit_then_interrupt(self: Portal, work: _Work) -> None:
                # True: a drain is already pending, the work is queued without waking
                # trio and the cancel comes first. False: the drain (which takes the
                # work and starts its task) comes first, then the cancel.
                self._draining = pending_drain  # noqa: B023
                submit(self, work)
                raise KeyboardInterrupt

            monkeypatch.setattr(Portal, "_submit", submit_then_interrupt)
            with pytest.raises(KeyboardInterrupt):
                portal.call(call)
            monkeypatch.undo()
            holder.join()
            portal._draining = False
            assert portal.call(_noop) == "done"
        assert ran == []
        assert client.get(server.url + "/").status_code == 200


def test_close_from_another_thread_fails_the_calls_in_flight(server: ServerThread) -> None:
    client = httpcore.Client()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            client.get(server.url + "/slow?delay=10", timeout=None)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=slow)
    assert client.get(server.url + "/").status_code == 200
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    client.close()
    thread.join(5)
    assert time.monotonic() - started < 5
    assert [type(exc) for exc in errors] == [RuntimeError]
    assert "closed while the call was running" in str(errors[0])


def test_a_call_racing_close() -> None:
    """A thread that got the portal just before another closed the client."""
    client = httpcore.Client()
    portal = client._get_portal()
    # The close has begun in the trio thread (new work is refused from here on)...
    portal.call(_set_closing, portal)
    with pytest.raises(RuntimeError, match="This Client is closed"):
        portal.call(_noop)
    client.close()
    # ...and has ended.
    with pytest.raises(RuntimeError, match="This Client is closed"):
        portal.call(_noop)
    portal.close()  # twice: nothing left to stop


async def _set_closing(portal: Portal) -> None:
    portal._closing = True


def test_trio_thread_dying_fails_waiting_and_later_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    client = httpcore.Client()
    portal = client._get_portal()

    def crash(self: Portal, *, keep_first: bool) -> None:
        raise OSError("the trio thread broke")

    monkeypatch.setattr(Portal, "_take", crash)
    with pytest.raises(RuntimeError, match="trio thread stopped") as info:
        portal.call(_noop)
    # The run's own error (TrioInternalError if the crash was in a run_sync_soon callback).
    assert isinstance(info.value.__cause__, BaseException)
    with pytest.raises(RuntimeError, match="trio thread stopped"):
        client.get("http://127.0.0.1:1/")
    with pytest.raises(RuntimeError, match="trio thread stopped"):
        portal.call(_noop)
    client.close()


def test_ctrl_c_in_a_call_the_dying_run_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = httpcore.Client()
    portal = client._get_portal()
    submit = Portal._submit

    def crash(self: Portal, *, keep_first: bool) -> None:
        raise OSError("the trio thread broke")

    def submit_then_interrupt(self: Portal, work: _Work) -> None:
        submit(self, work)
        self._thread.join()  # the run died, failing the queued work
        raise KeyboardInterrupt

    monkeypatch.setattr(Portal, "_take", crash)
    monkeypatch.setattr(Portal, "_submit", submit_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        portal.call(_noop)
    client.close()


def test_interrupt_after_the_run_ended() -> None:
    """Ctrl-C in a call the dead run never saw: it does not wait for anything."""
    client = httpcore.Client()
    portal = client._get_portal()
    client.close()
    work = _Work(_noop, ())
    portal._interrupt(work)
    assert isinstance(work.outcome, Error) and isinstance(work.outcome.error, Interrupted)


def test_a_call_from_the_trio_thread_is_refused(server: ServerThread) -> None:
    """A `data=` iterator runs in the trio thread: a blocking call there would deadlock."""
    with httpcore.Client() as client:

        def body() -> Iterator[bytes]:
            client.get(server.url + "/")
            yield b"never"  # pragma: no cover - the call above raises

        with pytest.raises(RuntimeError, match="would deadlock"):
            client.post(server.url + "/upload-size", data=body())
        assert client.get(server.url + "/").status_code == 200


def test_a_hundred_threads_over_one_http2_connection(
    h2_server: ServerThread, ca_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Client, one HTTP/2 connection, 100 threads at once (httpx's sync client
    crashes here). More calls at once than the portal keeps idle workers for."""
    monkeypatch.setattr(Portal, "max_idle_workers", 16)
    kwargs = {"verify": ca_file} if h2_server.url.startswith("https://") else {"http1": False}
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(100)
    with httpcore.Client(**kwargs) as client:  # type: ignore[arg-type]

        def work(i: int) -> None:
            try:
                barrier.wait()
                for j in range(3):
                    response = client.get(h2_server.url + f"/slow?delay=0.05&i={i}-{j}")
                    results.append(f"{response.protocol} {response.status_code}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(100)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert results == ["HTTP/2 200"] * 300
        assert client._engine.statistics().connections == 1
        assert len(client._get_portal()._idle) <= 16
