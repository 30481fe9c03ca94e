"""One HTTP/1.1 connection, driven by a sans-I/O codec (see `_h1codec`).

Theory of operation: a connection carries one request at a time. The pool
reserves it (`reserve()`), the requesting task writes the request and reads
the response head in `handle_request()`, and the body is read by whoever
iterates the response, one `receive` at a time, each under the read timeout.
When the body ends cleanly and both sides may keep the connection, the codec
starts a new cycle and the connection goes back to the pool as idle; in every other
case (error, cancellation, a body not read to the end, `Connection: close`,
left-over bytes, a response framed by both Content-Length and
Transfer-Encoding) it is closed. The pool learns of either through the
`on_release` callback, which is plain `def`, so no checkpoint separates the
connection's state change from the pool's bookkeeping.

The codec is httptools' when the `speedups` extra is installed, else h11's
(`CODEC`, which tests may replace).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from .._core.config import TimeoutConfig
from .._core.exceptions import NetworkError, ProtocolError, ReadTimeout, WriteError
from .._core.h1codec import END, NEED_DATA, Event, H11Codec, Head, HttptoolsCodec, default_codec
from .._core.headers import Headers
from .._core.models import AsyncResponse, Request
from .network import NetworkStream, ResponseBody

if TYPE_CHECKING:
    from collections.abc import Hashable

MAX_HEAD_SIZE = 100 * 1024
# Reads start small (a head, a small body) and grow while they come back full,
# so a large body moves in few, large reads.
FIRST_READ_SIZE = 64 * 1024
MAX_READ_SIZE = 1024 * 1024
_IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"))
# Request bodies larger than this (or streamed) are sent by a child task while
# the request's task watches for an early response; smaller ones go in one write
# (with the head), which a socket's send buffer takes whole.
WATCH_UPLOADS_ABOVE = 16 * 1024
# At most this much of an early answer's body is read before the upload stops.
EARLY_BODY_LIMIT = 1024 * 1024
# The HTTP/1.1 codec class for new connections.
CODEC: type[H11Codec] | type[HttptoolsCodec] = default_codec()


class _UploadWatch:
    """What the upload task tells the task reading the response head."""

    __slots__ = ("error", "finished", "scope", "write_error")

    def __init__(self) -> None:
        self.scope = trio.CancelScope()  # the reader's wait
        self.finished = False
        self.write_error: WriteError | None = None
        self.error: Exception | None = None


class HTTP11Connection:
    """An HTTP/1.1 connection that the pool hands to one request at a time."""

    http_version = "HTTP/1.1"
    max_streams = 1

    def __init__(
        self,
        stream: NetworkStream,
        key: Hashable,
        on_release: Callable[[Any], None],
        keepalive_expiry: float | None,
        *,
        forwarding: bool = False,
        proxy_authorization: str | None = None,
    ) -> None:
        self.key = key
        # A connection to a proxy that forwards our requests: targets in absolute
        # form, and the proxy's credentials on every request (this hop only).
        self._forwarding = forwarding
        self._proxy_headers = (
            [(b"proxy-authorization", proxy_authorization.encode("latin-1"))]
            if proxy_authorization is not None
            else []
        )
        self._stream = stream
        self._on_release = on_release
        self._keepalive_expiry = keepalive_expiry
        self._codec = CODEC(MAX_HEAD_SIZE)
        self.is_closed = False
        self.active_streams = 0
        self.requests_handled = 0
        self.idle_since = trio.current_time()
        # Progress of the current request, for the pool's retry rule.
        self.request_bytes_written = False
        self.response_bytes_received = False
        # The request's timeouts, read at each wait: its total deadline shrinks them.
        self._timeout: TimeoutConfig | None = None
        self._read_size = FIRST_READ_SIZE
        self._token = trio.lowlevel.current_trio_token()
        self._tls_version, self._tls_cipher = stream.tls_info
        # The body of an answer that came during the upload, read before the upload
        # was cancelled (a cancelled TLS write breaks the stream for reading too).
        self._early: deque[Event] = deque()

    # -- what the pool asks (all plain def) ---------------------------------------

    def is_available(self) -> bool:
        return not self.is_closed and self.active_streams == 0

    def is_idle(self) -> bool:
        return not self.is_closed and self.active_streams == 0

    def has_expired(self, now: float) -> bool:
        """An idle connection past its keep-alive expiry, or one the server closed."""
        if self._keepalive_expiry is not None and now - self.idle_since > self._keepalive_expiry:
            return True
        return self._stream.is_readable()

    def reserve(self) -> None:
        self.active_streams = 1

    def unreserve(self) -> None:
        """Undo `reserve()` for a request that never started: idle again, as it was."""
        self.active_streams = 0
        self._on_release(self)

    def retry_is_safe(self, request: Request, error: Exception) -> bool:
        """May a request that failed here be sent again on a fresh connection?"""
        if self.response_bytes_received or self.requests_handled < 2:
            return False  # not a reused connection, or the server had started answering
        return not self.request_bytes_written or (
            request.method in _IDEMPOTENT_METHODS and request.body.can_replay
        )

    def close_nowait(self) -> None:
        self.is_closed = True
        self._stream.close_nowait()

    async def aclose(self) -> None:
        self.is_closed = True
        await self._stream.aclose()

    # -- the request -----------------------------------------------------------------

    async def handle_request(self, request: Request, timeout: TimeoutConfig) -> AsyncResponse:
        """Send `request` and read the response head; the body streams afterwards.

        Any error or cancellation closes the connection and releases it to the
        pool before it propagates.
        """
        self.requests_handled += 1
        self.request_bytes_written = False
        self.response_bytes_received = False
        self._timeout = timeout
        self._read_size = FIRST_READ_SIZE
        try:
            content = request.body.content
            if content is not None and len(content) <= WATCH_UPLOADS_ABOVE:
                # One write that the socket buffer takes at once: nothing to watch.
                # The wait for the answer is the request's only schedule point.
                await trio.lowlevel.checkpoint_if_cancelled()
                await self._send_request(request, timeout, eager=True)
                response = await self._receive_head()
            else:
                response = await self._send_watching_for_response(request, timeout)
            raw_headers = response.headers
        except BaseException:
            self._fail()
            raise
        result = AsyncResponse(
            response.status_code,
            headers=Headers._from_trusted_raw(raw_headers),
            content=ResponseBody(
                self.receive_body_chunk,
                self.abandon_body,
                self.abandon_nowait,
                self._token,
                request.url,
            ),
            request=request,
            protocol=response.protocol,
            # An empty reason phrase falls back to the standard one for the code.
            reason_phrase=response.reason.decode("latin-1") or None,
        )
        result.tls_version, result.tls_cipher = self._tls_version, self._tls_cipher
        return result

    async def _send_request(
        self, request: Request, timeout: TimeoutConfig, *, eager: bool = False
    ) -> None:
        codec = self._codec
        # Our Headers already refused control characters and non-token names; the
        # codec checks the framing headers (Content-Length, Transfer-Encoding) and Host.
        url = request.url
        headers = [(name.lower(), value) for name, value in request.headers.raw]
        if self._forwarding:
            target = f"{url.scheme}://{url.authority}{url.full_path}"
            headers += self._proxy_headers
        else:
            target = url.full_path
        head = codec.start_request(request.method.encode("ascii"), target.encode("ascii"), headers)
        body = request.body
        content = body.content
        if content is not None:
            # The whole request in one write: head, body and end of message.
            data = head + codec.body(content) + codec.end()
            if eager:
                await self._stream.send_eager(data, timeout.write_timeout)
                self.request_bytes_written = True
            else:
                await self._write(data, timeout.write_timeout)
            return
        await self._write(head, timeout.write_timeout)
        chunks = body.__aiter__()
        try:
            async for chunk in chunks:  # bodies never yield empty chunks
                await self._write(codec.body(chunk), timeout.write_timeout)
        finally:
            # Stopped early (an early answer, an error, cancellation): close the
            # caller's iterator now rather than leave it to the garbage collector.
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        # e.g. fewer body bytes than the Content-Length the caller set
        await self._write(codec.end(), timeout.write_timeout)

    async def _write(self, data: bytes, timeout: float | None) -> None:
        await self._stream.write(data, timeout)
        self.request_bytes_written = True

    async def _send_watching_for_response(self, request: Request, timeout: TimeoutConfig) -> Head:
        """Upload in a child task while this task reads the response head.

        A final response that arrives before the upload is done (a 413, a 401)
        stops the upload and is returned; the connection is then not reused.
        The read timeout starts when the upload ends (or fails).
        """
        watch = _UploadWatch()
        failure: Exception | None = None
        head: Head | None = None
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._upload, request, timeout, watch)
            try:
                head = await self._watch_for_head(watch)
            except Exception as exc:  # raised outside the nursery: no exception group
                failure = exc
            nursery.cancel_scope.cancel()  # the upload, if still running
        if not watch.finished:
            self._codec.send_failed()  # answered early, or failed: never reused
        if failure is not None:
            raise failure
        assert head is not None
        return head

    async def _upload(self, request: Request, timeout: TimeoutConfig, watch: _UploadWatch) -> None:
        try:
            await self._send_request(request, timeout)
        except WriteError as exc:
            # The server may have answered and closed: the reader looks for that answer.
            watch.write_error = exc
        except Exception as exc:
            watch.error = exc
            watch.scope.cancel()
            return
        else:
            watch.finished = True
        read_timeout = self._read_timeout
        if read_timeout is not None:
            watch.scope.deadline = trio.current_time() + read_timeout

    async def _watch_for_head(self, watch: _UploadWatch) -> Head:
        codec = self._codec
        closed = False
        with watch.scope:
            try:
                while True:
                    event = codec.next_event()  # the codec skips 1xx responses
                    if event is not NEED_DATA:
                        assert isinstance(event, Head)
                        if not watch.finished:
                            await self._read_early_body()
                        return event
                    closed = not await self._read_into_codec(None)
            except (NetworkError, ProtocolError) as exc:
                # Closed or reset while the body was still going out: the write failed
                # (an answer the server sent first would have been returned).
                upload_failed = watch.write_error is not None or (
                    not watch.finished and (closed or isinstance(exc, NetworkError))
                )
                if not upload_failed:
                    raise
                raise (
                    watch.write_error
                    or WriteError(f"The connection failed during the upload: {exc}")
                ) from exc
        if watch.error is not None:
            raise watch.error
        raise ReadTimeout("ReadTimeout: the operation timed out")

    async def _read_early_body(self) -> None:
        """Buffer the body of an early answer (up to `EARLY_BODY_LIMIT`) while the
        upload is still running: stopping the upload may break a TLS stream."""
        size = 0
        while size <= EARLY_BODY_LIMIT:
            event = await self._next_event()
            self._early.append(event)
            if event is END:
                return
            assert type(event) is bytes
            size += len(event)

    async def _receive_head(self) -> Head:
        # A new cycle starts with nothing buffered: the first bytes are to come.
        data = await self._stream.read(self._read_timeout, self._read_size, wait_first=True)
        self._received(data)
        event = await self._next_event()  # the codec skips 1xx responses
        assert isinstance(event, Head)
        return event

    @property
    def _read_timeout(self) -> float | None:
        assert self._timeout is not None, "set by handle_request"
        return self._timeout.read_timeout

    async def _next_event(self) -> Event:
        codec = self._codec
        while True:
            event = codec.next_event()
            if event is not NEED_DATA:
                return event
            await self._read_into_codec(self._read_timeout)

    async def _read_into_codec(self, timeout: float | None) -> bool:
        """Read once into the codec; False at the end of the stream."""
        data = await self._stream.read(timeout, self._read_size)
        self._received(data)
        return bool(data)

    def _received(self, data: bytes) -> None:
        if data:
            self.response_bytes_received = True
            if len(data) == self._read_size and self._read_size < MAX_READ_SIZE:
                self._read_size *= 4
        self._codec.receive(data)

    # -- the response body -----------------------------------------------------------

    async def receive_body_chunk(self) -> bytes | None:
        """The next chunk of body, or None at the end (the connection is then released)."""
        try:
            event = self._early.popleft() if self._early else await self._next_event()
        except BaseException:
            self._fail()
            raise
        if type(event) is bytes:
            return event
        assert event is END
        self._finish()
        return None

    def _finish(self) -> None:
        """The response is complete: back to the pool as idle, or closed."""
        if not self._codec.is_reusable():
            self._fail()
            return
        self._codec.start_next_cycle()
        self.active_streams = 0
        self.idle_since = trio.current_time()
        self._on_release(self)

    def _fail(self) -> None:
        """Close the connection at once and tell the pool. Idempotent."""
        if self.is_closed:
            return  # e.g. the client closed it while a response was still being read
        self.active_streams = 0
        self.close_nowait()
        self._on_release(self)

    async def abandon_body(self) -> None:
        """The response was closed before its end: the connection cannot be reused."""
        self.abandon_nowait()

    def abandon_nowait(self) -> None:
        if self.active_streams:
            self._fail()
