"""`Client`: the blocking API, running one `TrioClient` in a trio thread.

Theory of operation
-------------------
The first request (or ``with Client()``) starts a `Portal` (see portal.py):
one daemon thread running ``trio.run`` with the `TrioClient` in it. Every
blocking call is one portal call: the work runs as a trio task in that one
run, so all threads share one pool, and no trio object ever crosses into
another run. The calling thread builds the `Request` and wraps the
`AsyncResponse` it gets back in a `Response` that shares its head (and its
content, when the trio side already read it).

A streaming `Response` pulls each raw chunk from the trio side with one
portal call, and decodes it in the calling thread.

Ctrl-C: the calling thread blocks in a lock wait that a signal interrupts at
once. The portal cancels the interrupted call, waits for the request to
unwind (so the pool stays consistent and the client usable) and re-raises
KeyboardInterrupt. The interrupt may also land just after the call finished:
a response it returned is then closed through the portal, as nobody else will
close it. The thread is a daemon: a script that never calls `close()` still
exits.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar, Unpack

import trio

from .._core.cookies import Cookies
from .._core.decoders import decoder_for
from .._core.headers import Headers
from .._core.models import AsyncResponse, Request, Response
from .._core.urls import URL
from .client import TrioClient
from .options import (
    BUILD,
    NO_BODY,
    ONE_OFF,
    ONE_OFF_BODY,
    REQUEST,
    SEND,
    STREAM,
    BuildOptions,
    ClientBase,
    ClientConfig,
    NoBodyOptions,
    OneOffBodyOptions,
    OneOffOptions,
    RequestOptions,
    SendOptions,
    StreamOptions,
    check_options,
    takes,
)
from .portal import Portal

T = TypeVar("T")


class _RawChunks:
    """The raw body of an `AsyncResponse`, pulled chunk by chunk through the portal."""

    def __init__(self, portal: Portal, response: AsyncResponse) -> None:
        self._portal = portal
        self._response = response
        # Claimed at the first read: a response hook's view of a response must
        # leave its body to the engine unless the hook reads it.
        self._raw: AsyncIterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._raw is None:
            self._raw = self._response.raw()
        try:
            return self._portal.call(self._raw.__anext__)
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self._portal.call(self._response.close)


class Client(ClientBase):
    """A blocking HTTP client, usable from any number of threads at once.

    Takes the same arguments as `TrioClient`. Use it with ``with`` or call
    `close()`; a client never closed does not keep the interpreter alive.

    ``event_hooks={"request": [...], "response": [...]}`` takes plain
    functions. They are called with each `Request` before it is sent and
    each `Response` before its body is read (redirect hops and auth round
    trips included), in a worker thread of the client's trio thread while the
    caller waits; a response hook may call ``response.read()``, and a hook
    may make requests with this client. An exception raised by a hook
    propagates to the caller.
    """

    def _configure(self, config: ClientConfig) -> None:
        # The engine calls the hooks through these adapters, so that the lists
        # in `event_hooks` (plain functions) may change at any time.
        self.event_hooks = config.event_hooks
        adapters = {"request": [self._request_hooks], "response": [self._response_hooks]}
        self._engine = TrioClient._from_config(replace(config, event_hooks=adapters))
        self._portal: Portal | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def cookies(self) -> Cookies:
        """The client's `Cookies`, updated from every response."""
        return self._engine.cookies

    @property
    def headers(self) -> Headers:
        """The client's default `Headers`."""
        return self._engine.headers

    async def _request_hooks(self, request: Request) -> None:
        for hook in list(self._event_hooks["request"]):
            await trio.to_thread.run_sync(_call_sync_hook, hook, request)

    async def _response_hooks(self, response: AsyncResponse) -> None:
        hooks = list(self._event_hooks["response"])
        if not hooks:
            return
        assert self._portal is not None, "hooks run only during a request"
        wrapped = self._wrap(self._portal, response)
        for hook in hooks:
            await trio.to_thread.run_sync(_call_sync_hook, hook, wrapped)
        if wrapped._content is not None and response._content is None:
            # The hook read the body through `wrapped`: the engine must not read it again.
            response._content = wrapped._content
            response.num_bytes_downloaded = wrapped.num_bytes_downloaded

    def _get_portal(self) -> Portal:
        with self._lock:
            if self._portal is None:
                if self._closed:
                    raise RuntimeError("This Client is closed")
                self._portal = Portal(self._engine)
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

    @takes(BuildOptions)
    def build_request(
        self, method: str, url: URL | str, **options: Unpack[BuildOptions]
    ) -> Request:
        """See `TrioClient.build_request`."""
        check_options(options, BUILD, self, "build_request")
        return self._engine._build(method, url, options)

    def prepare_request(self, request: Request) -> Request:
        """See `TrioClient.prepare_request`."""
        return self._engine.prepare_request(request)

    @takes(RequestOptions)
    def request(self, method: str, url: URL | str, **options: Unpack[RequestOptions]) -> Response:
        """Build and send a request; see `send`."""
        check_options(options, REQUEST, self, "request")
        return self._request(method, url, options)

    def _request(self, method: str, url: URL | str, options: Mapping[str, Any]) -> Response:
        return self._send(self._engine._build(method, url, options), options)

    @takes(SendOptions, first=("stream", "allow_redirects", "auth"))
    def send(self, request: Request, **options: Unpack[SendOptions]) -> Response:
        """Send `request`; the options are those of `TrioClient.send`."""
        check_options(options, SEND, self, "send")
        return self._send(request, options)

    def _send(self, request: Request, options: Mapping[str, Any]) -> Response:
        portal = self._get_portal()
        return self._wrap(portal, portal.call(self._engine._send, request, options))

    def _wrap(self, portal: Portal, response: AsyncResponse) -> Response:
        # The same state (head, content if read, caches), without running
        # Response.__init__ again: only the trio side's own parts are replaced.
        wrapped = Response.__new__(Response)
        state = wrapped.__dict__
        state.update(response.__dict__)
        state.pop("_next", None)
        state["history"] = [self._wrap(portal, r) for r in _async_history(response)]
        if response._content is None and not (response.is_closed or response.is_stream_consumed):
            # Unread: the body comes through the portal and is decoded here.
            state["_stream"] = _RawChunks(portal, response)
            state["_decoder"] = decoder_for(response.headers.get("content-encoding"))
        else:
            # Already read (or discarded) in the trio thread: share, never decode twice.
            state["_stream"] = None
        follow = response._next
        if follow is not None:
            wrapped._next = lambda: self._wrap(portal, portal.call(follow))
        return wrapped

    @takes(StreamOptions)
    @contextmanager
    def stream(
        self, method: str, url: URL | str, **options: Unpack[StreamOptions]
    ) -> Iterator[Response]:
        """Send a request and yield its unread response; it is closed on exit."""
        check_options(options, STREAM, self, "stream")
        response = self._request(method, url, {**options, "stream": True})
        try:
            yield response
        finally:
            response.close()

    @takes(NoBodyOptions)
    def get(self, url: URL | str, **options: Unpack[NoBodyOptions]) -> Response:
        """Send a GET request."""
        check_options(options, NO_BODY, self, "get")
        return self._request("GET", url, options)

    @takes(NoBodyOptions)
    def options(self, url: URL | str, **options: Unpack[NoBodyOptions]) -> Response:
        """Send an OPTIONS request."""
        check_options(options, NO_BODY, self, "options")
        return self._request("OPTIONS", url, options)

    @takes(NoBodyOptions)
    def head(self, url: URL | str, **options: Unpack[NoBodyOptions]) -> Response:
        """Send a HEAD request."""
        check_options(options, NO_BODY, self, "head")
        return self._request("HEAD", url, options)

    @takes(RequestOptions)
    def post(self, url: URL | str, **options: Unpack[RequestOptions]) -> Response:
        """Send a POST request."""
        check_options(options, REQUEST, self, "post")
        return self._request("POST", url, options)

    @takes(RequestOptions)
    def put(self, url: URL | str, **options: Unpack[RequestOptions]) -> Response:
        """Send a PUT request."""
        check_options(options, REQUEST, self, "put")
        return self._request("PUT", url, options)

    @takes(RequestOptions)
    def patch(self, url: URL | str, **options: Unpack[RequestOptions]) -> Response:
        """Send a PATCH request."""
        check_options(options, REQUEST, self, "patch")
        return self._request("PATCH", url, options)

    @takes(RequestOptions)
    def delete(self, url: URL | str, **options: Unpack[RequestOptions]) -> Response:
        """Send a DELETE request."""
        check_options(options, REQUEST, self, "delete")
        return self._request("DELETE", url, options)


def _call_sync_hook(hook: Callable[[Any], Any], item: object) -> None:
    result = hook(item)
    if inspect.iscoroutine(result):
        result.close()
        raise TypeError(
            f"Client event hooks must be plain functions, not coroutine functions ({hook!r}):"
            " async hooks belong to TrioClient and AsyncClient"
        )


def _async_history(response: AsyncResponse) -> list[AsyncResponse]:
    return [r for r in response.history if isinstance(r, AsyncResponse)]


@takes(OneOffBodyOptions, verify=True)
def request(method: str, url: URL | str, **options: Unpack[OneOffBodyOptions]) -> Response:
    """Send one request with a short-lived `Client` and return the read response.

    `verify`, `cert` and `trust_env` configure that client; the other options
    are those of `Client.request`.
    """
    check_options(options, ONE_OFF_BODY, None, "request")
    return _one_off(method, url, options)


def _one_off(method: str, url: URL | str, options: Mapping[str, Any]) -> Response:
    get = options.get
    with Client(
        verify=get("verify", True), cert=get("cert"), trust_env=get("trust_env", True)
    ) as client:
        per_request = {
            name: value
            for name, value in options.items()
            if name not in ("verify", "cert", "trust_env")
        }
        return client._request(method, url, per_request)


@takes(OneOffOptions, verify=True)
def get(url: URL | str, **options: Unpack[OneOffOptions]) -> Response:
    """Send a GET request with a short-lived `Client`."""
    check_options(options, ONE_OFF, None, "get")
    return _one_off("GET", url, options)


@takes(OneOffOptions, verify=True)
def options(url: URL | str, **options: Unpack[OneOffOptions]) -> Response:
    """Send an OPTIONS request with a short-lived `Client`."""
    check_options(options, ONE_OFF, None, "options")
    return _one_off("OPTIONS", url, options)


@takes(OneOffOptions, verify=True)
def head(url: URL | str, **options: Unpack[OneOffOptions]) -> Response:
    """Send a HEAD request with a short-lived `Client`."""
    check_options(options, ONE_OFF, None, "head")
    return _one_off("HEAD", url, options)


@takes(OneOffBodyOptions, verify=True)
def post(url: URL | str, **options: Unpack[OneOffBodyOptions]) -> Response:
    """Send a POST request with a short-lived `Client`."""
    check_options(options, ONE_OFF_BODY, None, "post")
    return _one_off("POST", url, options)


@takes(OneOffBodyOptions, verify=True)
def put(url: URL | str, **options: Unpack[OneOffBodyOptions]) -> Response:
    """Send a PUT request with a short-lived `Client`."""
    check_options(options, ONE_OFF_BODY, None, "put")
    return _one_off("PUT", url, options)


@takes(OneOffBodyOptions, verify=True)
def patch(url: URL | str, **options: Unpack[OneOffBodyOptions]) -> Response:
    """Send a PATCH request with a short-lived `Client`."""
    check_options(options, ONE_OFF_BODY, None, "patch")
    return _one_off("PATCH", url, options)


@takes(OneOffBodyOptions, verify=True)
def delete(url: URL | str, **options: Unpack[OneOffBodyOptions]) -> Response:
    """Send a DELETE request with a short-lived `Client`."""
    check_options(options, ONE_OFF_BODY, None, "delete")
    return _one_off("DELETE", url, options)
