"""Both HTTP/1.1 codecs, sans-I/O, against the same table of requests and replies.

Every reply is delivered whole, byte by byte, and in two reads queued before
any event is taken; the outcome (head, body, reusability, or the error class)
must be the same for h11 and httptools, and the same for every delivery.
"""

from __future__ import annotations

from typing import Any

import pytest

from httpcore._core.exceptions import LocalProtocolError, RemoteProtocolError
from httpcore._core.h1codec import (
    END,
    HAS_HTTPTOOLS,
    NEED_DATA,
    H11Codec,
    Head,
    HttptoolsCodec,
    default_codec,
)
from httpcore._core.h1heads import drop_bad_set_cookies

MAX = 1024  # a small head limit keeps the byte-by-byte cases quick
HOST = [(b"host", b"example.org")]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

Codec = H11Codec | HttptoolsCodec


@pytest.fixture(params=["h11", "httptools"])
def codec_class(request: pytest.FixtureRequest) -> type[Codec]:
    if request.param == "h11":
        return H11Codec
    if not HAS_HTTPTOOLS:  # pragma: no cover - the `speedups` extra is missing
        pytest.skip("httptools is not installed")
    return HttptoolsCodec


def test_default_codec_is_httptools_when_installed() -> None:
    assert default_codec() is (HttptoolsCodec if HAS_HTTPTOOLS else H11Codec)
    assert (repr(NEED_DATA), repr(END)) == ("NEED_DATA", "END")


# -- responses -------------------------------------------------------------------------------------


def deliveries(reply: bytes) -> dict[str, list[bytes]]:
    middle = len(reply) // 2
    return {
        "whole": [reply] if reply else [],
        "bytes": [reply[i : i + 1] for i in range(len(reply))],
        "queued": [reply[:middle], reply[middle:]],
    }


def exchange(
    codec: Codec,
    reply: bytes,
    delivery: str,
    *,
    method: bytes = b"GET",
    headers: list[tuple[bytes, bytes]] = HOST,
    eof: bool = False,
) -> dict[str, Any]:
    """Send a request, deliver `reply` (then EOF with `eof`), and sum up what came out."""
    codec.start_request(method, b"/", headers)
    codec.end()
    heads: list[Head] = []
    body: list[bytes] = []
    ended = False

    def drain() -> None:
        nonlocal ended
        while not ended:
            event = codec.next_event()
            if event is NEED_DATA:
                return
            if event is END:
                ended = True
            elif isinstance(event, Head):
                heads.append(event)
            else:
                assert isinstance(event, bytes) and event
                body.append(event)

    pieces = deliveries(reply)[delivery]
    for piece in pieces:
        codec.receive(piece)
        if delivery != "queued":
            drain()
    if eof:
        codec.receive(b"")
    drain()
    (head,) = heads
    return {
        "status": head.status_code,
        "reason": head.reason,
        "protocol": head.protocol,
        "headers": head.headers,
        "body": b"".join(body),
        "ended": ended,
        "reusable": ended and codec.is_reusable(),
    }


RESPONSES: dict[str, tuple[dict[str, Any], bytes, dict[str, Any]]] = {
    "content-length": ({}, OK, {"body": b"ok", "reusable": True}),
    "headers-as-sent": (
        {},
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nX-A:  spaced  \r\n"
        b"Set-Cookie: a=1\r\nAccept-Charset: x\r\nX-Content-Options: y\r\n\r\n",
        {
            "status": 201,
            "reason": b"Created",
            "protocol": "HTTP/1.1",
            "headers": [
                (b"Content-Length", b"0"),
                (b"X-A", b"spaced"),
                (b"Set-Cookie", b"a=1"),
                (b"Accept-Charset", b"x"),
                (b"X-Content-Options", b"y"),
            ],
            "body": b"",
            "reusable": True,
        },
    ),
    "no-reason-phrase": (
        {},
        b"HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
        {"status": 404, "reason": b"", "reusable": True},
    ),
    "chunked": (
        {},
        CHUNKED + b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
        {"body": b"hello world", "reusable": True},
    ),
    "chunked-trailers-are-not-headers": (
        {},
        CHUNKED + b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        {
            "headers": [(b"Transfer-Encoding", b"chunked")],
            "body": b"hello",
            "reusable": True,
        },
    ),
    "read-until-close": (
        {"eof": True},
        b"HTTP/1.1 200 OK\r\n\r\nall of it",
        {"body": b"all of it", "reusable": False},
    ),
    "head-ignores-content-length": (
        {"method": b"HEAD"},
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        {"body": b"", "reusable": True},
    ),
    "head-ignores-chunked": (
        {"method": b"HEAD"},
        CHUNKED,
        {"body": b"", "reusable": True},
    ),
    "head-then-bytes": (
        {"method": b"HEAD"},
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        {"body": b"", "reusable": False},
    ),
    "204-ignores-content-length": (
        {},
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        {"status": 204, "body": b"", "reusable": True},
    ),
    "304": (
        {},
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
        {"status": 304, "body": b"", "reusable": True},
    ),
    "informational-skipped": (
        {},
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK,
        {"status": 200, "headers": [(b"Content-Length", b"2")], "body": b"ok", "reusable": True},
    ),
    "connection-close": (
        {},
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok",
        {"body": b"ok", "reusable": False},
    ),
    "connection-closed-is-not-close": (
        {},
        b"HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 2\r\n\r\nok",
        {"body": b"ok", "reusable": True},
    ),
    "request-connection-close": (
        {"headers": [*HOST, (b"connection", b"close")]},
        OK,
        {"body": b"ok", "reusable": False},
    ),
    "request-connection-keep-alive": (
        {"headers": [*HOST, (b"connection", b"keep-alive")]},
        OK,
        {"body": b"ok", "reusable": True},
    ),
    "http-1.0": (
        {},
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        {"protocol": "HTTP/1.0", "body": b"ok", "reusable": False},
    ),
    "http-1.0-keep-alive": (
        {},
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        {"body": b"ok", "reusable": False},
    ),
    "leftover-response": (
        {},
        OK + b"HTTP/1.1 200 OK\r\n",
        {"body": b"ok", "reusable": False},
    ),
    "leftover-blank-line": ({}, OK + b"\r\n", {"body": b"ok", "reusable": False}),
    "leftover-after-chunked": (
        {},
        CHUNKED + b"2\r\nok\r\n0\r\n\r\n" + OK,
        {"body": b"ok", "reusable": False},
    ),
    "leftover-blank-line-after-chunked": (
        {},
        CHUNKED + b"2\r\nok\r\n0\r\n\r\n\r\n",
        {"body": b"ok", "reusable": False},
    ),
    "content-length-and-chunked": (
        {},
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
        {"body": b"hello", "reusable": False},
    ),
    # A Set-Cookie holding a control byte (not HTAB) is dropped, with its obsolete
    # continuation lines; the response is parsed again and its connection not reused.
    **{
        f"set-cookie-with-{name}": (
            {},
            b"HTTP/1.1 200 OK\r\nSet-Cookie: bad=x" + control + b"y; Path=/\r\n"
            b"Set-Cookie: good=1\r\nContent-Length: 2\r\n\r\nok",
            {
                "headers": [(b"Set-Cookie", b"good=1"), (b"Content-Length", b"2")],
                "body": b"ok",
                "reusable": False,
            },
        )
        for name, control in [
            ("nul", b"\x00"),
            ("soh", b"\x01"),
            ("vt", b"\x0b"),
            ("us", b"\x1f"),
            ("del", b"\x7f"),
            ("cr", b"\r"),
        ]
    },
    "set-cookie-with-tab-is-kept": (
        {},
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1;\tPath=/\r\nContent-Length: 0\r\n\r\n",
        {"headers": [(b"Set-Cookie", b"a=1;\tPath=/"), (b"Content-Length", b"0")]},
    ),
    "set-cookie-with-nul-folded": (
        {},
        b"HTTP/1.1 200 OK\r\nset-cookie: a=1\x00;\r\n Path=/\r\n\tDomain=x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        {"headers": [(b"Transfer-Encoding", b"chunked")], "body": b"ok", "reusable": False},
    ),
    "set-cookie-with-nul-in-informational": (
        {"eof": True},
        b"HTTP/1.1 103 Early Hints\r\nSet-Cookie: a=\x00\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nSet-Cookie: b=\x00\r\nX-A: 1\r\n\r\nuntil close",
        {"headers": [(b"X-A", b"1")], "body": b"until close", "reusable": False},
    ),
    "set-cookie-with-nul-on-head": (
        {"method": b"HEAD"},
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nSet-Cookie: a=\x00\r\n\r\n",
        {"headers": [(b"Content-Length", b"10")], "body": b"", "reusable": False},
    ),
    "connect-refused-status": (
        {"method": b"CONNECT"},
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno",
        {"status": 407, "body": b"no", "reusable": True},
    ),
}


@pytest.mark.parametrize("delivery", ["whole", "bytes", "queued"])
@pytest.mark.parametrize(("request_kw", "reply", "expected"), RESPONSES.values(), ids=RESPONSES)
def test_response(
    codec_class: type[Codec],
    request_kw: dict[str, Any],
    reply: bytes,
    expected: dict[str, Any],
    delivery: str,
) -> None:
    outcome = exchange(codec_class(MAX), reply, delivery, **request_kw)
    assert outcome["ended"]
    assert {key: outcome[key] for key in expected} == expected
    if "status" not in expected:
        assert (outcome["status"], outcome["reason"]) == (200, b"OK")


BIG = b"X-Big: " + b"a" * (2 * MAX) + b"\r\n"

BAD_RESPONSES: dict[str, tuple[dict[str, Any], bytes]] = {
    "garbage-status-line": ({}, b"HELLO\r\n\r\n"),
    "non-numeric-status": ({}, b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"),
    "status-below-100": ({}, b"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n"),
    "header-without-colon": ({}, b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n"),
    "blank-line-before-status": ({}, b"\r\n" + OK),
    "switching-protocols": (
        {"headers": [*HOST, (b"upgrade", b"websocket"), (b"connection", b"upgrade")]},
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    ),
    "unasked-switching-protocols": ({}, b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
    "bad-content-length": ({}, b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"),
    "negative-content-length": ({}, b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
    "conflicting-content-lengths": (
        {},
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
    ),
    "transfer-encoding-gzip": ({}, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
    "transfer-encoding-gzip-chunked": (
        {},
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ),
    "two-transfer-encodings": (
        {},
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n",
    ),
    "chunk-size-not-hex": ({}, CHUNKED + b"ZZ\r\nhello\r\n0\r\n\r\n"),
    "chunk-longer-than-its-size": ({}, CHUNKED + b"2\r\nhello\r\n0\r\n\r\n"),
    "truncated-content-length": (
        {"eof": True},
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10,
    ),
    "truncated-chunk": ({"eof": True}, CHUNKED + b"a\r\nhello"),
    "chunked-without-last-chunk": ({"eof": True}, CHUNKED + b"5\r\nhello\r\n"),
    "closed-before-response": ({"eof": True}, b""),
    "closed-mid-head": ({"eof": True}, b"HTTP/1.1 200 OK\r\nContent-"),
    "closed-after-informational": ({"eof": True}, b"HTTP/1.1 100 Continue\r\n\r\n"),
    "oversize-incomplete-head": ({}, b"HTTP/1.1 200 OK\r\n" + BIG),
    "connect-tunnel": ({"method": b"CONNECT"}, b"HTTP/1.1 200 Connection established\r\n\r\n"),
    # Control bytes in any other field still fail the response (h11 lets through
    # those other than NUL, CR, LF, VT and FF).
    "nul-in-other-field": ({}, b"HTTP/1.1 200 OK\r\nX-A: 1\x002\r\nContent-Length: 0\r\n\r\n"),
    "nul-in-set-cookie-and-other-field": (
        {},
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=\x00\r\nX-A: 1\x002\r\nContent-Length: 0\r\n\r\n",
    ),
    "nul-in-set-cookie-continuation": (
        {},
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\n \x00\r\nContent-Length: 0\r\n\r\n",
    ),
    "nul-in-set-cookie-name": (
        {},
        b"HTTP/1.1 200 OK\r\nSet-Cookie\x00: a=1\r\nContent-Length: 0\r\n\r\n",
    ),
    "nul-in-set-cookie-and-status-line": (
        {},
        b"HTTP/1.1 2x0 OK\r\nSet-Cookie: a=\x00\r\nContent-Length: 0\r\n\r\n",
    ),
    "nul-in-set-cookie-of-switching-protocols": (
        {"headers": [*HOST, (b"upgrade", b"websocket"), (b"connection", b"upgrade")]},
        b"HTTP/1.1 101 Switching Protocols\r\nSet-Cookie: a=\x00\r\nUpgrade: websocket\r\n"
        b"Connection: upgrade\r\n\r\n",
    ),
}


@pytest.mark.parametrize("delivery", ["whole", "bytes", "queued"])
@pytest.mark.parametrize(("request_kw", "reply"), BAD_RESPONSES.values(), ids=BAD_RESPONSES)
def test_bad_response(
    codec_class: type[Codec], request_kw: dict[str, Any], reply: bytes, delivery: str
) -> None:
    with pytest.raises(RemoteProtocolError):
        exchange(codec_class(MAX), reply, delivery, **request_kw)


@pytest.mark.parametrize(
    ("data", "expected", "dropped"),
    [
        (OK, OK, 0),
        (b"HTTP/1.1 200 OK\r\nX-A: \x00\r\n\r\n", b"HTTP/1.1 200 OK\r\nX-A: \x00\r\n\r\n", 0),
        # Bare LF line ends; the body after the final head is left alone.
        (
            b"HTTP/1.1 200 OK\nSet-Cookie: a=\x01\nSet-Cookie: b=1\n\nSet-Cookie: \x00",
            b"HTTP/1.1 200 OK\nSet-Cookie: b=1\n\nSet-Cookie: \x00",
            1,
        ),
        # A 1xx head and the final one; continuation lines go with a dropped field.
        (
            b"HTTP/1.1 100 Continue\r\nset-cookie: a\x7f\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nSET-COOKIE: b=\x1f\r\n c\r\nX-A: 1\r\n d\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\n d\r\n\r\n",
            2,
        ),
        # A head cut short: its last line is judged on what came of it.
        (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=\x00", b"HTTP/1.1 200 OK\r\n", 1),
        # Judged on the first line only; a control byte in the name is no Set-Cookie.
        (b"HTTP/1.1 200 OK\r\nSet-Cookie: a\r\n \x00\r\n\r\n", None, 0),
        (b"HTTP/1.1 200 OK\r\nSet-Cookie\x00: a\r\n\r\n", None, 0),
        (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1;\tPath=/\r\n\r\n", None, 0),
    ],
)
def test_drop_bad_set_cookies(data: bytes, expected: bytes | None, dropped: int) -> None:
    assert drop_bad_set_cookies(data) == (data if expected is None else expected, dropped)


def test_upload_goes_on_after_a_set_cookie_was_dropped(codec_class: type[Codec]) -> None:
    # An early answer with a bad Set-Cookie: the request is still sent to its end.
    codec = codec_class(MAX)
    codec.start_request(b"POST", b"/", [*HOST, (b"content-length", b"4")])
    assert codec.body(b"ab") == b"ab"
    codec.receive(b"HTTP/1.1 413 Too Large\r\nSet-Cookie: a=\x00\r\nContent-Length: 2\r\n\r\nno")
    head = codec.next_event()
    assert isinstance(head, Head)
    assert (head.status_code, head.headers) == (413, [(b"Content-Length", b"2")])
    assert codec.body(b"cd") == b"cd"
    assert codec.end() == b""
    assert codec.next_event() == b"no"
    assert codec.next_event() is END
    assert not codec.is_reusable()


def test_events_after_the_end_are_an_error(codec_class: type[Codec]) -> None:
    codec = codec_class(MAX)
    codec.start_request(b"GET", b"/", HOST)
    codec.end()
    codec.receive(OK)
    assert isinstance(codec.next_event(), Head)
    assert codec.next_event() == b"ok"
    assert codec.next_event() is END
    codec.receive(b"HTTP/1.1")
    with pytest.raises(RemoteProtocolError):
        codec.next_event()
    assert not codec.is_reusable()


@pytest.mark.parametrize("cycles", [3])
def test_cycles(codec_class: type[Codec], cycles: int) -> None:
    codec = codec_class(MAX)
    for i in range(cycles):
        reply = CHUNKED + b"1\r\n%d\r\n0\r\n\r\n" % i if i % 2 else OK
        outcome = exchange(codec, reply, "whole")
        assert outcome["body"] == (b"%d" % i if i % 2 else b"ok")
        assert outcome["reusable"]
        codec.start_next_cycle()


def test_failed_send_is_not_reusable(codec_class: type[Codec]) -> None:
    codec = codec_class(MAX)
    codec.start_request(b"POST", b"/", [*HOST, (b"content-length", b"10")])
    codec.body(b"12345")
    codec.send_failed()
    codec.receive(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
    head = codec.next_event()
    assert isinstance(head, Head) and head.status_code == 413
    assert codec.next_event() is END
    assert not codec.is_reusable()


def test_httptools_measures_a_complete_head() -> None:
    """h11 only bounds a head still incomplete (HTTP11Connection measures the rest);
    httptools counts every byte of each head, 1xx ones included."""
    if not HAS_HTTPTOOLS:  # pragma: no cover - the `speedups` extra is missing
        pytest.skip("httptools is not installed")
    for reply in (
        b"HTTP/1.1 200 OK\r\n" + BIG + b"Content-Length: 0\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\n" + BIG + b"\r\n" + OK,
    ):
        codec = HttptoolsCodec(MAX)
        codec.start_request(b"GET", b"/", HOST)
        codec.end()
        codec.receive(reply)
        with pytest.raises(RemoteProtocolError, match="larger than 1024"):
            codec.next_event()
    exact = b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX - 24) + b"\r\n\r\n"
    assert len(exact) == MAX
    codec = HttptoolsCodec(MAX)
    codec.start_request(b"GET", b"/", HOST)
    codec.end()
    codec.receive(exact)
    assert isinstance(codec.next_event(), Head)


# -- requests --------------------------------------------------------------------------------------

REQUESTS: dict[str, tuple[bytes, list[tuple[bytes, bytes]], list[bytes], bytes]] = {
    "get-host-first": (
        b"GET",
        [(b"accept", b"*/*"), (b"host", b"example.org")],
        [],
        b"GET /path?q=1 HTTP/1.1\r\nhost: example.org\r\naccept: */*\r\n\r\n",
    ),
    "content-length": (
        b"POST",
        [*HOST, (b"content-length", b"11")],
        [b"hello", b"", b" world"],
        b"POST /path?q=1 HTTP/1.1\r\nhost: example.org\r\ncontent-length: 11\r\n\r\nhello world",
    ),
    "chunked": (
        b"PUT",
        [*HOST, (b"transfer-encoding", b"Chunked")],
        [b"hello", b"", b"x" * 26],
        b"PUT /path?q=1 HTTP/1.1\r\nhost: example.org\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1a\r\n" + b"x" * 26 + b"\r\n0\r\n\r\n",
    ),
    "repeated-content-length": (
        b"POST",
        [*HOST, (b"content-length", b"2, 2"), (b"content-length", b"2")],
        [b"ok"],
        b"POST /path?q=1 HTTP/1.1\r\nhost: example.org\r\ncontent-length: 2\r\n\r\nok",
    ),
}


@pytest.mark.parametrize(("method", "headers", "chunks", "wire"), REQUESTS.values(), ids=REQUESTS)
def test_request_bytes(
    codec_class: type[Codec],
    method: bytes,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes],
    wire: bytes,
) -> None:
    codec = codec_class(MAX)
    data = codec.start_request(method, b"/path?q=1", headers)
    data += b"".join(codec.body(chunk) for chunk in chunks)
    data += codec.end()
    assert data == wire


BAD_REQUESTS: dict[str, tuple[list[tuple[bytes, bytes]], list[bytes], str]] = {
    "no-host": ([], [], "Host"),
    "two-hosts": ([*HOST, *HOST], [], "Host"),
    "gzip-transfer-encoding": ([*HOST, (b"transfer-encoding", b"gzip")], [], "Transfer-Encoding"),
    "two-transfer-encodings": (
        [*HOST, (b"transfer-encoding", b"chunked"), (b"transfer-encoding", b"chunked")],
        [],
        "Transfer-Encoding",
    ),
    "bad-content-length": ([*HOST, (b"content-length", b"abc")], [], "Content-Length"),
    "conflicting-content-length": ([*HOST, (b"content-length", b"2, 3")], [], "Content-Length"),
    "conflicting-content-lengths": (
        [*HOST, (b"content-length", b"2"), (b"content-length", b"3")],
        [],
        "Content-Length",
    ),
    "content-length-and-chunked": (
        [*HOST, (b"content-length", b"2"), (b"transfer-encoding", b"chunked")],
        [],
        "Content-Length and Transfer-Encoding",
    ),
    "too-much-data": ([*HOST, (b"content-length", b"2")], [b"abc"], "Too much data"),
    "too-little-data": ([*HOST, (b"content-length", b"5")], [b"abc"], "Too little data"),
    "data-without-length": (HOST, [b"abc"], "Too much data"),
}


@pytest.mark.parametrize(("headers", "chunks", "message"), BAD_REQUESTS.values(), ids=BAD_REQUESTS)
def test_bad_request(
    codec_class: type[Codec], headers: list[tuple[bytes, bytes]], chunks: list[bytes], message: str
) -> None:
    codec = codec_class(MAX)
    with pytest.raises(LocalProtocolError, match=message):
        codec.start_request(b"POST", b"/", headers)
        for chunk in chunks:
            codec.body(chunk)
        codec.end()
