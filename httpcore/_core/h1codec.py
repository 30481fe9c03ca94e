"""Sans-I/O HTTP/1.1 codecs: h11 (always there) and httptools (the `speedups` extra).

A codec turns one request into bytes and the bytes of its response into
events; `HTTP11Connection` does the I/O around it. Both codecs have the same
methods and the same events (`h1events`), raise only our `LocalProtocolError`
and `RemoteProtocolError`, and are equally strict about what a server sends.
One cycle goes::

    start_request(...) -> bytes; body(...) -> bytes ...; end() -> bytes
    receive(data) / next_event() until END (b"" to `receive` is EOF)
    is_reusable() -> start_next_cycle(), or the connection is closed

`next_event()` returns `NEED_DATA` (feed `receive`), a `Head` (1xx
responses are skipped), body bytes (never empty) or `END`. This module holds
the h11 codec; the httptools one is in `h1httptools`.

A `Set-Cookie` field holding a control byte other than HTAB is dropped, and
the rest of the response read as usual (RFC 6265bis ignores such a cookie);
a control byte in any other field fails the response. Neither parser is asked
to scan for them: when one refuses a head, the bytes of that head are searched
for such Set-Cookie fields (`h1heads`), and the head without them is parsed
again by a fresh parser. The connection is then not reused.
"""

from __future__ import annotations

import h11

from .exceptions import LocalProtocolError, RemoteProtocolError
from .h1events import (
    END,
    MAX_INFORMATIONAL,
    NEED_DATA,
    Event,
    Head,
    check_status_line,
    count_informational,
    refuse_double_framing,
)
from .h1heads import CONTROL, drop_bad_set_cookies
from .h1httptools import HAS_HTTPTOOLS, HttptoolsCodec

__all__ = [
    "END",
    "HAS_HTTPTOOLS",
    "MAX_INFORMATIONAL",
    "NEED_DATA",
    "Event",
    "H11Codec",
    "Head",
    "HttptoolsCodec",
    "default_codec",
]


def default_codec() -> type[H11Codec] | type[HttptoolsCodec]:
    """The fastest codec this install has: httptools when installed, else h11."""
    return HttptoolsCodec if HAS_HTTPTOOLS else H11Codec


class H11Codec:
    """The HTTP/1.1 client side of h11, with our events and exceptions."""

    __slots__ = (
        "_closed",
        "_conn",
        "_double_framing",
        "_dropped",
        "_dropped_fields",
        "_informational",
        "_informational_size",
        "_max_head_size",
        "_received",
        "_request",
        "_response_conn",
    )

    def __init__(self, max_head_size: int) -> None:
        self._max_head_size = max_head_size
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head_size)
        # The connection the response is read from: `_conn`, unless a head was parsed
        # again without a Set-Cookie (`_reparse`).
        self._response_conn = self._conn
        self._request: h11.Request | None = None
        # What the server sent of the response until its final head (for `_reparse`).
        self._received: list[bytes] | None = None
        self._double_framing = False
        self._dropped = False
        self._dropped_fields = 0  # by `_reparse`
        self._closed = False
        self._informational = 0
        self._informational_size = 0

    def start_request(
        self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
    ) -> bytes:
        """The request head. `headers` names are lower case and already validated
        as tokens (values free of control characters); raises LocalProtocolError
        for bad or conflicting framing headers or a missing Host."""
        refuse_double_framing(headers)
        try:
            # `_parsed=True`: skip h11's regexes (our Headers already checked names
            # and values); h11 still checks the framing headers and Host.
            request = h11.Request(method=method, target=target, headers=headers, _parsed=True)
            data = self._conn.send(request)
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(str(exc)) from exc
        assert data is not None
        self._request = request
        self._received = []
        return data

    def body(self, data: bytes) -> bytes:
        """`data` framed for the wire; raises LocalProtocolError past the Content-Length."""
        if not data:
            return b""
        try:
            encoded = self._conn.send(h11.Data(data=data))
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(str(exc)) from exc
        assert encoded is not None
        return encoded

    def end(self) -> bytes:
        """The end of the request; raises LocalProtocolError short of the Content-Length."""
        try:
            encoded = self._conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(str(exc)) from exc
        assert encoded is not None
        return encoded

    def send_failed(self) -> None:
        """The request could not be sent whole: the connection will not be reused."""
        self._conn.send_failed()

    def receive(self, data: bytes) -> None:
        """Bytes from the server; b"" means the server closed the connection."""
        if not data:
            self._closed = True  # h11 would call a body read to the close reusable
        elif self._received is not None:
            self._received.append(data)
        self._response_conn.receive_data(data)

    def next_event(self) -> Event:
        """NEED_DATA, a Head, body bytes or END; raises RemoteProtocolError."""
        conn = self._response_conn
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                if self._received is None or not self._reparse():
                    raise RemoteProtocolError(str(exc)) from exc
                conn = self._response_conn
                continue
            kind = type(event)
            if kind is h11.Data:
                return bytes(event.data)  # type: ignore[union-attr]
            if event is h11.NEED_DATA:
                return NEED_DATA
            if kind is h11.Response:
                return self._head(event)  # type: ignore[arg-type]
            if kind is h11.EndOfMessage:
                return END
            if kind is not h11.InformationalResponse:
                # PAUSED: a protocol switch (CONNECT), or a call after END
                raise RemoteProtocolError("unexpected data after the response")
            self._informational += 1
            self._informational_size += _head_size(event)  # type: ignore[arg-type]
            check_status_line(event.http_version.decode("ascii"), 100)  # type: ignore[union-attr]
            count_informational(self._informational, self._informational_size, self._max_head_size)

    def _reparse(self) -> bool:
        """After h11 refused a head: parse what came again, without the Set-Cookie
        fields that hold control bytes, on a fresh h11 connection that was sent the
        same request (`_conn` goes on sending it). False if no more such fields
        came since the last time (the refusal is then about something else)."""
        assert self._received is not None and self._request is not None
        data, dropped = drop_bad_set_cookies(b"".join(self._received))
        if dropped <= self._dropped_fields:
            return False
        self._dropped_fields = dropped
        self._dropped = True
        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=self._max_head_size)
        conn.send(self._request)
        conn.receive_data(data)
        if self._closed:
            conn.receive_data(b"")
        self._response_conn = conn
        self._informational = self._informational_size = 0  # counted again
        return True

    def _head(self, response: h11.Response) -> Head:
        raw = response.headers.raw_items()
        self._received = None
        check_status_line(response.http_version.decode("ascii"), response.status_code)
        # h11 limits only a head still incomplete in its buffer; one that arrived
        # whole in a single read is measured here.
        size = _head_size(response) + self._informational_size
        names = {name.lower() for name, _ in raw}
        if size > self._max_head_size:
            raise RemoteProtocolError(f"Response head larger than {self._max_head_size} bytes")
        self._double_framing = b"content-length" in names and b"transfer-encoding" in names
        if b"set-cookie" in names:
            # h11 lets through control bytes other than NUL, CR, LF, VT and FF.
            kept = [
                (name, value)
                for name, value in raw
                if not (name.lower() == b"set-cookie" and CONTROL.search(value))
            ]
            if len(kept) < len(raw):
                raw = kept
                self._dropped = True
        return Head(
            response.status_code,
            response.reason,
            "HTTP/" + response.http_version.decode("ascii"),
            raw,
        )

    def is_reusable(self) -> bool:
        """Both messages complete, keep-alive, nothing left over, not framed twice."""
        conn = self._conn
        return (
            not self._double_framing
            and not self._dropped
            and not self._closed
            and conn.our_state is h11.DONE
            and conn.their_state is h11.DONE
            and not conn.trailing_data[0]
        )

    def start_next_cycle(self) -> None:
        """Ready for the next request (only after `is_reusable()`)."""
        self._conn.start_next_cycle()
        self._double_framing = False
        self._informational = self._informational_size = 0


def _head_size(response: h11.Response | h11.InformationalResponse) -> int:
    """At least what the server sent for this head (less optional spaces)."""
    size = len(response.reason) + len("HTTP/1.1 200 \r\n\r\n")
    for name, value in response.headers.raw_items():
        size += len(name) + len(value) + len(": \r\n")
    return size
