"""The HTTP/1.1 codec with llhttp (via httptools) for parsing; see `h1codec`.

It lets llhttp check the status line, the headers and the chunked encoding,
and does the rest itself: it finds the end of each head (so it knows the exact
head size, and where a body or left-over bytes start), slices Content-Length
bodies without the parser, and applies h11's rules where llhttp is more
lenient (a Transfer-Encoding other than `chunked`, status codes below 100,
blank lines before a status line, keep-alive of HTTP/1.0, trailing spaces in
header values). Where llhttp is stricter (bare LF line endings, obsolete line
folding, duplicate Content-Length headers) it stays stricter.
"""

from __future__ import annotations

import re

from .exceptions import LocalProtocolError, RemoteProtocolError
from .h1events import END, NEED_DATA, Event, Head, check_status_line, count_informational
from .h1heads import drop_bad_set_cookies

try:
    import httptools
except ImportError:  # pragma: no cover - depends on whether the `speedups` extra is installed
    HAS_HTTPTOOLS = False
else:
    HAS_HTTPTOOLS = True


# What the httptools codec is reading.
_HEAD = 0
_LENGTH = 1
_CHUNKED = 2
_UNTIL_CLOSE = 3
_DONE = 4
_TUNNEL = 5

_HEAD_END = b"\r\n\r\n"
# Control characters h11 refuses in a reason phrase and llhttp lets through.
_BAD_REASON = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_PROTOCOLS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}
_NO_BODY_STATUS = frozenset((204, 304))
# h11's limit on the digits of a Content-Length we send.
_MAX_LENGTH_DIGITS = 20


class _Leftover(Exception):
    """Stops the parser at the start of a message after the response."""


def _has_close_token(value: bytes) -> bool:
    lowered = value.lower()
    return b"close" in lowered and b"close" in [token.strip() for token in lowered.split(b",")]


def _request_length(value: bytes) -> bytes:
    """A Content-Length value we send, normalised as h11 does ("5, 5" is "5")."""
    lengths = {part.strip() for part in value.split(b",")}
    if len(lengths) != 1:
        raise LocalProtocolError("conflicting Content-Length headers")
    length = lengths.pop()
    if not length.isdigit() or len(length) > _MAX_LENGTH_DIGITS:
        raise LocalProtocolError("bad Content-Length")
    return length


class HttptoolsCodec:
    """The HTTP/1.1 client side with llhttp (via httptools) for parsing."""

    __slots__ = (
        "_chunks",
        "_close",
        "_complete",
        "_content_length",
        "_data",
        "_dropped",
        "_eof",
        "_head_done",
        "_head_len",
        "_head_pieces",
        "_head_tail",
        "_headers",
        "_informational",
        "_informational_size",
        "_keep",
        "_leftover",
        "_max_head_size",
        "_mode",
        "_no_body",
        "_parser",
        "_pos",
        "_reason",
        "_recovering",
        "_remaining",
        "_request_close",
        "_request_done",
        "_send_chunked",
        "_send_remaining",
        "_tail",
        "_transfer_encoding",
        "_tunnel",
    )
    _chunks: list[bytes]
    _close: bool
    _complete: bool
    _content_length: int | None
    _data: bytes
    _dropped: bool
    _eof: bool
    _head_done: bool
    _head_len: int
    _head_pieces: list[bytes]
    _head_tail: bytes
    _headers: list[tuple[bytes, bytes]]
    _informational: int
    _informational_size: int
    _keep: bool
    _leftover: bool
    _mode: int
    _no_body: bool
    _parser: httptools.HttpResponseParser
    _pos: int
    _reason: bytes
    _recovering: bool
    _remaining: int
    _request_close: bool
    _request_done: bool
    _send_chunked: bool
    _send_remaining: int
    _tail: bytes
    _transfer_encoding: bytes | None
    _tunnel: bool

    def __init__(self, max_head_size: int) -> None:
        self._max_head_size = max_head_size
        self._chunks = []
        # The pieces of a head that came in several reads (see `_feed`).
        self._head_pieces = []
        self.start_next_cycle()

    # -- the request ---------------------------------------------------------------------

    def start_request(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
    ) -> bytes:
        """The request head, Host first, as h11 writes it. `headers` names are
        lower case and already validated as tokens (values free of control
        characters); raises LocalProtocolError for bad or conflicting framing
        headers or a missing Host."""
        self._no_body = method == b"HEAD"
        self._tunnel = method == b"CONNECT"
        host: list[bytes] = []
        lines = [b""]  # the request line and Host go in front
        length: bytes | None = None
        chunked = False
        for name, value in headers:
            size = len(name)
            if size == 4 and name == b"host":
                host.append(b"host: " + value + b"\r\n")
                continue
            if size == 14 and name == b"content-length":
                if not value.isdigit() or len(value) > _MAX_LENGTH_DIGITS:
                    value = _request_length(value)
                if length is not None:
                    if value != length:
                        raise LocalProtocolError("conflicting Content-Length headers")
                    continue  # h11 sends a repeated identical length once
                length = value
            elif size == 17 and name == b"transfer-encoding":
                if chunked:
                    raise LocalProtocolError("multiple Transfer-Encoding headers")
                value = value.lower()
                if value != b"chunked":
                    raise LocalProtocolError("Only Transfer-Encoding: chunked is supported")
                chunked = True
            elif size == 10 and name == b"connection" and _has_close_token(value):
                self._request_close = True
            lines.append(name + b": " + value + b"\r\n")
        if len(host) != 1:
            raise LocalProtocolError(
                "Missing mandatory Host: header" if not host else "Found multiple Host: headers"
            )
        if chunked and length is not None:
            raise LocalProtocolError("Content-Length and Transfer-Encoding cannot both be set")
        self._send_chunked = chunked
        self._send_remaining = int(length) if length is not None else 0
        lines[0] = method + b" " + target + b" HTTP/1.1\r\n" + host[0]
        lines.append(b"\r\n")
        return b"".join(lines)

    def body(self, data: bytes) -> bytes:
        """`data` framed for the wire; raises LocalProtocolError past the Content-Length."""
        if not data:
            return b""
        if self._send_chunked:
            return b"%x\r\n%s\r\n" % (len(data), data)
        self._send_remaining -= len(data)
        if self._send_remaining < 0:
            raise LocalProtocolError("Too much data for declared Content-Length")
        return data

    def end(self) -> bytes:
        """The end of the request; raises LocalProtocolError short of the Content-Length."""
        if self._send_chunked:
            self._request_done = True
            return b"0\r\n\r\n"
        if self._send_remaining:
            raise LocalProtocolError("Too little data for declared Content-Length")
        self._request_done = True
        return b""

    def send_failed(self) -> None:
        """The request could not be sent whole: the connection will not be reused."""
        self._request_done = False

    # -- the response --------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Bytes from the server; b"" means the server closed the connection."""
        if not data:
            self._eof = True
        elif self._pos < len(self._data):
            self._data = self._data[self._pos :] + data
            self._pos = 0
        else:
            self._data = data
            self._pos = 0

    def next_event(self) -> Event:
        """NEED_DATA, a Head, body bytes or END; raises RemoteProtocolError."""
        mode = self._mode
        if mode == _LENGTH:
            return self._next_length()
        if mode == _HEAD:
            return self._next_head()
        if mode == _CHUNKED:
            return self._next_chunked()
        if mode == _UNTIL_CLOSE:
            data = self._data
            pos = self._pos
            if pos < len(data):
                self._pos = len(data)
                return data[pos:] if pos else data
            if self._eof:
                self._mode = _DONE
                return END
            return NEED_DATA
        if mode == _TUNNEL:
            raise RemoteProtocolError("the server switched protocols after CONNECT")
        raise RemoteProtocolError("unexpected data after the response")

    def _next_length(self) -> Event:
        remaining = self._remaining
        if not remaining:
            self._mode = _DONE
            return END
        data = self._data
        pos = self._pos
        available = len(data) - pos
        if available:
            if available <= remaining:
                chunk = data[pos:] if pos else data
            else:
                chunk = data[pos : pos + remaining]
            self._pos = pos + len(chunk)
            self._remaining = remaining - len(chunk)
            return chunk
        if self._eof:
            raise RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                f"{remaining} bytes of the Content-Length missing"
            )
        return NEED_DATA

    def _next_head(self) -> Event:
        while True:
            data = self._data
            pos = self._pos
            if pos == len(data):
                if not self._eof:
                    return NEED_DATA
                if self._head_len:
                    raise RemoteProtocolError("the server closed the connection mid-head")
                raise RemoteProtocolError("Server disconnected without sending a response.")
            tail = self._head_tail
            if not self._head_len and data[pos] in b"\r\n":
                raise RemoteProtocolError("no response line received")  # llhttp would skip it
            end = -1
            if tail:  # a head end split across reads
                end = (tail + data[pos : pos + 3]).find(_HEAD_END)
                if end != -1:
                    end = pos + end + 4 - len(tail)
            if end == -1:
                end = data.find(_HEAD_END, pos)
                if end != -1:
                    end += 4
            size = self._head_len + (len(data) if end == -1 else end) - pos
            if size + self._informational_size > self._max_head_size:
                count_informational(
                    self._informational, size + self._informational_size, self._max_head_size
                )
                raise RemoteProtocolError(f"Response head larger than {self._max_head_size} bytes")
            if end == -1:
                piece = data[pos:] if pos else data
                self._head_len = size
                self._head_tail = (tail + piece)[-3:]
                self._pos = len(data)
                self._head_pieces.append(piece)
                if not self._recovering:
                    self._feed(piece, False)
                continue
            self._pos = end
            self._head_len = size
            piece = data[pos:end] if pos or end < len(data) else data
            if self._recovering:
                self._reparse(piece)
            else:
                self._feed(piece, True)
            if self._head_pieces:
                self._head_pieces.clear()
            head = self._finish_head()
            if head is not None:
                return head

    def _feed(self, data: bytes, last: bool) -> None:
        """Feed a piece of a head (`last`: up to its blank line) to llhttp."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            raise RemoteProtocolError("the server switched protocols (101)") from exc
        except httptools.HttpParserError as exc:
            # llhttp refuses a control byte in any header value: when it is in a
            # Set-Cookie, that field is dropped and the head parsed again (at once
            # if it is all here, else when its end comes).
            pieces = self._head_pieces
            head = b"".join(pieces) + data if last else b"".join(pieces)
            if not drop_bad_set_cookies(head)[1]:
                raise RemoteProtocolError(f"malformed response: {exc}") from exc
            if last:
                self._reparse(data)
            else:
                self._recovering = True

    def _reparse(self, last: bytes) -> None:
        """Parse the head (`_head_pieces` then `last`) again with a fresh parser,
        without its Set-Cookie fields that hold control bytes."""
        head = drop_bad_set_cookies(b"".join(self._head_pieces) + last)[0]
        self._head_pieces.clear()
        self._recovering = False
        self._dropped = True
        self._headers = []
        self._reason = b""
        self._head_done = self._complete = self._close = False
        self._content_length = self._transfer_encoding = None
        self._parser = _new_parser(self)
        self._feed(head, True)  # refused again: another field, or a bad head

    def _finish_head(self) -> Head | None:
        """A whole head was fed: the final response's Head, or None after a 1xx."""
        parser = self._parser
        status = parser.get_status_code()
        # (llhttp always completes a head fed up to its blank line: the first check
        # is a safety net)
        if not self._head_done or status < 100 or _BAD_REASON.search(self._reason):
            raise RemoteProtocolError(f"malformed status line (status code {status})")
        version = parser.get_http_version()
        check_status_line(version, status)
        transfer_encoding = self._transfer_encoding
        if transfer_encoding is not None and transfer_encoding != b"chunked":
            raise RemoteProtocolError("Only Transfer-Encoding: chunked is supported")
        if status < 200:  # informational (101 never gets here: llhttp refuses it)
            self._informational += 1
            self._informational_size += self._head_len
            count_informational(self._informational, self._informational_size, self._max_head_size)
            self._headers.clear()
            self._reason = b""
            self._head_done = self._complete = self._close = False
            self._content_length = self._transfer_encoding = None
            self._head_len = 0
            self._head_tail = b""
            return None
        headers = self._headers
        self._headers = []  # llhttp reports trailers as headers too: keep them out
        keep = not self._close and version >= "1.1" and not self._request_close
        length = self._content_length
        if self._no_body or status in _NO_BODY_STATUS:
            self._mode = _LENGTH
            self._remaining = 0
        elif self._tunnel and status < 300:
            self._mode = _TUNNEL
        elif transfer_encoding is not None:
            self._mode = _CHUNKED
            keep = keep and length is None  # framed twice: never reused, as with h11
        elif length is not None:
            self._mode = _LENGTH
            self._remaining = length
        else:
            self._mode = _UNTIL_CLOSE
            keep = False
        self._keep = keep
        return Head(status, self._reason, _PROTOCOLS.get(version) or "HTTP/" + version, headers)

    def _next_chunked(self) -> Event:
        data = self._data
        pos = self._pos
        if pos < len(data):
            piece = data[pos:] if pos else data
            self._pos = len(data)
            try:
                self._parser.feed_data(piece)
            except httptools.HttpParserError as exc:
                if not self._complete:
                    raise RemoteProtocolError(f"malformed chunked body: {exc}") from exc
                self._leftover = True  # bytes after the last chunk
            else:
                if self._complete:
                    # llhttp silently skips CR/LF after a message: the last chunk ends
                    # in exactly four of them, so more are left-over bytes.
                    end = (self._tail + piece[-5:])[-5:]
                    self._leftover = len(end) - len(end.rstrip(b"\r\n")) > 4
                else:
                    self._tail = (self._tail + piece[-4:])[-4:]
            chunks = self._chunks
            if chunks:
                chunk = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                chunks.clear()
                return chunk
        if self._complete:
            self._mode = _DONE
            return END
        if self._eof:
            raise RemoteProtocolError("incomplete chunked read: the server closed the connection")
        return NEED_DATA

    # -- llhttp callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:
            raise _Leftover

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, raw_value: bytes) -> None:
        value = raw_value.rstrip(b" \t")  # llhttp keeps trailing spaces, h11 does not
        size = len(name)
        if size == 14:
            if name.lower() == b"content-length":
                self._content_length = int(value)  # llhttp checked it: digits, no repeat
        elif size == 17:
            if name.lower() == b"transfer-encoding":
                # llhttp reads "chunked\t" as not chunked (but "chunked " as chunked):
                # judge what it judges, so that a trailing tab is refused. A second
                # Transfer-Encoding is refused, as with h11; h11 lower-cases the value.
                value = raw_value.rstrip(b" ").lower()
                self._transfer_encoding = value if self._transfer_encoding is None else b""
        elif size == 10 and name.lower() == b"connection" and _has_close_token(value):
            self._close = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._head_done = True

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        self._complete = True

    # -- reuse ---------------------------------------------------------------------------

    def is_reusable(self) -> bool:
        """Both messages complete, keep-alive, nothing left over, not framed twice."""
        return (
            self._mode == _DONE
            and self._keep
            and not self._dropped
            and not self._eof
            and self._request_done
            and not self._leftover
            and self._pos == len(self._data)
        )

    def start_next_cycle(self) -> None:
        """Ready for the next request (only after `is_reusable()`)."""
        self._parser = _new_parser(self)
        self._chunks.clear()
        self._head_pieces.clear()
        self._recovering = False
        self._dropped = False
        self._mode = _HEAD
        self._data = b""
        self._pos = 0
        self._eof = False
        self._head_len = 0
        self._head_tail = b""
        self._tail = b""
        self._reason = b""
        self._headers = []
        self._informational = 0
        self._informational_size = 0
        self._content_length = None
        self._transfer_encoding = None
        self._close = False
        self._head_done = False
        self._complete = False
        self._leftover = False
        self._keep = False
        self._remaining = 0
        self._no_body = False
        self._tunnel = False
        self._request_close = False
        self._request_done = False
        self._send_chunked = False
        self._send_remaining = 0


def _new_parser(codec: HttptoolsCodec) -> httptools.HttpResponseParser:
    parser = httptools.HttpResponseParser(codec)
    # Content-Length with Transfer-Encoding: read as chunked, as h11 does; the
    # connection is then not reused.
    parser.set_dangerous_leniencies(lenient_chunked_length=True)
    return parser
