"""`Client`: the blocking API, running one `TrioClient` in a trio thread.

Theory of operation
-------------------
The first request (or ``with Client()``) starts one daemon thread that runs
``trio.run``. Inside it a task enters a `TrioClient`, publishes the run's
`TrioToken`, and waits until the client is closed. Every blocking call goes
in with ``trio.from_thread.run(..., trio_token=token)``: the work runs as a
trio task in that one run, so all threads share one pool, and no trio object
ever crosses into another run.

A streaming `Response` pulls each raw chunk from the trio side with one
portal call, and decodes it in the calling thread.

Ctrl-C: the calling thread blocks in a lock wait that a signal interrupts at
once. The call runs inside a cancel scope that the interrupted thread
cancels through the portal; it then waits for the request to unwind (so the
pool stays consistent and the client usable) and re-raises KeyboardInterrupt.
The interrupt may also land just after the call finished: a response it
returned is then closed through the portal, as nobody else will close it.
The thread is a daemon: a script that never calls `close()` still exits.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import trio

from .._core.models import AsyncResponse, Request, Response
from .client import UNSET, TrioClient, split_send_options

T = TypeVar("T")


class _Portal:
    """The trio thread and the way into it."""

    def __init__(self, client: TrioClient) -> None:
        self._client = client
        self._token: trio.lowlevel.TrioToken | None = None
        self._started = threading.Event()
        self._stop: trio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="httpcore-trio", daemon=True)
        self._failure: BaseException | None = None
        self._thread.start()
        self._started.wait()
        if self._failure is not None:  # pragma: no cover - see _run
            raise self._failure

    def _run(self) -> None:
        try:
            trio.run(self._main)
        # Entering a fresh TrioClient cannot fail, so this guards only against
        # trio.run itself failing, which must not leave the caller waiting forever.
        except BaseException as exc:  # pragma: no cover - not reachable through the API
            self._failure = exc
            self._started.set()

    async def _main(self) -> None:
        self._stop = trio.Event()
        async with self._client:
            self._token = trio.lowlevel.current_trio_token()
            self._started.set()
            await self._stop.wait()

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `fn(*args)` as a task in the trio thread and return its result."""
        assert self._token is not None
        call = _Call()

        async def run_cancellable() -> T:
            with trio.CancelScope() as scope:
                call.enter(scope)
                try:
                    result = call.result = await fn(*args)
                    return result
                finally:
                    call.done.set()
            raise _Interrupted  # nobody waits for this result any more

        try:
            return trio.from_thread.run(run_cancellable, trio_token=self._token)
        except KeyboardInterrupt:
            trio.from_thread.run_sync(call.cancel, trio_token=self._token)
            call.done.wait()
            if isinstance(call.result, AsyncResponse):
                # The call had finished as the interrupt landed: nobody else will
                # close the (streaming) response it returned.
                trio.from_thread.run(call.result.close, trio_token=self._token)
            raise

    def close(self) -> None:
        assert self._stop is not None
        # RunFinishedError only if the trio run itself crashed: nothing left to stop.
        with contextlib.suppress(trio.RunFinishedError):
            trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join()


class _Interrupted(Exception):
    """The outcome of a call whose caller was interrupted by Ctrl-C."""


class _Call:
    __slots__ = ("cancel_requested", "done", "result", "scope")

    def __init__(self) -> None:
        self.scope: trio.CancelScope | None = None
        self.result: Any = None
        self.cancel_requested = False
        self.done = threading.Event()

    def enter(self, scope: trio.CancelScope) -> None:
        """The call started in `scope`; a Ctrl-C that came first cancels it at once."""
        self.scope = scope
        if self.cancel_requested:
            scope.cancel()

    def cancel(self) -> None:
        self.cancel_requested = True
        if self.scope is not None:
            self.scope.cancel()


class _RawChunks:
    """The raw body of an `AsyncResponse`, pulled chunk by chunk through the portal."""

    def __init__(self, portal: _Portal, response: AsyncResponse) -> None:
        self._portal = portal
        self._response = response
        self._raw: AsyncIterator[bytes] = response.raw()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return self._portal.call(self._raw.__anext__)
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self._portal.call(self._response.close)


class Client:
    """A blocking HTTP client, usable from any number of threads at once.

    Takes the same arguments as `TrioClient`. Use it with ``with`` or call
    `close()`; a client never closed does not keep the interpreter alive.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._engine = TrioClient(*args, **kwargs)
        self._portal: _Portal | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def cookies(self) -> Any:
        """The client's `Cookies`, updated from every response."""
        return self._engine.cookies

    @property
    def headers(self) -> Any:
        """The client's default `Headers`."""
        return self._engine.headers

    def _get_portal(self) -> _Portal:
        with self._lock:
            if self._portal is None:
                if self._closed:
                    raise RuntimeError("This Client is closed")
                self._portal = _Portal(self._engine)
            return self._portal

    def __enter__(self) -> Client:
        self._get_portal()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection and stop the trio thread."""
        with self._lock:
            self._closed = True
            portal, self._portal = self._portal, None
        if portal is not None:
            portal.close()

    def build_request(self, method: str, url: Any, **kwargs: Any) -> Request:
        """See `TrioClient.build_request`."""
        return self._engine.build_request(method, url, **kwargs)

    def prepare_request(self, request: Request) -> Request:
        """See `TrioClient.prepare_request`."""
        return self._engine.prepare_request(request)

    def request(self, method: str, url: Any, **kwargs: Any) -> Response:
        """Build and send a request; see `send`."""
        send_kwargs = split_send_options(kwargs)
        request = self.build_request(method, url, **kwargs)
        return self.send(request, **send_kwargs)

    def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        allow_redirects: bool = True,
        auth: Any = None,
        verify: Any = None,
        cert: Any = None,
        timeout: Any = UNSET,
    ) -> Response:
        """Send `request`; the arguments are those of `TrioClient.send`."""
        portal = self._get_portal()

        async def send() -> AsyncResponse:
            return await self._engine.send(
                request,
                stream=stream,
                allow_redirects=allow_redirects,
                auth=auth,
                verify=verify,
                cert=cert,
                timeout=timeout,
            )

        return self._wrap(portal, portal.call(send))

    def _wrap(self, portal: _Portal, response: AsyncResponse) -> Response:
        unread = response._content is None and not (
            response.is_closed or response.is_stream_consumed
        )
        wrapped = Response(
            response.status_code,
            headers=response.headers,
            content=_RawChunks(portal, response) if unread else None,
            request=response.request,
            protocol=response.protocol,
            reason_phrase=response.reason_phrase,
            history=[self._wrap(portal, r) for r in _async_history(response)],
            elapsed=response.elapsed,
        )
        wrapped.tls_version, wrapped.tls_cipher = response.tls_version, response.tls_cipher
        if not unread:
            # Already read (or discarded) in the trio thread: share, never decode twice.
            wrapped._content = response._content
            wrapped._raw_content = response._raw_content
            wrapped.num_bytes_downloaded = response.num_bytes_downloaded
        follow = response._next
        if follow is not None:
            wrapped._next = lambda: self._wrap(portal, portal.call(follow))
        return wrapped

    @contextmanager
    def stream(self, method: str, url: Any, **kwargs: Any) -> Iterator[Response]:
        """Send a request and yield its unread response; it is closed on exit."""
        response = self.request(method, url, stream=True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    def get(self, url: Any, **kwargs: Any) -> Response:
        """Send a GET request."""
        return self.request("GET", url, **kwargs)

    def options(self, url: Any, **kwargs: Any) -> Response:
        """Send an OPTIONS request."""
        return self.request("OPTIONS", url, **kwargs)

    def head(self, url: Any, **kwargs: Any) -> Response:
        """Send a HEAD request."""
        return self.request("HEAD", url, **kwargs)

    def post(self, url: Any, **kwargs: Any) -> Response:
        """Send a POST request."""
        return self.request("POST", url, **kwargs)

    def put(self, url: Any, **kwargs: Any) -> Response:
        """Send a PUT request."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: Any, **kwargs: Any) -> Response:
        """Send a PATCH request."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: Any, **kwargs: Any) -> Response:
        """Send a DELETE request."""
        return self.request("DELETE", url, **kwargs)


def _async_history(response: AsyncResponse) -> list[AsyncResponse]:
    return [r for r in response.history if isinstance(r, AsyncResponse)]


def request(method: str, url: Any, **kwargs: Any) -> Response:
    """Send one request with a short-lived `Client` and return the read response.

    Client settings (`verify`, `cert`, `timeout`, `trust_env`) are taken from
    the keyword arguments as well.
    """
    client_kwargs = {
        name: kwargs.pop(name) for name in ("verify", "cert", "trust_env") if name in kwargs
    }
    with Client(**client_kwargs) as client:
        kwargs["stream"] = False
        return client.request(method, url, **kwargs)


def get(url: Any, **kwargs: Any) -> Response:
    """Send a GET request with a short-lived `Client`."""
    return request("GET", url, **kwargs)


def options(url: Any, **kwargs: Any) -> Response:
    """Send an OPTIONS request with a short-lived `Client`."""
    return request("OPTIONS", url, **kwargs)


def head(url: Any, **kwargs: Any) -> Response:
    """Send a HEAD request with a short-lived `Client`."""
    return request("HEAD", url, **kwargs)


def post(url: Any, **kwargs: Any) -> Response:
    """Send a POST request with a short-lived `Client`."""
    return request("POST", url, **kwargs)


def put(url: Any, **kwargs: Any) -> Response:
    """Send a PUT request with a short-lived `Client`."""
    return request("PUT", url, **kwargs)


def patch(url: Any, **kwargs: Any) -> Response:
    """Send a PATCH request with a short-lived `Client`."""
    return request("PATCH", url, **kwargs)


def delete(url: Any, **kwargs: Any) -> Response:
    """Send a DELETE request with a short-lived `Client`."""
    return request("DELETE", url, **kwargs)
