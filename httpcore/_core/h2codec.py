"""The sans-I/O side of an HTTP/2 client connection: h2, configured and trimmed.

`new_connection()` gives the h2 state machine that `_trio/http2.py` drives. It
departs from h2's defaults in three ways, each for speed, none in what goes on
the wire or what is accepted:

- h2's header validation and normalisation are off: they run a chain of
  generators over every byte of every header, costing more than the rest of a
  small request. `request_headers` builds what h2 would send from `Headers`
  (which has already checked names and values), and `check_head` /
  `check_fields` apply RFC 9113's rules to what the server sends, one regex
  per field, in the stream's own task: a malformed head fails its stream only.
- received DATA frames skip a trace-log line that h2 formats even when
  nothing logs it (a hex dump of the whole payload: a fifth of a download).
- header blocks that neither use nor change the HPACK dynamic table (nginx
  sends only those) are decoded once and remembered: a server sends the same
  few blocks over and over, and HPACK's Huffman decoding is pure Python.
"""

from __future__ import annotations

import re
from collections.abc import Sized
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack
from hpack import NeverIndexedHeaderTuple
from hyperframe.frame import DataFrame, Frame

from .exceptions import LocalProtocolError, RemoteProtocolError
from .models import Request

__all__ = [
    "CONNECTION_WINDOW",
    "MAX_FRAME_SIZE",
    "MAX_HEADER_LIST_SIZE",
    "STREAM_WINDOW",
    "check_fields",
    "check_head",
    "new_connection",
    "request_headers",
]

MAX_HEADER_LIST_SIZE = 100 * 1024
# Each stream may have this much unread data in flight; all streams together
# at most `CONNECTION_WINDOW`.
STREAM_WINDOW = 1 << 20
CONNECTION_WINDOW = 16 << 20
# The largest frame we accept (RFC 9113 allows up to 16 MiB): servers that
# honour it send fewer frames; memory stays bounded by the windows.
MAX_FRAME_SIZE = 1 << 20

# Request headers that HTTP/2 forbids (RFC 9113 §8.2.2); Host becomes :authority.
_CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"host")
)
# Kept out of the HPACK compression context (a guessed secret would compress well).
_SECRET = frozenset((b"authorization", b"proxy-authorization"))


def request_headers(request: Request) -> list[tuple[bytes, bytes]]:
    """The header list of `request` as h2's normalisation would send it.

    Pseudo-headers first; names lowercased; connection-specific fields dropped
    (Host becomes :authority, `te` is kept only as "trailers"); credentials and
    short cookies never indexed by HPACK. Raises `LocalProtocolError` for CONNECT.
    """
    url = request.url
    method = request.method
    if method == "CONNECT":
        # A CONNECT request over HTTP/2 has no :scheme or :path (RFC 9113 §8.5):
        # a tunnel, which this client opens over HTTP/1.1 only.
        raise LocalProtocolError("Cannot send a CONNECT request over HTTP/2")
    headers: list[tuple[bytes, bytes]] = [
        (b":method", method.encode("ascii")),
        (b":authority", url.raw_host_header.encode("ascii")),
        (b":scheme", url.scheme.encode("ascii")),
        (b":path", url.full_path.encode("ascii")),
    ]
    append = headers.append
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered in _CONNECTION_SPECIFIC:
            if lowered == b"host":
                headers[1] = (b":authority", value)  # encoded as every other header value
        elif lowered in _SECRET or (lowered == b"cookie" and len(value) < 20):
            append(NeverIndexedHeaderTuple(lowered, value))
        elif lowered != b"te" or value == b"trailers":
            append((lowered, value))
    return headers


# RFC 9113 §8.2.1: a field name has no byte in 0x00-0x20, A-Z, ':' or 0x7f-0xff
# and is not empty; a value has no NUL, CR or LF, nor whitespace at either end.
_VALID_NAME = re.compile(rb"[\x21-\x39\x3b-\x40\x5b-\x7e]+")
_INVALID_VALUE = re.compile(rb"[\x00\r\n]|\A[ \t]|[ \t]\Z")
_FORBIDDEN_IN_RESPONSE = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
)
# Names seen valid (servers send the same few names over and over); bounded.
_GOOD_NAMES: set[bytes] = set()
_GOOD_NAMES_MAX = 512


def check_head(headers: list[tuple[bytes, bytes]]) -> int:
    """Check a response head as h2 would (and its :status); return the status code.

    Raises `RemoteProtocolError` naming the fault.
    """
    if not headers or headers[0][0] != b":status":
        raise RemoteProtocolError("HTTP/2 response without a :status pseudo-header first")
    status = headers[0][1]
    if not (len(status) == 3 and status.isdigit() and b"100" <= status <= b"599"):
        raise RemoteProtocolError(f"Invalid :status {status!r} (not 100-599)")
    check_fields(headers, 1)
    return int(status)


def check_fields(headers: list[tuple[bytes, bytes]], start: int) -> None:
    """Check the fields from `start` on (RFC 9113 §8.2): a pseudo-header there is
    malformed too. Raises `RemoteProtocolError` naming the fault."""
    good = _GOOD_NAMES
    invalid_value = _INVALID_VALUE.search
    for index in range(start, len(headers)):
        name, value = headers[index]
        if name not in good:
            if name[:1] == b":":
                raise RemoteProtocolError(
                    f"Pseudo-header {name!r} out of place in an HTTP/2 response"
                )
            _check_name(name)
        if value and invalid_value(value) is not None:
            raise RemoteProtocolError(
                f"Invalid value for HTTP/2 header {name.decode('latin-1')!r}: {value!r}"
            )
        if name == b"te" and value.lower() != b"trailers":
            raise RemoteProtocolError(f"Invalid value for the te header: {value!r}")


def _check_name(name: bytes) -> None:
    if _VALID_NAME.fullmatch(name) is None:
        raise RemoteProtocolError(f"Invalid HTTP/2 header name {name!r} from the server")
    if name in _FORBIDDEN_IN_RESPONSE:
        raise RemoteProtocolError(f"Connection-specific header {name!r} in an HTTP/2 response")
    if len(_GOOD_NAMES) >= _GOOD_NAMES_MAX:
        _GOOD_NAMES.clear()
    _GOOD_NAMES.add(name)


# -- HPACK: remembering blocks that do not touch the dynamic table -------------------

_STATIC_ENTRIES = 61  # RFC 7541 Appendix A
_MEMO_MAX = 128
_MEMO_BLOCK_MAX = 2048


def _integer(block: bytes, at: int, prefix_bits: int) -> tuple[int, int]:
    """An HPACK integer (RFC 7541 §5.1) at `at`: (value, index after it); (-1, 0) if cut short."""
    mask = (1 << prefix_bits) - 1
    value = block[at] & mask
    at += 1
    if value < mask:
        return value, at
    shift = 0
    while at < len(block) and shift < 28:
        byte = block[at]
        at += 1
        value += (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    return -1, 0


# What decoding a header block does to the HPACK dynamic table (`_table_use`).
_USES_TABLE = 0  # reads or changes it (or is malformed): decode it every time
_NO_TABLE = 1  # neither: static references and literals without indexing
# Also literals "with indexing", which change nothing while the table's size is
# 0 (each entry is evicted as it is added); nginx sets that size and sends those.
_NO_TABLE_WHILE_EMPTY = 2


def _table_use(block: bytes) -> int:
    """Whether decoding `block` depends on, or changes, the dynamic table."""
    use = _NO_TABLE
    at, end = 0, len(block)
    while at < end:
        first = block[at]
        if first & 0x80:  # indexed field
            index, at = _integer(block, at, 7)
            if not 0 < index <= _STATIC_ENTRIES:
                return _USES_TABLE
            continue
        if first & 0x40:  # literal with incremental indexing
            use = _NO_TABLE_WHILE_EMPTY
            index, at = _integer(block, at, 6)
        elif first & 0x20:  # dynamic table size update
            return _USES_TABLE
        else:  # literal without indexing, or never indexed
            index, at = _integer(block, at, 4)
        if not 0 <= index <= _STATIC_ENTRIES:
            return _USES_TABLE
        for _ in range(1 if index else 2):  # the value, and a literal name before it
            if at >= end:
                return _USES_TABLE
            length, at = _integer(block, at, 7)
            if length < 0:
                return _USES_TABLE
            at += length
    return use if at == end else _USES_TABLE


class _Decoder(hpack.Decoder):
    """hpack's decoder, remembering the blocks whose decoding needs no table."""

    def __init__(self, max_header_list_size: int) -> None:
        super().__init__(max_header_list_size=max_header_list_size)
        self._memo: dict[bytes, tuple[list[Any], int]] = {}

    def decode(self, data: bytes, raw: bool = False) -> list[Any]:
        cacheable = raw and type(data) is bytes
        if cacheable:
            known = self._memo.get(data)
            if known is not None and (known[1] == _NO_TABLE or self.header_table.maxsize == 0):
                return list(known[0])
        headers: list[Any] = list(super().decode(data, raw))
        if cacheable and len(data) <= _MEMO_BLOCK_MAX:
            use = _table_use(data)
            if use == _NO_TABLE or (
                use == _NO_TABLE_WHILE_EMPTY and self.header_table.maxsize == 0
            ):
                if len(self._memo) >= _MEMO_MAX:
                    self._memo.clear()
                self._memo[data] = (headers, use)
                return list(headers)
        return headers


class _DataFrame(DataFrame):
    """A received DATA frame whose repr does not format its payload."""

    def __repr__(self) -> str:
        return f"DataFrame(stream_id={self.stream_id}, length={len(self.data)})"


# The fewest streams h2 may hold between two scans for closed ones.
_SCAN_MIN = 64


class _Connection(h2.connection.H2Connection):
    """h2's client connection, minus two costs that grow with the traffic.

    - DATA frames are handled as `_DataFrame`s (no repr of the payload), which
      h2 dispatches like any DATA frame.
    - h2 counts its open streams, forgetting the closed ones as it goes, by a
      scan of every stream it knows, for each new stream: O(n) per request at
      n concurrent streams. `tracked` (set by the connection's user: the streams
      it has opened and not finished) bounds that count. While the bound is
      within the server's limit it passes h2's check just as the exact count
      would, and the scan runs only once the table has grown by a quarter.
    """

    def __init__(self, config: h2.config.H2Configuration) -> None:
        super().__init__(config=config)
        self._frame_dispatch_table[_DataFrame] = self._receive_data_frame
        self.tracked: Sized = ()
        self._scan_at = _SCAN_MIN

    @property
    def open_outbound_streams(self) -> int:
        bound = len(self.tracked)
        if (
            bound < self.remote_settings.max_concurrent_streams
            and len(self.streams) < self._scan_at
        ):
            return bound
        count: int = super().open_outbound_streams  # exact, and prunes closed streams
        self._scan_at = len(self.streams) * 5 // 4 + _SCAN_MIN
        return count

    def _receive_frame(self, frame: Frame) -> list[h2.events.Event]:
        if frame.__class__ is DataFrame:
            frame.__class__ = _DataFrame
        return super()._receive_frame(frame)


# h2 closes its connection state machine as soon as a GOAWAY arrives
# (python-hyper/h2#1181), yet RFC 9113 §6.8 lets the server finish the streams up
# to `last_stream_id`. Our connections keep the machine open instead; they open no
# new stream after a GOAWAY (`HTTP2Connection.is_available`), which is all the
# closed state was protecting. (h2 still drops frames it had queued to send then.)
_TRANSITIONS = {
    **h2.connection.H2ConnectionStateMachine._transitions,
    (h2.connection.ConnectionState.CLIENT_OPEN, h2.connection.ConnectionInputs.RECV_GOAWAY): (
        None,
        h2.connection.ConnectionState.CLIENT_OPEN,
    ),
}


def new_connection() -> _Connection:
    """A client-side h2 connection with our settings, before `initiate_connection()`."""
    config = h2.config.H2Configuration(
        client_side=True,
        header_encoding=None,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
        validate_inbound_headers=False,
        # Its one inbound normalisation joins Cookie fields: a request header.
        normalize_inbound_headers=False,
    )
    connection = _Connection(config)
    connection.state_machine._transitions = _TRANSITIONS
    connection.local_settings = h2.settings.Settings(
        client=True,
        initial_values={
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: STREAM_WINDOW,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST_SIZE,
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100,
            h2.settings.SettingCodes.MAX_FRAME_SIZE: MAX_FRAME_SIZE,
        },
    )
    # h2 applies initial settings to what it accepts only once the server
    # acknowledges them: enforce the header-list limit, and accept our frame
    # size, from the first frame.
    connection.decoder = _Decoder(MAX_HEADER_LIST_SIZE)
    connection.max_inbound_frame_size = MAX_FRAME_SIZE
    return connection
