"""One HTTP/2 connection, driven by h2: a reader task and per-stream buffers.

Theory of operation
-------------------
*Who reads.* Exactly one task: the connection's reader, started with
``nursery.start`` in the client's nursery. It reads the socket in large
chunks, feeds h2, and appends every stream event to that stream's buffer (a
deque), waking the stream's consumer if it is parked; it never waits on a
consumer, so one slow consumer cannot stall SETTINGS, PING or the other
streams. ``nursery.start`` returns once the server's SETTINGS have arrived,
so the stream limit is known before the first request.

*Who writes.* Any task, through `_flush()`: one writer at a time takes all
the bytes h2 has queued and sends them, and goes on until h2 has nothing
left. A task that queues frames while another writes leaves them to that
writer, so the frames of every stream opened in one scheduler turn leave in
one send. The write is shielded from cancellation (and bounded by the write
timeout) so a frame is never cut in half; a write that fails or is cut short
fails the connection, which reaches every stream whose frames were pending.

*Flow control bounds memory.* DATA is not acknowledged when it arrives: a
stream's consumer returns the credit of what it takes (``flow_controlled_length``,
padding included), in batches: the stream's window once half of it is consumed
(never for a stream whose END_STREAM has arrived: it takes no more data), the
connection's every `CONNECTION_ACK` bytes, or at once while the server has
less than half of the connection window left (streams nobody reads may hold
the rest: credit held back could then stall a stream that is read). A slow
consumer therefore holds at most its stream window (`STREAM_WINDOW`), and all
streams together at most the connection window, while other streams keep
flowing. A stream abandoned with
data still buffered (closed early, cancelled, failed) returns that credit at
once, resets the stream with CANCEL, and h2 returns the credit of any DATA
still in flight for it. A response garbage-collected before it was closed is
abandoned the same way, from the trio loop, and a task in the client's
nursery sends the reset.

*Header checks.* h2's own header validation is off (see `_core/h2codec.py`):
each response head is checked with `check_head` in the stream's own task, so
a malformed head fails its stream (which is reset) as RFC 9113 §8.1.1 asks;
1xx heads and trailers, which the response does not expose, are checked by
the reader and fail their stream the same way.

Request bodies are sent within the peer's window: a sender waits on an event
the reader sets on every WINDOW_UPDATE or SETTINGS change, never buffering.

*Timeouts* are enforced by the request's own task: the write timeout on each
flush and each wait for window, the read timeout on each wait for its buffer.
The reader has none: an idle connection lives until keep-alive expiry.

*Failure.* Any error in the reader (EOF, reset, protocol error) is stored,
pushed into every open stream's buffer, marks the connection closed, and
the task returns normally: nothing escapes into the client's nursery. On
GOAWAY, streams above ``last_stream_id`` fail with `StreamRefused` (the pool
retries them on another connection), lower ones finish, and no new stream
starts here; so does a stream reset with REFUSED_STREAM.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections import deque
from collections.abc import Callable
from typing import Any

import h2.events
import h2.exceptions
import trio
from h2.errors import ErrorCodes

from .._core.config import TimeoutConfig
from .._core.exceptions import (
    LocalProtocolError,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WriteError,
    WriteTimeout,
)
from .._core.h2codec import (
    CONNECTION_WINDOW,
    STREAM_WINDOW,
    check_fields,
    check_head,
    new_connection,
    request_headers,
)
from .._core.headers import Headers
from .._core.models import AsyncResponse, Request
from .network import CLOSE_TIMEOUT, NetworkStream, ResponseBody, _deadline

# Consumed data is credited to the connection in batches of this much: far
# from the window's end (no stall), and a frame per MiB rather than per read.
# A stream's own window is replenished once half of it has been consumed.
CONNECTION_ACK = 1 << 20
# At most this much body is handed to the consumer in one chunk.
MAX_BATCH = 256 * 1024
READ_SIZE = 256 * 1024
# Never more streams at once than this, whatever the server allows (nginx's
# default is 128; servers tuned for many streams allow a few thousand, and a
# request beyond the limit makes the pool open another connection).
MAX_STREAMS_CAP = 4096
# Stop opening streams well before the 31-bit stream id space runs out.
LAST_STREAM_ID = (1 << 31) - 1000


class StreamRefused(RemoteProtocolError):
    """The server did not process the stream: safe to send again on another connection."""


def _fresh(error: Exception) -> Exception:
    """A new exception like `error`, for one stream's task (each gets its own traceback)."""
    if isinstance(error, TransportError):
        copy = type(error)(str(error))
        copy.__cause__ = error.__cause__ or error
        return copy
    remote = RemoteProtocolError(f"HTTP/2 connection failed: {error}")
    remote.__cause__ = error
    return remote


def _unwrap(item: Any) -> Any:
    """A routed event, or the stream's failure raised."""
    if isinstance(item, Exception):
        raise _fresh(item)
    if isinstance(item, h2.events.StreamReset):
        if item.error_code == ErrorCodes.REFUSED_STREAM:
            raise StreamRefused("The server refused the stream (REFUSED_STREAM)")
        raise RemoteProtocolError(f"The server reset the stream ({item.error_code!r})")
    return item


def _wake(stream: _Stream) -> None:
    task = stream.waiter
    if task is not None:
        stream.waiter = None
        trio.lowlevel.reschedule(task)


class _Stream:
    __slots__ = ("buffered", "ended", "items", "remote_closed", "reset", "unacked", "waiter")

    def __init__(self) -> None:
        # What the reader routed here and the consumer has not taken yet: h2
        # events, or an exception that fails the stream.
        self.items: deque[Any] = deque()
        # The consumer's task while it waits for `items`.
        self.waiter: trio.lowlevel.Task | None = None
        # Flow-controlled bytes routed here and not yet taken: bounded by the window.
        self.buffered = 0
        # Flow-controlled bytes consumed but not yet returned to the stream's window.
        self.unacked = 0
        # END_STREAM was taken from `items` (its data may still be returned first).
        self.ended = False
        # END_STREAM or RST_STREAM has arrived: the stream's window is h2's no more.
        self.remote_closed = False
        # The server reset the stream: stop sending (it may have answered early).
        self.reset = False


def _abort(stream: _Stream) -> Callable[[Any], trio.lowlevel.Abort]:
    def abort(raise_cancel: Any) -> trio.lowlevel.Abort:
        stream.waiter = None
        return trio.lowlevel.Abort.SUCCEEDED

    return abort


_STREAM_EVENTS = frozenset(
    (
        h2.events.DataReceived,
        h2.events.ResponseReceived,
        h2.events.StreamEnded,
        h2.events.StreamReset,
    )
)
_BODY_EVENTS = frozenset((h2.events.DataReceived, h2.events.StreamEnded))
_CHECKED_EVENTS = frozenset((h2.events.TrailersReceived, h2.events.InformationalResponseReceived))


class HTTP2Connection:
    """An HTTP/2 connection that the pool shares between concurrent requests."""

    http_version = "HTTP/2"

    def __init__(
        self,
        stream: NetworkStream,
        key: Any,
        on_release: Callable[[Any], None],
        keepalive_expiry: float | None,
        write_timeout: float | None,
    ) -> None:
        self.key = key
        self._stream = stream
        self._on_release = on_release
        self._keepalive_expiry = keepalive_expiry
        self._write_timeout = write_timeout
        self._tls_version, self._tls_cipher = stream.tls_info
        self._h2 = new_connection()
        self._streams: dict[int, _Stream] = {}
        self._h2.tracked = self._streams
        # Consumed bytes not yet returned to the connection window (< CONNECTION_ACK).
        self._connection_unacked = 0
        self._writing = False
        # Set when the write under way ends (a new one per write).
        self._write_done = trio.Event()
        self._window_changed = trio.Event()
        # Set (and replaced) when a stream ends or the server's stream limit changes.
        self._slots_changed = trio.Event()
        self._settings_received = False
        self._started = False
        self._goaway = False
        self._error: Exception | None = None
        self.is_closed = False
        self.active_streams = 0
        self.max_streams = 1
        self.requests_handled = 0
        self.idle_since = trio.current_time()
        self._token = trio.lowlevel.current_trio_token()
        self._nursery: trio.Nursery | None = None

    # -- what the pool asks (all plain def) ---------------------------------------

    def is_available(self) -> bool:
        return (
            not self.is_closed
            and not self._goaway
            and self.active_streams < self.max_streams
            and self._h2.highest_outbound_stream_id < LAST_STREAM_ID
        )

    def is_idle(self) -> bool:
        return not self.is_closed and self.active_streams == 0

    def has_expired(self, now: float) -> bool:
        """Idle past the keep-alive expiry (the reader notices a closed socket itself)."""
        return self._keepalive_expiry is not None and now - self.idle_since > self._keepalive_expiry

    def reserve(self) -> None:
        self.active_streams += 1

    def unreserve(self) -> None:
        """Undo `reserve()` for a request that never opened its stream."""
        self._release_slot()

    def retry_is_safe(self, request: Request, error: Exception) -> bool:
        """A stream the server refused, or never processed, may go to another connection."""
        return isinstance(error, StreamRefused)

    def close_nowait(self) -> None:
        self._fail(ReadError("The connection was closed"))

    async def aclose(self) -> None:
        """Say GOAWAY (bounded in time), then close the socket; the reader ends."""
        if not self.is_closed:
            self._h2.close_connection()
            # TransportError: the reader may fail the connection meanwhile (data
            # arriving after our GOAWAY); closing goes on regardless.
            with (
                trio.move_on_after(CLOSE_TIMEOUT, shield=True),
                contextlib.suppress(TransportError),
            ):
                await self._flush_own(CLOSE_TIMEOUT)
        self.close_nowait()

    # -- setup and the reader task ---------------------------------------------------

    async def start(self, nursery: trio.Nursery) -> None:
        """Send the preface and SETTINGS; return once the server's SETTINGS arrived."""
        self._nursery = nursery
        self._h2.initiate_connection()
        self._h2.increment_flow_control_window(CONNECTION_WINDOW - 65535)
        await self._flush(self._write_timeout)
        await nursery.start(self._read_loop)

    async def _read_loop(
        self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        # Until the server's SETTINGS arrive, a failure belongs to whoever is
        # opening the connection (`nursery.start` re-raises it there).
        while not self._settings_received:
            await self._receive_events()
        self._started = True
        task_status.started()
        try:
            while True:
                await self._receive_events()
        except Exception as exc:
            self._fail(exc)
        finally:
            # Cancelled: the client is closing. Whatever still waits must not hang.
            self._fail(ReadError("The client closed the connection"))

    async def _receive_events(self) -> None:
        data = await self._stream.read(None, READ_SIZE)
        if not data:
            raise RemoteProtocolError("The server closed the HTTP/2 connection")
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            # h2 has queued a GOAWAY naming the error: try to send it (bounded).
            with (
                trio.move_on_after(CLOSE_TIMEOUT, shield=True),
                contextlib.suppress(TransportError),
            ):
                await self._flush_own(CLOSE_TIMEOUT)
            raise RemoteProtocolError(f"HTTP/2 protocol error: {exc}") from exc
        route = self._route
        for event in events:
            route(event)
        if self._connection_unacked:
            self._credit_connection(0)  # the window may have run low: see there
        # Usually nothing to send: PING and SETTINGS acknowledgements only.
        if self._h2._data_to_send:
            await self._flush(self._write_timeout)

    def _route(self, event: h2.events.Event) -> None:
        kind = type(event)
        if kind in _STREAM_EVENTS:
            # Every such event is for a stream we track: h2 emits none for a stream
            # we reset (and returns the credit of DATA still arriving for it itself).
            stream = self._streams[event.stream_id]  # type: ignore[attr-defined]
            if kind is h2.events.DataReceived:
                stream.buffered += event.flow_controlled_length  # type: ignore[attr-defined]
            elif kind is h2.events.StreamEnded:
                stream.remote_closed = True
            elif kind is h2.events.StreamReset:
                stream.remote_closed = stream.reset = True
                self._wake_senders()  # a sender waiting for window on it must stop
            stream.items.append(event)
            if stream.waiter is not None:
                _wake(stream)
        elif kind is h2.events.RemoteSettingsChanged:
            self._settings_received = True
            limit = self._h2.remote_settings.max_concurrent_streams
            self.max_streams = min(limit, MAX_STREAMS_CAP)  # 0: no stream for now
            self._wake_senders()
            self._wake_slot_waiters()
            if self._started:
                self._on_release(self)  # more (or fewer) streams: let waiters look again
        elif kind is h2.events.WindowUpdated:
            self._wake_senders()
        elif kind is h2.events.ConnectionTerminated:
            self._on_goaway(event.last_stream_id or 0)  # type: ignore[attr-defined]
        elif kind in _CHECKED_EVENTS:
            # Not exposed (1xx responses, trailers), but a malformed block still
            # makes the stream malformed.
            stream = self._streams[event.stream_id]  # type: ignore[attr-defined]
            try:
                if kind is h2.events.TrailersReceived:
                    check_fields(event.headers, 0)  # type: ignore[attr-defined]
                else:
                    check_head(event.headers)  # type: ignore[attr-defined]
            except RemoteProtocolError as exc:
                stream.items.append(exc)
                _wake(stream)
        # Other events need nothing: h2 answers PINGs and SETTINGS itself.

    def _on_goaway(self, last_stream_id: int) -> None:
        self._goaway = True
        for stream_id, stream in self._streams.items():
            if stream_id > last_stream_id:
                stream.items.append(
                    StreamRefused("The server is going away and did not process this request")
                )
                _wake(stream)
        if self.active_streams == 0:
            self._fail(ReadError("The server closed the connection (GOAWAY)"))
        else:
            self._on_release(self)

    def _wake_senders(self) -> None:
        self._window_changed.set()
        self._window_changed = trio.Event()

    def _wake_slot_waiters(self) -> None:
        self._slots_changed.set()
        self._slots_changed = trio.Event()

    def _fail(self, error: Exception) -> None:
        """Close the connection and fail every open stream with `error`. Idempotent."""
        if self.is_closed:
            return
        self.is_closed = True
        self._error = error
        for stream in self._streams.values():
            stream.items.append(error)
            _wake(stream)
        self._stream.close_nowait()
        self._wake_senders()
        self._wake_slot_waiters()
        self._on_release(self)

    # -- the one write path ----------------------------------------------------------

    async def _flush(self, timeout: float | None) -> None:
        """Send what h2 has queued: now, or by the task already writing.

        A task that finds a write under way leaves its frames to that writer;
        frames queued during a write are sent by a task of the client's nursery
        once it ends, so no request is held up sending others' frames. If a
        write fails, the connection fails, and so does every stream that had
        frames pending.
        """
        if self._writing or not self._h2._data_to_send:
            return
        if self.is_closed:
            assert self._error is not None
            raise _fresh(self._error)
        self._writing = True
        self._write_done = trio.Event()
        try:
            # One turn of the scheduler first: the other tasks woken in this
            # turn queue their frames too, and all of them leave in one send.
            await trio.lowlevel.cancel_shielded_checkpoint()
            if self.is_closed:
                assert self._error is not None
                raise _fresh(self._error)
            data = self._h2.data_to_send()
            # Shielded so that a cancelled task never leaves half a frame
            # behind; the write timeout still bounds it.
            with trio.CancelScope(shield=timeout is not None):
                try:
                    await self._stream.write(data, timeout)
                except BaseException as exc:
                    # Cut short (or cancelled, with no timeout to bound it):
                    # what reached the socket is unknown, the connection is dead.
                    self._fail(
                        exc
                        if isinstance(exc, Exception)
                        else WriteError("A write to the connection was cancelled")
                    )
                    raise
        finally:
            self._writing = False
            self._write_done.set()
        if self._h2._data_to_send and not self.is_closed:
            assert self._nursery is not None  # set before the first write
            self._nursery.start_soon(self._flush_left_over)

    async def _flush_left_over(self) -> None:
        # TransportError: the connection failed, and `_fail` has told everyone.
        with contextlib.suppress(TransportError):
            await self._flush(self._write_timeout)

    # -- one request -----------------------------------------------------------------

    async def handle_request(self, request: Request, timeout: TimeoutConfig) -> AsyncResponse:
        """Open a stream, send `request` on it and read the response head.

        The body streams afterwards, each chunk's credit returned as it is taken.
        Any error or cancellation resets this stream only.
        """
        self.requests_handled += 1
        stream_id: int | None = None
        try:
            await self._wait_for_stream_slot(timeout.pool_timeout)
            stream_id = self._open_stream(request)
            await self._flush(timeout.write_timeout)
            if request.body.content != b"":
                await self._send_body(stream_id, request, timeout)
            event = await self._receive_head(stream_id, timeout)
            headers = event.headers
            status = check_head(headers)
        except BaseException:
            await self._abandon(stream_id)
            raise
        response = AsyncResponse(
            status,
            headers=Headers._from_trusted_raw(headers[1:]),
            content=ResponseBody(
                functools.partial(self.receive_body_chunk, stream_id, timeout),
                functools.partial(self._abandon, stream_id),
                functools.partial(self._release_dropped, stream_id),
                self._token,
                request.url,
            ),
            request=request,
            protocol="HTTP/2",
        )
        response.tls_version, response.tls_cipher = self._tls_version, self._tls_cipher
        return response

    async def _wait_for_stream_slot(self, timeout: float | None) -> None:
        """Wait, within the pool timeout, until the server's stream limit has room.

        The pool counts streams too, but a SETTINGS frame lowering the limit may
        arrive after it granted this request a slot here (or the limit may be 0).
        """
        if self._has_stream_slot():
            return
        with trio.move_on_after(math.inf if timeout is None else timeout):
            while not self._has_stream_slot():
                await self._slots_changed.wait()
            return
        raise PoolTimeout(
            "No HTTP/2 stream became free within the pool timeout"
            f" (the server allows {self._h2.remote_settings.max_concurrent_streams} at once)"
        )

    def _has_stream_slot(self) -> bool:
        if self.is_closed:
            assert self._error is not None
            raise _fresh(self._error)
        limit = self._h2.remote_settings.max_concurrent_streams
        # `active_streams` counts this request too: within the limit, there is room
        # (and h2's own count, a scan of every stream, is not needed).
        return self.active_streams <= limit or self._h2.open_outbound_streams < limit

    def _open_stream(self, request: Request) -> int:
        headers = request_headers(request)
        end_stream = request.body.content == b""
        stream_id = self._h2.get_next_available_stream_id()
        try:
            self._h2.send_headers(stream_id, headers, end_stream=end_stream)
        except h2.exceptions.ProtocolError as exc:
            # h2 may have queued a GOAWAY or closed its state: retire the connection.
            error = LocalProtocolError(f"Cannot send this request over HTTP/2: {exc}")
            self._fail(error)
            raise error from exc
        self._streams[stream_id] = _Stream()
        return stream_id

    async def _send_body(self, stream_id: int, request: Request, timeout: TimeoutConfig) -> None:
        # Each wait reads its timeout anew: a request's total deadline shrinks it.
        stream = self._streams[stream_id]
        async for chunk in request.body:
            view = memoryview(chunk)
            while view:
                if stream.reset:
                    return  # the server stopped us: its answer (or the reset) is in `items`
                window = min(
                    self._h2.local_flow_control_window(stream_id),
                    self._h2.max_outbound_frame_size,
                )
                if window <= 0:
                    await self._wait_for_window(timeout.write_timeout)
                    continue
                self._h2.send_data(stream_id, bytes(view[:window]))
                view = view[window:]
                await self._flush_own(timeout.write_timeout)
        # ProtocolError: the server reset the stream during the last write.
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self._h2.end_stream(stream_id)
        await self._flush(timeout.write_timeout)

    async def _flush_own(self, timeout: float | None) -> None:
        """`_flush`, but wait for a write under way first: a body never piles up in h2."""
        while self._writing:
            await self._wait_for(self._write_done, timeout, "sending the request body")
        await self._flush(timeout)

    async def _wait_for_window(self, timeout: float | None) -> None:
        await self._wait_for(self._window_changed, timeout, "flow-control window")
        if self._error is not None:
            raise _fresh(self._error)

    async def _wait_for(self, event: trio.Event, timeout: float | None, what: str) -> None:
        with trio.move_on_after(math.inf if timeout is None else timeout) as scope:
            await event.wait()
        if scope.cancelled_caught:
            raise WriteTimeout(f"The server gave no {what} in time")

    async def _next_item(self, stream: _Stream, deadline: float) -> Any:
        """The next routed item, waiting for it until `deadline` (then `ReadTimeout`)."""
        if not stream.items:
            stream.waiter = trio.lowlevel.current_task()
            # A bare CancelScope rather than trio.fail_after: this runs for every wait.
            with trio.CancelScope(deadline=deadline) as scope:
                await trio.lowlevel.wait_task_rescheduled(_abort(stream))
            if scope.cancelled_caught:
                raise ReadTimeout("The server sent nothing on this stream in time")
        else:
            # Not a schedule point, but a cancelled caller still stops here, as
            # with a wait (a request whose answer is already here must not
            # run to its end through a cancellation).
            await trio.lowlevel.checkpoint_if_cancelled()
        return _unwrap(stream.items.popleft())

    async def _receive_head(self, stream_id: int, timeout: TimeoutConfig) -> Any:
        item = await self._next_item(self._streams[stream_id], _deadline(timeout.read_timeout))
        # h2 refuses DATA before HEADERS, and END_STREAM arrives after the head.
        assert type(item) is h2.events.ResponseReceived
        return item

    async def receive_body_chunk(self, stream_id: int, timeout: TimeoutConfig) -> bytes | None:
        """The next chunk of a body, its credit returned as it is taken; None at the end.

        Takes every DATA frame already waiting (up to `MAX_BATCH` bytes) at once:
        a task switch per small frame would cost more than the frame itself.
        """
        stream = self._streams[stream_id]
        items = stream.items
        # One deadline for the whole call: frames without data (empty DATA) do not
        # extend it, only data handed to the caller does.
        deadline = _deadline(timeout.read_timeout)
        while not stream.ended:
            item = await self._next_item(stream, deadline)
            chunks: list[bytes] = []
            consumed = 0
            while True:
                if type(item) is h2.events.StreamEnded:
                    stream.ended = True
                    break
                # Otherwise DATA: a repeated HEADERS is trailers, which are not routed.
                consumed += item.flow_controlled_length
                if item.data:
                    chunks.append(item.data)
                # A failure waiting behind the data is raised by the next call.
                if consumed >= MAX_BATCH or not items or type(items[0]) not in _BODY_EVENTS:
                    break
                item = items.popleft()
            if consumed and self._credit(stream, stream_id, consumed) and not self.is_closed:
                # Best effort: a failed write fails the connection, and so this
                # stream's next read, but never the data in hand.
                with contextlib.suppress(TransportError):
                    await self._flush(self._write_timeout)
            if chunks:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._end_stream(stream_id)
        return None

    def _credit(self, stream: _Stream, stream_id: int, consumed: int) -> bool:
        """Return the credit of `consumed` bytes in batches; True if a WINDOW_UPDATE is queued."""
        stream.buffered -= consumed
        queued = False
        if not stream.remote_closed:
            # A stream that has ended takes no more data: its window stays as is.
            stream.unacked += consumed
            if stream.unacked >= STREAM_WINDOW // 2:
                self._increment_window(stream.unacked, stream_id)
                stream.unacked = 0
                queued = True
        return self._credit_connection(consumed) or queued

    def _credit_connection(self, consumed: int) -> bool:
        """Return credit to the connection window: in batches while the server has
        half of the window or more left, at once below that. Streams nobody reads
        may take what is left of the window (each up to its own window): credit
        held back then could leave a stream that is read waiting forever."""
        self._connection_unacked += consumed
        if self._connection_unacked < CONNECTION_ACK and (
            not self._connection_unacked
            or self._h2.inbound_flow_control_window >= CONNECTION_WINDOW // 2
        ):
            return False
        self._increment_window(self._connection_unacked, None)
        self._connection_unacked = 0
        return True

    def _increment_window(self, increment: int, stream_id: int | None) -> None:
        # ProtocolError: h2 has closed the connection's state (it sent a GOAWAY on
        # an error, or we did in `aclose`): no credit matters any more.
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self._h2.increment_flow_control_window(increment, stream_id=stream_id)

    def _end_stream(self, stream_id: int) -> None:
        """The stream is done: free its slot; a GOAWAY'd connection closes with its last stream."""
        del self._streams[stream_id]
        self._release_slot()

    def _release_slot(self) -> None:
        self.active_streams -= 1
        self._wake_slot_waiters()
        if self.active_streams == 0:
            self.idle_since = trio.current_time()
            if self._goaway:
                self._fail(ReadError("The server closed the connection (GOAWAY)"))
                return
        self._on_release(self)

    async def _abandon(self, stream_id: int | None) -> None:
        """Give up a stream early: return its buffered credit, reset it, free the slot."""
        if stream_id is None:  # failed before the stream was opened
            self._release_slot()
        elif self._abandon_nowait(stream_id):
            await self._flush_quietly()

    def _abandon_nowait(self, stream_id: int) -> bool:
        """`_abandon` up to the flush; True if a RST_STREAM now waits to be sent."""
        stream = self._streams[stream_id]
        # What is still buffered goes back to the connection window (the stream's
        # own window no longer matters: it is reset, or has ended).
        credit = 0
        for item in stream.items:
            if type(item) is h2.events.DataReceived:
                credit += item.flow_controlled_length
        stream.items.clear()
        self._credit_connection(credit)
        self._end_stream(stream_id)
        if self.is_closed:
            return False
        # ProtocolError: both sides had already finished with the stream, or a
        # GOAWAY closed the connection state (h2 then refuses any new frame).
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self._h2.reset_stream(stream_id, ErrorCodes.CANCEL)
        return True

    def _release_dropped(self, stream_id: int) -> None:
        """A response dropped unclosed: abandon its stream; a task of the client sends the reset."""
        if self._abandon_nowait(stream_id):
            # The connection is open, so the client's nursery is too (it closes
            # every connection before it closes).
            assert self._nursery is not None
            self._nursery.start_soon(self._flush_quietly)

    async def _flush_quietly(self) -> None:
        # TransportError: the connection failed, and `_fail` has told everyone.
        with trio.move_on_after(CLOSE_TIMEOUT, shield=True), contextlib.suppress(TransportError):
            await self._flush(self._write_timeout)
