"""TCP and TLS streams, and the one place where foreign errors become ours.

Every socket operation of httpcore goes through `NetworkStream`. Each call
takes its own timeout and applies it with a cancel scope in the calling task,
so a timeout is always enforced by the task that waits. trio, ssl and OS
errors are turned into the SPEC §7 classes here, with the original kept as
``__cause__``; `trio.Cancelled` is never caught.

On plain TCP the stream calls its (non-blocking) socket itself and waits with
`trio.lowlevel.wait_readable`/`wait_writable` only when the socket is not
ready: a cancel scope (for the timeout) is entered only around a real wait,
and `send_eager` + `read(wait_first=True)` let an HTTP/1.1 request cost a single
schedule point (the wait for its answer) instead of one per socket call.
"""

from __future__ import annotations

import contextlib
import math
import select
import socket as stdlib_socket
import ssl
import warnings
from collections.abc import Awaitable, Callable

import trio

from .._core.exceptions import (
    ConnectError,
    ConnectTimeout,
    NetworkError,
    ReadError,
    ReadTimeout,
    TimeoutException,
    WriteError,
    WriteTimeout,
)

# How long a graceful close may take before the socket is closed outright.
CLOSE_TIMEOUT = 1.0
READ_SIZE = 64 * 1024
WRITE_SIZE = 64 * 1024
_HAS_POLL = hasattr(select, "poll")


def _describe(exc: BaseException) -> str:
    """A message for a foreign error that names the real problem (e.g. the certificate)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        if isinstance(cause, OSError) and str(cause):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


def translate_error(
    exc: BaseException, error: type[NetworkError], timeout: type[TimeoutException]
) -> Exception:
    """Map a trio timeout, or a trio/ssl/OS failure, to one of our classes."""
    if isinstance(exc, trio.TooSlowError):
        return timeout(f"{timeout.__name__}: the operation timed out")
    return error(_describe(exc))


def _deadline(timeout: float | None) -> float:
    return math.inf if timeout is None else trio.current_time() + timeout


class NetworkStream:
    """A connected TCP stream, TLS-wrapped or not, with per-call timeouts.

    Three kinds: plain TCP and TLS straight over TCP call the socket themselves
    (`_raw`; TLS through an `ssl.SSLObject` over memory BIOs); a stream wrapped
    in anything else (TLS inside a proxy's TLS, bytes a proxy sent first) goes
    through trio streams.
    """

    __slots__ = (
        "_buffer",
        "_poller",
        "_raw",
        "_socket",
        "_ssl_object",
        "_stream",
        "_tls_in",
        "_tls_out",
        "alpn_protocol",
        "is_closed",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        socket: trio.socket.SocketType,
        raw: stdlib_socket.socket | None = None,
        tls: tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO] | None = None,
    ) -> None:
        # With `raw`, `stream` is trio's SocketStream over the same socket (for the
        # waits of large writes) and `tls` the TLS spoken over it, if any.
        self._stream = stream
        self._socket = socket
        self._raw = raw
        self.is_closed = False
        self.alpn_protocol: str | None = None
        self._ssl_object: ssl.SSLObject | None = None
        self._tls_in: ssl.MemoryBIO | None = None
        self._tls_out: ssl.MemoryBIO | None = None
        self._buffer: bytearray | None = None
        self._poller: select.poll | None = None
        if tls is not None:
            self._ssl_object, self._tls_in, self._tls_out = tls
        elif isinstance(stream, trio.SSLStream):
            self.alpn_protocol = stream.selected_alpn_protocol()
            # trio's SSLStream hands back one TLS record (<= 16 KiB) per receive,
            # though more may sit decryptable in its buffer: see `_drain_tls`.
            self._ssl_object = stream._ssl_object

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        """Open TCP (Happy Eyeballs over every address) and, given a context, TLS.

        The timeout covers the TCP connect and the TLS handshake together.
        Raises `ConnectTimeout` or `ConnectError` (naming a certificate problem).
        """
        try:
            with trio.fail_at(_deadline(timeout)):
                tcp, raw = _own_socket(await trio.open_tcp_stream(host, port))
                stream = cls(tcp, tcp.socket, raw)
                if ssl_context is not None:
                    try:
                        return await stream.start_tls(ssl_context, server_hostname or host)
                    except BaseException:
                        stream.close_nowait()
                        raise
                return stream
        except (trio.TooSlowError, trio.BrokenResourceError, OSError) as exc:
            raise translate_error(exc, ConnectError, ConnectTimeout) from exc

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str) -> NetworkStream:
        """Wrap this stream in TLS and do the handshake (timeouts: the caller's scope).

        Failures raise ssl, OS or trio errors (the caller translates them).
        """
        if self._raw is not None and self._tls_in is None:
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = ssl_context.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
            stream = NetworkStream(self._stream, self._socket, self._raw, (tls, incoming, outgoing))
            await stream._handshake()
            return stream
        wrapped = trio.SSLStream(
            self._as_trio_stream(),
            ssl_context,
            server_hostname=server_hostname,
            https_compatible=True,
        )
        await wrapped.do_handshake()
        return NetworkStream(wrapped, self._socket)

    async def _handshake(self) -> None:
        """The TLS handshake over the socket, through trio's stream (it runs once)."""
        assert self._ssl_object is not None and self._tls_in is not None
        assert self._tls_out is not None
        while True:
            try:
                self._ssl_object.do_handshake()
            except ssl.SSLWantReadError:
                done = False
            else:
                done = True
            flight = self._tls_out.read()
            if flight:
                await self._stream.send_all(flight)
            if done:
                self.alpn_protocol = self._ssl_object.selected_alpn_protocol()
                return
            received = await self._stream.receive_some(READ_SIZE)
            if received:
                self._tls_in.write(received)
            else:
                self._tls_in.write_eof()

    def _as_trio_stream(self) -> trio.abc.Stream:
        """This stream as a trio stream, for a protocol layered on top of it."""
        return _OverNetworkStream(self) if self._tls_in is not None else self._stream

    def prepend(self, data: bytes) -> NetworkStream:
        """This stream with `data` to be read first (bytes a proxy sent after its
        handshake, which belong to the protocol spoken next)."""
        if not data:
            return self
        return NetworkStream(_PrefixedStream(data, self._as_trio_stream()), self._socket)

    async def read(
        self, timeout: float | None, max_bytes: int = READ_SIZE, *, wait_first: bool = False
    ) -> bytes:
        """Receive up to `max_bytes`; b"" at end of stream. `ReadTimeout`/`ReadError`.

        Always a schedule point, as trio's own receives are. `wait_first`: the
        first bytes of an answer to a request just sent, which cannot be there
        yet; on a socket of ours this waits for it rather than try a receive
        bound to fail (the caller checked for cancellation before sending).
        """
        raw = self._raw
        if raw is None:
            return await self._read_stream(timeout, max_bytes)
        if not wait_first:
            await trio.lowlevel.checkpoint_if_cancelled()
        data, waited = await self._receive(raw, timeout, max_bytes, wait_first)
        if not waited:
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data

    async def _receive(
        self, raw: stdlib_socket.socket, timeout: float | None, max_bytes: int, wait_first: bool
    ) -> tuple[bytes, bool]:
        """Receive on the socket (and decrypt); the data, and whether it waited."""
        tls_in = self._tls_in
        waited = False
        try_now = not wait_first
        while True:
            if tls_in is not None:
                data = self._decrypt(max_bytes)
                if data is not None:
                    return data, waited
            if try_now:
                try:
                    if tls_in is None:
                        return self._recv(raw, max_bytes), waited
                    self._recv_tls(raw, tls_in, max_bytes)
                    continue
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise ReadError(_describe(exc)) from exc
            await _wait_readable(raw, timeout)
            waited = try_now = True

    def _recv(self, raw: stdlib_socket.socket, max_bytes: int) -> bytes:
        if max_bytes <= READ_SIZE:
            return raw.recv(max_bytes)
        # A large read goes through a buffer kept for this connection: `recv(n)`
        # allocates n bytes each time and shrinks them to what arrived, for large
        # n a fresh memory mapping (and its page faults) per read. The buffer is
        # made only once a connection's reads grow large.
        buffer = self._large_buffer(max_bytes)
        received = raw.recv_into(buffer, max_bytes)
        with memoryview(buffer) as view:
            return view[:received].tobytes()

    def _recv_tls(self, raw: stdlib_socket.socket, tls_in: ssl.MemoryBIO, max_bytes: int) -> None:
        """Move what the socket has into the TLS object (EOF included)."""
        if max_bytes <= READ_SIZE:
            data = raw.recv(READ_SIZE)
            if data:
                tls_in.write(data)
            else:
                tls_in.write_eof()
            return
        buffer = self._large_buffer(max_bytes)  # as in `_recv`, and no copy to bytes
        received = raw.recv_into(buffer, max_bytes)
        if not received:
            tls_in.write_eof()
            return
        with memoryview(buffer) as view, view[:received] as chunk:
            tls_in.write(chunk)

    def _large_buffer(self, size: int) -> bytearray:
        buffer = self._buffer
        if buffer is None or len(buffer) < size:
            buffer = self._buffer = bytearray(size)
        return buffer

    def _decrypt(self, max_bytes: int) -> bytes | None:
        """What the TLS object can decrypt now (b"" at the end); None if it needs bytes.

        The end may come without a close_notify: as trio's `https_compatible`,
        that is the end of the stream (HTTP's own framing finds a body cut short).
        """
        assert self._ssl_object is not None
        try:
            data = self._ssl_object.read(max_bytes)
        except ssl.SSLWantReadError:
            return None
        except ssl.SSLError as exc:
            if _is_tls_eof(exc):
                return b""
            raise ReadError(_describe(exc)) from exc
        if data and len(data) < max_bytes:
            data = self._drain_tls(data, max_bytes)
        return data

    async def _read_stream(self, timeout: float | None, max_bytes: int) -> bytes:
        """`read` through the trio stream (TLS in TLS, or bytes a proxy sent first)."""
        # A bare CancelScope rather than trio.fail_at: this runs for every read,
        # and fail_at is a generator-based context manager.
        try:
            with trio.CancelScope(deadline=_deadline(timeout)):
                # trio's socket and TLS streams return bytes (typed bytes | bytearray)
                data: bytes = await self._stream.receive_some(max_bytes)  # type: ignore[assignment]
                if self._ssl_object is not None and data and len(data) < max_bytes:
                    data = self._drain_tls(data, max_bytes)
                return data
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise translate_error(exc, ReadError, ReadTimeout) from exc
        # Only reached when the deadline cancelled the receive.
        raise ReadTimeout("ReadTimeout: the operation timed out")

    def _drain_tls(self, data: bytes, max_bytes: int) -> bytes:
        """Add the records already received and decryptable without I/O.

        Pure decryption of bytes already read; anything else (no whole record
        left, an alert, close_notify) stops here and is met by the next
        receive, which reports it as usual.
        """
        assert self._ssl_object is not None
        chunks = [data]
        size = len(data)
        while size < max_bytes:
            try:
                more = self._ssl_object.read(max_bytes - size)
            except ssl.SSLError:
                break
            if not more:
                break
            chunks.append(more)
            size += len(more)
        return data if len(chunks) == 1 else b"".join(chunks)

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Send all of `data`. `WriteTimeout`/`WriteError`. Always a checkpoint.

        The timeout bounds each wait for progress, not the whole write: a
        large body goes out in steps of `WRITE_SIZE`, each with its own deadline.
        """
        raw = self._raw
        if raw is None:
            await self._write_stream(data, timeout)
            return
        await trio.lowlevel.checkpoint_if_cancelled()
        if not await self._send(raw, data, timeout):
            await trio.lowlevel.cancel_shielded_checkpoint()

    async def send_eager(self, data: bytes, timeout: float | None) -> None:
        """`write`, but not a schedule point when the socket takes `data` at once.

        For a request whose caller waits for the answer next (that wait is the
        schedule point); the caller checks for cancellation before sending.
        """
        raw = self._raw
        if raw is None:
            await self._write_stream(data, timeout)
            return
        await self._send(raw, data, timeout)

    async def _send(self, raw: stdlib_socket.socket, data: bytes, timeout: float | None) -> bool:
        """Send on the socket (encrypted first on TLS); whether it had to wait.

        TLS records a read produced (an answer to a key update) go out first.
        """
        if self._tls_out is not None:
            data = self._encrypt(data)
        try:
            sent = raw.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise WriteError(_describe(exc)) from exc
        if sent == len(data):
            return False
        await self._write_stream(memoryview(data)[sent:], timeout)
        return True

    def _encrypt(self, data: bytes) -> bytes:
        assert self._ssl_object is not None and self._tls_out is not None
        if data:  # (SSLObject takes an empty write for the end of the stream)
            try:
                self._ssl_object.write(data)
            except ssl.SSLError as exc:
                raise WriteError(_describe(exc)) from exc
        return self._tls_out.read()

    async def _write_stream(self, data: bytes | memoryview, timeout: float | None) -> None:
        view = memoryview(data) if len(data) > WRITE_SIZE else data
        for start in range(0, len(data), WRITE_SIZE):
            with trio.CancelScope(deadline=_deadline(timeout)) as scope:
                try:
                    await self._stream.send_all(view[start : start + WRITE_SIZE])
                except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                    raise translate_error(exc, WriteError, WriteTimeout) from exc
            if scope.cancelled_caught:
                raise WriteTimeout("WriteTimeout: the operation timed out")

    @property
    def tls_info(self) -> tuple[str | None, str | None]:
        """The negotiated TLS version and cipher suite (e.g. "TLSv1.3"), or Nones in clear text."""
        if self._ssl_object is None:
            return None, None
        cipher = self._ssl_object.cipher()
        return self._ssl_object.version(), cipher[0] if cipher else None

    def is_readable(self) -> bool:
        """True if the socket has data or EOF waiting: an idle connection must not be reused."""
        if isinstance(self._stream, _PrefixedStream) and self._stream.prefix:
            return True
        if self.is_closed:
            return True
        # A poll object kept for the connection: asked before each reuse.
        poller = self._poller
        if poller is None:
            if not _HAS_POLL:  # pragma: no cover - Windows has no select.poll
                return self._socket.is_readable()
            poller = self._poller = select.poll()
            poller.register(self._socket.fileno(), select.POLLIN)
        return bool(poller.poll(0))

    def close_nowait(self) -> None:
        """Close the socket at once, without a TLS close_notify. Never blocks or raises."""
        self.is_closed = True
        self._socket.close()

    async def aclose(self) -> None:
        """Close gracefully (TLS close_notify), bounded in time and shielded from cancellation."""
        self.is_closed = True
        if self._tls_out is not None and self._raw is not None:
            # close_notify, sent if the socket takes it now; the peer's is not awaited.
            assert self._ssl_object is not None
            with contextlib.suppress(ssl.SSLError):
                self._ssl_object.unwrap()
            with contextlib.suppress(OSError):
                self._raw.send(self._tls_out.read())
        with trio.move_on_after(CLOSE_TIMEOUT, shield=True):
            with contextlib.suppress(trio.BrokenResourceError, OSError):
                await self._stream.aclose()
        self._socket.close()


async def _wait_readable(raw: stdlib_socket.socket, timeout: float | None) -> None:
    """Wait until `raw` is readable, at most `timeout` s. `ReadTimeout`/`ReadError`."""
    if raw.fileno() < 0:
        raise ReadError("The connection is closed")
    try:
        if timeout is None:  # no cancel scope to pay for
            await trio.lowlevel.wait_readable(raw)
            return
        with trio.CancelScope(deadline=trio.current_time() + timeout):
            await trio.lowlevel.wait_readable(raw)
            return
    except (trio.ClosedResourceError, OSError) as exc:  # closed by another task
        raise ReadError(_describe(exc)) from exc
    # Only reached when the deadline cancelled the wait.
    raise ReadTimeout("ReadTimeout: the operation timed out")


def _is_tls_eof(exc: ssl.SSLError) -> bool:
    """The TCP stream ended (with or without close_notify); as trio judges it."""
    return isinstance(exc, (ssl.SSLZeroReturnError, ssl.SSLEOFError)) or (
        "UNEXPECTED_EOF_WHILE_READING" in str(exc)
    )


def _own_socket(tcp: trio.SocketStream) -> tuple[trio.SocketStream, stdlib_socket.socket]:
    """`tcp` re-made over a stdlib socket that we hold too, for direct calls.

    trio keeps the stdlib socket under its own private; the file descriptor is
    moved to a new stdlib socket, which a new trio socket wraps (public API only).
    """
    old = tcp.socket
    raw = stdlib_socket.socket(old.family, old.type, old.proto, fileno=old.detach())
    return trio.SocketStream(trio.socket.from_stdlib_socket(raw)), raw


class _OverNetworkStream(trio.abc.Stream):
    """A NetworkStream of ours seen as a trio stream (for TLS inside a proxy's TLS)."""

    def __init__(self, stream: NetworkStream) -> None:
        self._inner = stream

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        return await self._inner.read(None, max_bytes or READ_SIZE)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._inner.write(bytes(data), None)

    async def wait_send_all_might_not_block(self) -> None:  # pragma: no cover - never called
        await trio.lowlevel.checkpoint()  # (trio's SSLStream asks only from its own of that name)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _PrefixedStream(trio.abc.Stream):
    """A stream whose first reads return `prefix`, then whatever `stream` receives."""

    def __init__(self, prefix: bytes, stream: trio.abc.Stream) -> None:
        self.prefix = prefix
        self._stream = stream

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        if self.prefix:
            await trio.lowlevel.checkpoint()
            size = len(self.prefix) if max_bytes is None else max_bytes
            data, self.prefix = self.prefix[:size], self.prefix[size:]
            return data
        return await self._stream.receive_some(max_bytes)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._stream.aclose()


class ResponseBody:
    """The raw body of one response, as an async iterator that its response drains.

    `receive()` returns the next chunk, or None at the end; `abandon()` gives up
    the rest (the connection then decides it cannot be reused). An error while
    receiving abandons the body before it propagates.

    A body dropped unfinished (its response never closed, then garbage
    collected) gives its connection back with `release_nowait()`, run on the
    trio loop through `token`: a finalizer may run in any thread, or in the
    middle of the pool's own bookkeeping, so it never touches the pool itself.
    It then warns (`ResourceWarning`) that the response should have been closed.
    """

    __slots__ = ("_abandon", "_done", "_receive", "_release_nowait", "_token", "_url")

    def __init__(
        self,
        receive: Callable[[], Awaitable[bytes | None]],
        abandon: Callable[[], Awaitable[None]],
        release_nowait: Callable[[], None],
        token: trio.lowlevel.TrioToken,
        url: object,
    ) -> None:
        self._receive = receive
        self._abandon = abandon
        self._release_nowait = release_nowait
        self._token = token
        self._url = url
        self._done = False

    def __aiter__(self) -> ResponseBody:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            chunk = await self._receive()
        except BaseException:
            await self.aclose()
            raise
        if chunk is None:
            self._done = True
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        if not self._done:
            self._done = True
            await self._abandon()

    def forget(self) -> None:
        """Give the body up without I/O: its client has closed, and the connection with it."""
        self._done = True

    def __del__(self) -> None:
        if self._done:
            return
        self._done = True
        # The release comes first: with warnings turned into errors, `warn` raises.
        with contextlib.suppress(trio.RunFinishedError):  # the client's run has ended
            self._token.run_sync_soon(self._release_nowait)
        warnings.warn(
            f"A streaming response from {self._url} was garbage collected before it was"
            " closed; its connection has been released. Close streaming responses: use"
            " `async with response:` or `async with client.stream(...)` (`with` for the"
            " blocking Client), or call `close()`.",
            ResourceWarning,
            stacklevel=2,
        )
