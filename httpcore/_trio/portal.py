"""`Portal`: one trio thread, and a cheap way for other threads to run work in it.

Theory of operation
-------------------
`Portal` starts one daemon thread running ``trio.run``. Its main task enters
the `TrioClient`, opens a nursery for the calls, publishes the run's
`TrioToken` and waits for `close()`.

A call from another thread is a `_Work`: the coroutine function, its
arguments, and a fresh ``threading.Lock`` taken at once. The caller appends
it to a deque and blocks acquiring that lock. Worker tasks in the nursery run
the calls; each finished call gets its outcome stored in its `_Work`, and
its lock released, which wakes the caller.

Waking the trio side: between calls, one worker (the *listener*) waits on
the read end of the portal's own socket pair; the others park in `_idle`.
A caller that finds the listener armed writes one byte: trio's epoll wakes
the listener directly, which takes the queue and runs the first call itself
(queued ones beyond the first go to parked or new workers). Otherwise (the
listener is busy with a call) the caller sends `_drain` through
``TrioToken.run_sync_soon``, which hands the queue to parked or new workers.
Either wake-up is sent only when none is pending (`_draining`): threads that
pile up behind a busy trio thread cost it one wake-up for the lot. The taker
clears `_draining` *before* it empties the deque, and callers append *before*
they read it, so no call is ever left behind unseen; a byte sent as the
listener wakes for another reason only makes the next listener look again.
`trio.from_thread.run`, which this replaces, paid for a ``queue.Queue``, a
context copy, a system task and an entry-queue hop (one more trio loop turn)
per call. A waiting worker holds no reference to its last call, so a
dropped response is still garbage collected.

Ctrl-C: the lock wait is interruptible. The interrupted caller sends
`_cancel` through ``run_sync_soon``: it cancels the call's scope, which is
its worker's (that worker then ends), or, if the call has not started,
finishes it at once. The caller then waits for the lock again, so the
request has unwound (and the pool is consistent) before ``KeyboardInterrupt``
goes on. If the call had finished as the interrupt landed, the response it
returned is closed through the portal, as nobody else will close it.

Closing: `close()` (any thread) stops the main task, which refuses new work
and cancels the nursery: calls still running fail with ``RuntimeError`` once
they have unwound, and the client closes its connections. If the trio run
ends any other way (it crashed), the thread fails every call still waiting
with ``RuntimeError`` naming the cause, and later calls raise it at once:
no caller is ever left blocked on a run that is gone. The thread is a daemon:
a script that never calls `close()` still exits.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio
from outcome import Error, Outcome, Value

from .._core.models import AsyncResponse
from .client import TrioClient

T = TypeVar("T")

_allocate_lock = threading.Lock


class Interrupted(Exception):
    """The outcome of a call whose caller was interrupted by Ctrl-C."""


class _Work:
    """One call from another thread: what to run, its outcome, and the caller's wake-up."""

    __slots__ = ("args", "cancel_requested", "fn", "lock", "outcome", "scope", "taken")

    def __init__(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.lock = _allocate_lock()
        self.lock.acquire()
        self.outcome: Outcome[Any] | None = None
        self.scope: trio.CancelScope | None = None
        self.taken = False
        self.cancel_requested = False

    def wait(self) -> None:
        """Block until the outcome is in (the wait a Ctrl-C interrupts)."""
        self.lock.acquire()

    def finish(self, result: Outcome[Any]) -> None:
        """Store the outcome and wake the caller (once; the outcome first)."""
        self.outcome = result
        self.lock.release()


class Portal:
    """The trio thread that runs `client`, and the way into it."""

    # Parked worker tasks kept for the next calls; more end after their call.
    max_idle_workers = 64

    def __init__(self, client: TrioClient) -> None:
        self._client = client
        self._queue: deque[_Work] = deque()
        self._mutex = threading.Lock()  # orders appends against the end of the run
        self._draining = False  # a _drain is queued with trio and has not started yet
        self._closing = False  # trio side: new work is refused
        self._gone: RuntimeError | None = None  # the run has ended: calls raise this
        self._idle: list[trio.lowlevel.Task] = []  # parked worker tasks
        # The listener: a worker waiting on this socket, woken by a byte.
        self._wake_send, self._wake_recv = socket.socketpair()
        self._wake_send.setblocking(False)
        self._wake_recv.setblocking(False)
        self._armed = False  # a worker is listening
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._stop: trio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="httpcore-trio", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._gone is not None:  # pragma: no cover - see _run
            raise self._gone

    # -- the trio thread ---------------------------------------------------------

    def _run(self) -> None:
        gone = RuntimeError("This Client is closed")
        try:
            trio.run(self._main)
        except BaseException as exc:
            gone = RuntimeError(f"The Client's trio thread stopped: {exc!r}")
            gone.__cause__ = exc
        with self._mutex:
            self._gone = gone
            # Calls queued for a drain that never ran: nothing else will finish them.
            stranded = [work for work in self._queue if work.outcome is None]
            self._queue.clear()
            self._wake_send.close()
            self._wake_recv.close()
        for work in stranded:
            work.finish(Error(gone))
        self._started.set()

    async def _main(self) -> None:
        self._stop = trio.Event()
        async with self._client, trio.open_nursery() as nursery:
            self._nursery = nursery
            self._token = trio.lowlevel.current_trio_token()
            self._started.set()
            nursery.start_soon(self._worker, None)  # the first listener
            await self._stop.wait()
            self._closing = True
            nursery.cancel_scope.cancel()

    def _drain(self) -> None:
        """Hand each queued call to a worker task (a ``run_sync_soon`` callback)."""
        self._take(keep_first=False)

    def _take(self, *, keep_first: bool) -> _Work | None:
        """Empty the queue: hand its calls to workers, but the first if `keep_first`."""
        self._draining = False
        queue = self._queue
        idle = self._idle
        first = None
        while queue:
            work = queue.popleft()
            if work.outcome is not None:
                continue  # interrupted before it started
            if self._closing:
                work.finish(Error(RuntimeError("This Client is closed")))
                continue
            work.taken = True
            if keep_first and first is None:
                first = work
            elif idle:
                trio.lowlevel.reschedule(idle.pop(), Value(work))
            else:
                assert self._nursery is not None
                self._nursery.start_soon(self._worker, work)
        return first

    async def _listen(self) -> _Work | None:
        """Wait for the wake-up socket as the listener; take what was queued."""
        self._armed = True
        try:
            await trio.lowlevel.wait_readable(self._wake_recv)
        finally:
            self._armed = False
        # One read: wake-ups left over (rare) only make the next listener look again.
        with contextlib.suppress(BlockingIOError):
            self._wake_recv.recv(4096)
        return self._take(keep_first=True)

    async def _worker(self, work: _Work | None) -> None:
        """Run calls one after another; between them, listen or park in `_idle`.

        The worker's one cancel scope is the calls': a Ctrl-C cancels it, and
        the worker ends with that call. Cancelled while waiting (by close()),
        it just ends.
        """
        task = trio.lowlevel.current_task()

        def abort(_: object) -> trio.lowlevel.Abort:
            self._idle.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        # Only the call in hand: a waiting worker must not keep the last one (and
        # the response it returned) alive.
        running = work
        del work
        try:
            with trio.CancelScope() as scope:
                while True:
                    if running is not None:
                        running.scope = scope
                        if running.cancel_requested:
                            scope.cancel()
                        try:
                            running.finish(Value(await running.fn(*running.args)))
                        except trio.Cancelled:
                            raise
                        except BaseException as exc:
                            running.finish(Error(exc))
                        running = None
                        if scope.cancel_called:
                            # A Ctrl-C came as the call ended: this worker is done (it
                            # must not listen, with a wake-up it could not take).
                            return
                    if not self._armed:
                        running = await self._listen()
                    elif len(self._idle) < self.max_idle_workers:
                        self._idle.append(task)
                        running = await trio.lowlevel.wait_task_rescheduled(abort)
                    else:
                        return
        finally:
            if running is not None and running.outcome is None:
                # Cancelled: by its caller's Ctrl-C, or by close().
                closed = RuntimeError("This Client was closed while the call was running")
                running.finish(Error(Interrupted() if running.cancel_requested else closed))

    def _cancel(self, work: _Work) -> None:
        """Cancel `work` for its interrupted caller (a ``run_sync_soon`` callback)."""
        work.cancel_requested = True
        if work.outcome is not None:
            return  # finished meanwhile: its worker may be running another call
        if work.scope is not None:
            work.scope.cancel()
        elif not work.taken:
            work.finish(Error(Interrupted()))

    # -- other threads -----------------------------------------------------------

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `fn(*args)` as a task in the trio thread and return its result."""
        if threading.get_ident() == self._thread.ident:
            raise RuntimeError(
                "A blocking Client call from inside the Client's own trio thread would"
                " deadlock (was it made by a data= iterator?)"
            )
        work = _Work(fn, args)
        try:
            self._submit(work)
            work.wait()
            result = work.outcome
            assert result is not None
            return result.unwrap()  # type: ignore[no-any-return]
        except KeyboardInterrupt:
            self._interrupt(work)
            raise

    def _submit(self, work: _Work) -> None:
        with self._mutex:
            if self._gone is not None:
                raise self._gone
            self._queue.append(work)
            if self._draining:
                return  # a wake-up is on its way
            self._draining = True
            if self._armed:
                # BlockingIOError: the socket is full of wake-ups already.
                with contextlib.suppress(BlockingIOError):
                    self._wake_send.send(b"\0")
                return
        assert self._token is not None
        # RunFinishedError: the run has ended, and its thread fails the work queued.
        with contextlib.suppress(trio.RunFinishedError):
            self._token.run_sync_soon(self._drain)

    def _interrupt(self, work: _Work) -> None:
        """The caller of `work` got Ctrl-C: cancel it and wait until it has unwound."""
        assert self._token is not None
        try:
            # Harmless if the call has finished meanwhile.
            self._token.run_sync_soon(self._cancel, work)
        except trio.RunFinishedError:
            self._thread.join()  # it fails what is queued, then exits
            if work.outcome is None:  # never queued
                work.finish(Error(Interrupted()))
        # Not finished yet, so this caller does not hold the lock: wait for the unwinding.
        if work.outcome is None:
            work.wait()
        result = work.outcome
        if isinstance(result, Value) and isinstance(result.value, AsyncResponse):
            # The call had finished as the interrupt landed: nobody else will
            # close the (streaming) response it returned.
            self.call(result.value.close)

    def close(self) -> None:
        """Close the client in the trio thread, and wait for the thread to end."""
        assert self._token is not None and self._stop is not None
        # RunFinishedError: the run has already ended; nothing left to stop.
        with contextlib.suppress(trio.RunFinishedError):
            self._token.run_sync_soon(self._stop.set)
        self._thread.join()
