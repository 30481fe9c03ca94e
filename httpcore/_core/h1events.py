"""What both HTTP/1.1 codecs produce (`h1codec`, `h1httptools`), and the checks
they share on status lines, 1xx responses and request framing."""

from __future__ import annotations

from typing import Final

from .exceptions import LocalProtocolError, RemoteProtocolError


class _Marker:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NEED_DATA: Final = _Marker("NEED_DATA")
END: Final = _Marker("END")


class Head:
    """A final response head: status code, reason phrase, "HTTP/x.y", raw headers."""

    __slots__ = ("headers", "protocol", "reason", "status_code")

    def __init__(
        self, status_code: int, reason: bytes, protocol: str, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.protocol = protocol
        self.headers = headers


Event = Head | bytes | _Marker

# At most this many 1xx responses before the final one (their bytes count
# toward the head size limit as well).
MAX_INFORMATIONAL = 32


def check_status_line(version: str, status: int) -> None:
    """Only HTTP/1.0 and HTTP/1.1, and status codes 100-599 (RFC 9110 §15)."""
    if version not in ("1.0", "1.1"):
        raise RemoteProtocolError(
            f"unsupported status line version HTTP/{version} on an HTTP/1.1 connection"
        )
    if status > 599:
        raise RemoteProtocolError(f"invalid status code {status} (not 100-599)")


def count_informational(count: int, size: int, max_head_size: int) -> None:
    """Refuse a 1xx flood: too many informational heads, or too many bytes in all."""
    if count > MAX_INFORMATIONAL:
        raise RemoteProtocolError(f"more than {MAX_INFORMATIONAL} informational (1xx) responses")
    if count and size > max_head_size:
        raise RemoteProtocolError(
            f"Response heads (1xx included) larger than {max_head_size} bytes"
        )


def refuse_double_framing(headers: list[tuple[bytes, bytes]]) -> None:
    names = {name.lower() for name, _ in headers}
    if b"content-length" in names and b"transfer-encoding" in names:
        raise LocalProtocolError("Content-Length and Transfer-Encoding cannot both be set")
