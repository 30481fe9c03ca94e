"""One trio guest run per asyncio event loop, and the two ways across it.

Theory of operation
-------------------
A thread can hold one trio run, guest or not. So every `AsyncClient` of a
loop shares one `GuestRun`: the first client that needs it starts trio with
``trio.lowlevel.start_guest_run`` on that loop, and the run ends when the
last client has closed (a client opening later starts a new one). The run's
main task holds one nursery; each client is served by one task in it (which
enters the client's `TrioClient` and waits for ``aclose()``), and calls
from asyncio run in worker tasks there.

Trio and asyncio share the loop's thread: trio's scheduler runs as loop
callbacks, and between them the loop runs asyncio code. Trio allows its
sync-colored functions (spawning a task, cancelling a scope, setting an
event) to be called from the host's thread between its ticks; that is how
asyncio code gets in.

- asyncio → trio, `GuestRun.call(fn, *args)`: hand ``fn(*args)`` to a
  trio worker task (a parked one is woken; a new one is spawned when none
  is parked), which runs it in the worker's cancel scope and completes an
  asyncio future with the outcome. If the awaiting asyncio task is
  cancelled, the scope is cancelled (the worker then ends) and the task
  waits, whatever else happens, for the trio side to unwind before it sees
  ``CancelledError``: the connection has then been released or closed, and
  the pool is back at its baseline. Asyncio code that the call runs
  (`call_host`) sees the caller's context variables.
- trio → asyncio, `GuestRun.call_host(fn, *args)`: run the coroutine as an
  asyncio task and wait on a trio event set when it is done; a trio
  cancellation cancels the asyncio task and waits for it.

What a crossing costs is trio's ticks. When trio has nothing to run, it
waits for I/O in a helper thread, and waking it from there (for a new call,
or for the I/O) costs two thread hops and a write to the loop's self-pipe.
So when a worker has handed its result to asyncio, it stays runnable
through the loop's next turn before it parks for good: an application that
goes on with its next request within that turn finds trio's tick already
scheduled on the loop (and that worker takes the call at once), so the only
thread hop left per request is the wait for the response, when it has not
arrived yet. A streaming body's pump does the same when it waits for room.
And when a call starts, a keeper task stays runnable for two turns: a fast
server's answer is then often found by trio's own check for I/O, without
the thread.

Neither side's cancellation exception crosses: a trio task cancelled because
the run is shutting down reports a `RuntimeError` to asyncio, and an asyncio
task cancelled under a trio caller reports a `RuntimeError` to trio.

Shutdown: ``asyncio.run`` ends by cancelling every task, then closes the
loop. A trio run is no task, so each run keeps a *guardian* task that waits
for the run's end. When the guardian is cancelled, the loop is ending: it
cancels the run's main scope (which closes every client still open, with a
`ResourceWarning`), and waits for the run to finish, so trio never touches
a closed loop. An error that ends the run (a bug: every task reports its own
errors to its caller) is passed to the loop's exception handler and to every
caller still waiting.
"""

from __future__ import annotations

import asyncio
import contextvars
import warnings
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import outcome
import trio

from .._trio.client import in_trio_task

T = TypeVar("T")

#: Workers kept parked for the next calls once calls stop coming; beyond this
#: many they end. (While calls keep coming, as many stay as are in use.)
MAX_IDLE_WORKERS = 64

# The context of the asyncio caller of the call a worker runs: asyncio tasks
# started for it (`GuestRun.call_host`) run in a copy of it, as its own would.
_CALLER_CONTEXT: contextvars.ContextVar[contextvars.Context | None] = contextvars.ContextVar(
    "httpcore_caller_context", default=None
)

_RUNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GuestRun] = weakref.WeakKeyDictionary()


def running_loop() -> asyncio.AbstractEventLoop:
    """The running asyncio loop; a `RuntimeError` that names the right client otherwise."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        if in_trio_task():
            raise RuntimeError(
                "AsyncClient is for asyncio programs, and this code runs under trio: "
                "use httpcore.TrioClient (`async with httpcore.TrioClient() as client:`)"
            ) from None
        raise RuntimeError(
            "AsyncClient needs a running asyncio event loop (use it inside asyncio.run()); "
            "from blocking code use httpcore.Client"
        ) from None


async def wait_through_cancellation(future: asyncio.Future[Any]) -> bool:
    """Wait until `future` is done, even if cancelled meanwhile; True if we were."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            cancelled = True
    return cancelled


class RunEnded(RuntimeError):
    """The guest run ended (its loop is shutting down) while a call was running."""


class _Call:
    """One asyncio → trio call: its future, its trio cancel scope, its end."""

    __slots__ = (
        "args",
        "cancel_requested",
        "context",
        "done",
        "finished",
        "fn",
        "result",
        "scope",
        "value",
    )

    def __init__(
        self, result: asyncio.Future[None], fn: Callable[..., Awaitable[Any]], args: Any
    ) -> None:
        self.fn: Any = fn  # both dropped once the call starts
        self.args: Any = args
        # The caller's context variables, for the asyncio code the call runs (hooks...).
        self.context: contextvars.Context | None = contextvars.copy_context()
        # The value travels beside the future, so that once taken nothing holds it
        # (the loop's handle that resumes the caller keeps the future a while).
        self.result = result
        self.value: Any = None
        self.finished = False  # the trio task is over
        # Made only for a caller cancelled while the trio task still runs, to wait on.
        self.done: asyncio.Future[None] | None = None
        self.scope: trio.CancelScope | None = None
        self.cancel_requested = False

    def cancel(self) -> None:
        self.cancel_requested = True
        # Once finished, the scope is its worker's, which may run another call by now.
        if self.scope is not None and not self.finished:
            self.scope.cancel()


class _Worker:
    """A trio task that runs calls (`GuestRun._work`), as the parked ones are listed."""

    __slots__ = ("call", "task", "warm")

    def __init__(self, task: trio.lowlevel.Task) -> None:
        self.task = task
        self.call: _Call | None = None  # the next call, given while it is parked
        self.warm = False  # parked but still runnable, through the loop's next turn


class ClientHandle:
    """What the guest run keeps for one client: started, stop, stopped."""

    __slots__ = ("started", "stop", "stopped")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.started: asyncio.Future[None] = loop.create_future()
        self.stopped: asyncio.Future[None] = loop.create_future()
        self.stop = trio.Event()


class GuestRun:
    """The trio guest run of one asyncio loop, shared by its clients (ref-counted)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clients = 0
        self.stopping = False
        self.nursery: trio.Nursery | None = None
        self.token: trio.lowlevel.TrioToken | None = None
        self._main_scope = trio.CancelScope()
        self._ready: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[BaseException | None] = loop.create_future()
        self._guardian: asyncio.Task[None] | None = None
        self._idle: dict[_Worker, None] = {}  # parked workers, in order (see `_work`)
        self._keeper: trio.lowlevel.Task | None = None  # while it sleeps (see `_keep_warm`)

    # -- lifecycle -----------------------------------------------------------------

    @classmethod
    async def serve(cls, engine: Any) -> tuple[GuestRun, ClientHandle]:
        """Serve `engine` (a TrioClient) in this loop's run, starting the run if needed.

        Returns once the engine is entered.
        """
        loop = running_loop()
        run = _RUNS.get(loop)
        if run is None:
            run = _RUNS[loop] = cls(loop)
            previous = _PREVIOUS.pop(loop, None)
            if previous is None or previous.done():
                run._start()
            else:  # one trio run per thread: the last one must be over first
                previous.add_done_callback(lambda _: run._start())
        run.clients += 1
        handle = ClientHandle(loop)
        try:
            await asyncio.shield(run._ready)
        except BaseException:
            run._release()
            raise
        if run.stopping or run.nursery is None:  # the loop began to end meanwhile
            run._release()
            raise RunEnded("The event loop is shutting down")
        run.nursery.start_soon(run._serve_client, engine, handle)
        # Entering takes no checkpoint; only the loop's end can cancel this wait, and
        # then the guardian closes the client with the others.
        await asyncio.shield(handle.started)
        return run, handle

    def _start(self) -> None:
        # trio starts inside the guardian, so a guardian cancelled before its first
        # step (the loop ended at once) leaves no run behind.
        self._guardian = self.loop.create_task(self._guard(), name="httpcore-trio-guest")
        self._guardian.add_done_callback(self._guardian_done)

    def _guardian_done(self, guardian: asyncio.Task[None]) -> None:
        if not self.finished.done():  # cancelled before it could start trio
            self._finish(None, "The event loop is shutting down")

    async def _main(self) -> None:
        self.token = trio.lowlevel.current_trio_token()
        with self._main_scope:  # cancelled already if every client left meanwhile
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                nursery.start_soon(self._keep_warm)
                self._ready.set_result(None)
                await trio.sleep_forever()

    async def _serve_client(self, engine: Any, handle: ClientHandle) -> None:
        result = await outcome.acapture(self._hold, engine, handle)
        cancelled = isinstance(result, outcome.Error) and isinstance(result.error, trio.Cancelled)
        if cancelled:  # the run is ending under the client: closed, not failed
            result = outcome.Error(RunEnded("The event loop is shutting down"))
        _complete(handle.started, result)  # set already, unless entering failed
        _complete(handle.stopped, outcome.Value(None) if cancelled else result)
        self._release()

    @staticmethod
    async def _hold(engine: Any, handle: ClientHandle) -> None:
        async with engine:
            handle.started.set_result(None)
            await handle.stop.wait()

    def _release(self) -> None:
        self.clients -= 1
        if self.clients == 0:
            self._stop()

    def _stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            del _RUNS[self.loop]  # a run is registered from its creation until here
            _PREVIOUS[self.loop] = self.finished
        self._main_scope.cancel()

    def _done(self, result: outcome.Outcome[None]) -> None:
        error = result.error if isinstance(result, outcome.Error) else None
        if error is not None:
            self.loop.call_exception_handler(
                {"message": "httpcore's trio guest run failed", "exception": error}
            )
        self._finish(error, "httpcore's trio guest run has ended")

    def _finish(self, error: BaseException | None, message: str) -> None:
        self._stop()
        if not self._ready.done():
            ended = RunEnded(message)
            ended.__cause__ = error
            self._ready.set_exception(ended)
        self.finished.set_result(error)

    async def _guard(self) -> None:
        try:
            trio.lowlevel.start_guest_run(
                self._main,
                run_sync_soon_threadsafe=self.loop.call_soon_threadsafe,
                run_sync_soon_not_threadsafe=self.loop.call_soon,
                done_callback=self._done,
                host_uses_signal_set_wakeup_fd=True,
            )
        except BaseException as exc:  # e.g. this thread is already running trio
            self._finish(exc, f"Could not start trio in this thread: {exc}")
            return
        try:
            await asyncio.shield(self.finished)
        except asyncio.CancelledError:
            # asyncio.run is ending the loop: end trio first, then say who leaked.
            unclosed = self.clients
            self._stop()
            await wait_through_cancellation(self.finished)
            if unclosed:
                warnings.warn(
                    f"{unclosed} AsyncClient(s) not closed when the event loop ended; "
                    "use `async with AsyncClient() as client:` or `await client.aclose()`",
                    ResourceWarning,
                    stacklevel=1,
                )
            raise

    # -- crossing ------------------------------------------------------------------

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await fn(*args)`` in a trio task; return or raise what it did.

        Cancelling the awaiting task cancels the trio task, and waits for it
        to finish before `CancelledError` propagates.
        """
        if self.nursery is None or self.stopping:
            raise RunEnded("The AsyncClient for this call is closed (its trio run has ended)")
        call = _Call(self.loop.create_future(), fn, args)
        if self._idle:
            worker, _ = self._idle.popitem()  # the last parked: the likeliest warm
            worker.call = call
            if not worker.warm:  # a warm one is runnable already, and takes the call
                trio.lowlevel.reschedule(worker.task)
        else:
            self.nursery.start_soon(self._work, call)
        try:
            await call.result
        except asyncio.CancelledError:
            call.cancel()
            if not call.finished:
                call.done = self.loop.create_future()
                await wait_through_cancellation(call.done)
            lost = call.result
            if lost.done() and not lost.cancelled() and lost.exception() is None:
                # The trio side had finished just before the cancellation landed.
                await _discard(self, call.value)
            raise
        value: T = call.value
        call.value = None
        return value

    async def _work(self, call: _Call) -> None:
        """A worker: runs calls one after another, parked in between.

        A task per call would cost a spawn and a cancel scope each time. The
        worker's scope is cancelled only for the call it runs, after which
        the worker ends (its scope is spent); a worker also ends when the run
        does, or when enough others are parked.
        """
        worker = _Worker(trio.lowlevel.current_task())
        with trio.CancelScope() as scope:
            while True:
                call.scope = scope
                if call.cancel_requested:
                    scope.cancel()
                await self._run_call(call)
                if scope.cancel_called:
                    return
                next_call = await self._next_call(worker)
                if next_call is None:
                    return
                call = next_call

    async def _next_call(self, worker: _Worker) -> _Call | None:
        """The worker's next call; None if it should end (enough others are parked)."""
        # Parked, but runnable through the loop's next turn (see "What a crossing
        # costs"): a call made within that turn finds trio's tick already scheduled.
        worker.call = None
        worker.warm = True
        self._idle[worker] = None
        await trio.lowlevel.cancel_shielded_checkpoint()
        worker.warm = False
        if worker.call is None:  # no call came: park until one does, or end
            if len(self._idle) > MAX_IDLE_WORKERS:
                del self._idle[worker]
                return None

            def abort(_: Any) -> trio.lowlevel.Abort:
                del self._idle[worker]
                return trio.lowlevel.Abort.SUCCEEDED

            await trio.lowlevel.wait_task_rescheduled(abort)
        return worker.call

    async def _keep_warm(self) -> None:
        """Stay runnable for two loop turns each time a call starts.

        A call typically sends a request and then waits for the answer: if trio
        went idle at once, it would wait in its I/O thread, and a fast server's
        answer would cost the thread round trip. One turn later the answer is
        often there already, found by trio's check for I/O without the thread.
        (Measured on sequential small GETs to a local nginx: thread round trips
        per request 0.9 without this, 0.6 with one turn, 0.3 with two.)
        """

        def abort(_: Any) -> trio.lowlevel.Abort:
            self._keeper = None
            return trio.lowlevel.Abort.SUCCEEDED

        while True:
            self._keeper = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(abort)
            await trio.lowlevel.cancel_shielded_checkpoint()  # and one turn more

    async def _run_call(self, call: _Call) -> None:
        keeper = self._keeper
        if keeper is not None:
            self._keeper = None
            trio.lowlevel.reschedule(keeper)
        _CALLER_CONTEXT.set(call.context)
        fn: Callable[..., Awaitable[Any]] = call.fn
        args = call.args
        call.fn = call.args = None  # a parked worker keeps nothing alive
        future = call.result  # cancelled if the caller stopped waiting
        try:
            value = await fn(*args)
        except trio.Cancelled:
            # Cancelled for the asyncio caller (who no longer waits), or because the
            # run is ending; either way this call is over and nothing else needs it.
            if not future.done():
                future.set_exception(RunEnded("The event loop is shutting down"))
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if future.cancelled():
                await _discard_in_trio(value)
            else:
                call.value = value
                future.set_result(None)
        _CALLER_CONTEXT.set(None)
        call.finished = True
        if call.done is not None:
            call.done.set_result(None)

    async def call_host(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """From a trio task: run ``await fn(*args)`` as an asyncio task, return its result.

        A trio cancellation cancels the asyncio task and waits for it to end.
        """
        context = _CALLER_CONTEXT.get()
        task = self.loop.create_task(fn(*args), context=None if context is None else context.copy())
        finished = trio.Event()
        task.add_done_callback(lambda _: finished.set())
        try:
            await finished.wait()
        finally:
            if not task.done():
                task.cancel()
                with trio.CancelScope(shield=True):
                    await finished.wait()
        if task.cancelled():
            raise RunEnded("The asyncio side of this call was cancelled (is the loop ending?)")
        return task.result()


_PREVIOUS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, asyncio.Future[BaseException | None]
] = weakref.WeakKeyDictionary()


def _complete(future: asyncio.Future[Any], result: outcome.Outcome[Any]) -> None:
    if future.done():
        return
    if isinstance(result, outcome.Error):
        future.set_exception(result.error)
    else:
        assert isinstance(result, outcome.Value)
        future.set_result(result.value)


async def _discard_in_trio(value: Any) -> None:
    """Close a streaming response that no caller will receive (its caller was cancelled)."""
    if not getattr(value, "is_closed", True):
        with trio.CancelScope(shield=True):
            await value.close()


async def _discard(run: GuestRun, value: Any) -> None:
    close = getattr(value, "close", None)
    if close is not None and not getattr(value, "is_closed", True):
        task = asyncio.ensure_future(run.call(close))
        await wait_through_cancellation(task)
