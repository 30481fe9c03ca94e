"""Property-based fuzzing (hypothesis, bounded): URL parsing, header construction,
Set-Cookie parsing and response parsing through a raw server. Only SPEC exceptions
may escape, and valid input round-trips."""

from __future__ import annotations

import contextlib
import string

import pytest
import trio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import httpcore
from httpcore._core.cookies import Cookies
from httpcore._core.models import BaseResponse, Request
from tests.servers import raw_server

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- URLs ---------------------------------------------------------------------------

URL_PIECES = st.sampled_from(
    [
        "http://",
        "https://",
        "ftp://",
        "//",
        "/",
        "?",
        "#",
        "@",
        ":",
        "[",
        "]",
        "%",
        "%25",
        "%0d%0a",
        "%00",
        "%41",
        "%zz",
        ".",
        "..",
        "0x",
        "0",
        "1",
        "255",
        "256",
        "4294967296",
        "127",
        "::1",
        "fe80::1%25eth0",
        "example",
        "com",
        "xn--",
        "ü",
        "☃",
        "ß",
        " ",
        "\t",
        "\r\n",
        "\x00",
        "\x7f",
        "a" * 64,
        "9" * 20,
        "user",
        "pass",
        "65535",
        "65536",
    ]
)
URL_TEXT = st.one_of(st.text(max_size=60), st.lists(URL_PIECES, max_size=12).map("".join))


@FUZZ
@given(URL_TEXT)
@example("http://0x7f.1:0080/a/../b?q#f")
@example("http://[fe80::1%25eth0]:8080/")
@example("http://exa%0d%0ample.com/")
@example("http://2130706433/")
@example("http://0xhttp://")  # "0xhttp" is no hex number: a domain
def test_url_parsing(text: str) -> None:
    try:
        url = httpcore.URL(text, allow_relative=True)
    except httpcore.InvalidURL:
        return
    again = httpcore.URL(str(url), allow_relative=True)
    assert str(again) == str(url)
    if url.is_absolute_url:
        assert (again.scheme, again.host, again.port, again.path) == (
            url.scheme,
            url.host,
            url.port,
            url.path,
        )
    if url.host and not url.host.startswith("["):
        # A parsed host never holds what a host may not (WHATWG forbidden code points).
        if ":" not in url.host:  # IPv6 (with its zone) aside
            assert not set(url.host) & set(" \t\r\n\x00#/<>?@[\\]^|%")
        assert all(len(label) <= 63 for label in url.host.split("."))
        last = url.host.rstrip(".").rpartition(".")[2]
        hex_number = last[:2].lower() == "0x" and all(c in string.hexdigits for c in last[2:])
        if last.isdigit() or hex_number:  # ends in a number: an IPv4 address, a dotted quad
            parts = url.host.split(".")
            assert len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts)


# -- Headers ------------------------------------------------------------------------

HEADER_TEXT = st.one_of(st.text(max_size=20), st.binary(max_size=20))


@FUZZ
@given(st.lists(st.tuples(HEADER_TEXT, HEADER_TEXT), max_size=6))
def test_header_construction(pairs: list[tuple[str | bytes, str | bytes]]) -> None:
    try:
        headers = httpcore.Headers(pairs)
    except httpcore.LocalProtocolError:
        return
    raw = headers.raw
    for name, value in raw:
        assert not set(value) & {0, 10, 13}
        assert value == value.strip(b" \t")
        assert name and b":" not in name
    assert httpcore.Headers(raw).raw == raw  # the bytes round-trip


# -- Set-Cookie ---------------------------------------------------------------------

COOKIE_PIECES = st.sampled_from(
    [
        "a=1",
        "b",
        "=",
        ";",
        " ",
        "Domain=",
        "example.com",
        ".example.com",
        "com",
        "co.uk",
        "127.0.0.1",
        "Path=/",
        "Path=",
        "Secure",
        "HttpOnly",
        "Max-Age=0",
        "Max-Age=-1",
        "Expires=Wed, 21 Oct 2015 07:28:00 GMT",
        "Expires=garbage",
        "\x00",
        "\x01",
        "\x7f",
        "\t",
        '"',
        ",",
        "ü",
        "\udcff",
    ]
)
COOKIE_TEXT = st.one_of(st.text(max_size=40), st.lists(COOKIE_PIECES, max_size=10).map("".join))


@FUZZ
@given(st.lists(COOKIE_TEXT, min_size=1, max_size=4))
def test_set_cookie_parsing(values: list[str]) -> None:
    raw = [(b"Set-Cookie", value.encode("utf-8", "surrogateescape")) for value in values]
    response = BaseResponse(200, request=Request("GET", "https://www.example.com/a/b"))
    response.headers = httpcore.Headers._from_trusted_raw(raw)
    cookies = Cookies()
    cookies.extract_cookies(response)
    header = cookies.cookie_header_for(httpcore.URL("https://www.example.com/a/b"))
    if header is not None:
        # What goes back is always a valid header value.
        httpcore.Headers({"Cookie": header})
    for cookie in cookies.jar:
        assert cookie.domain in ("www.example.com", ".example.com", ".www.example.com")


# -- responses through a raw server -----------------------------------------------

RESPONSE_PIECES = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.0 404 Nope\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n",
        b"HTTP/1.1 999\r\n",
        b"Content-Length: 5\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 99999999999999999999\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip\r\n",
        b"Content-Encoding: gzip\r\n",
        b"Content-Encoding: br, deflate\r\n",
        b"Connection: close\r\n",
        b"Set-Cookie: a=\x01\r\n",
        b"X: \x00\r\n",
        b"\r\n",
        b"hello",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"ffffffffffffffff\r\n",
        b"\x1f\x8b\x08\x00",
        b" folded\r\n",
        b"\n",
        b"\r",
        b":",
        b"Location: /x\r\n",
    ]
)
RESPONSE_BYTES = st.one_of(
    st.binary(max_size=200), st.lists(RESPONSE_PIECES, max_size=12).map(b"".join)
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(RESPONSE_BYTES)
@example(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
def test_response_parsing_through_a_raw_server(h1_codec: str, payload: bytes) -> None:
    async def handler(stream: trio.SocketStream) -> None:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.receive_some(65536)
            await stream.send_all(payload)
        await stream.aclose()

    async def main() -> None:
        timeout = httpcore.TimeoutConfig(2, read_timeout=0.5)
        async with raw_server(handler) as url, httpcore.TrioClient(timeout=timeout) as client:
            try:
                response = await client.get(url + "/", allow_redirects=False)
            except httpcore.HTTPError:
                pass  # any SPEC exception is fine; anything else fails the test
            else:
                assert 100 <= response.status_code <= 599
                if payload == b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello":
                    assert response.text == "hello"
            stats = client.statistics()
            assert (stats.opening, stats.waiters, stats.streams) == (0, 0, 0)

    async def bounded() -> None:
        with trio.fail_after(10):
            await main()

    trio.run(bounded)


_ = pytest


COOKIE_OCTETS = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters=' ",;\\\x7f', min_codepoint=0x21),
    min_size=1,
    max_size=12,
)
TOKEN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
    min_size=1,
    max_size=12,
)


@FUZZ
@given(st.dictionaries(TOKEN, COOKIE_OCTETS, min_size=1, max_size=4))
def test_valid_set_cookies_round_trip(pairs: dict[str, str]) -> None:
    raw = [(b"Set-Cookie", f"{name}={value}; Path=/".encode()) for name, value in pairs.items()]
    response = BaseResponse(200, request=Request("GET", "https://www.example.com/"))
    response.headers = httpcore.Headers._from_trusted_raw(raw)
    cookies = Cookies()
    cookies.extract_cookies(response)
    assert dict(cookies) == pairs
    header = cookies.cookie_header_for(httpcore.URL("https://www.example.com/x"))
    assert header is not None
    assert sorted(header.split("; ")) == sorted(f"{n}={v}" for n, v in pairs.items())


H2_FRAME = st.tuples(
    st.integers(0, 12),  # type (0-9 defined, others unknown)
    st.integers(0, 255),  # flags
    st.sampled_from([0, 1, 2, 3, 0x7FFFFFFF]),  # stream id
    st.binary(max_size=40),  # payload
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(H2_FRAME, max_size=6))
def test_http2_frames_through_a_raw_server(frames: list[tuple[int, int, int, bytes]]) -> None:
    wire = b"".join(
        len(payload).to_bytes(3, "big") + bytes([kind, flags]) + sid.to_bytes(4, "big") + payload
        for kind, flags, sid, payload in frames
    )

    async def handler(stream: trio.SocketStream) -> None:
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await stream.receive_some(65536)  # the preface and SETTINGS
            await stream.send_all(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + wire)  # SETTINGS
            await stream.receive_some(65536)
        await stream.aclose()

    async def main() -> None:
        timeout = httpcore.TimeoutConfig(2, read_timeout=0.3)
        async with raw_server(handler) as url:
            async with httpcore.TrioClient(timeout=timeout, http1=False) as client:
                try:
                    response = await client.get(url + "/")
                except httpcore.HTTPError:
                    pass  # any SPEC exception is fine; anything else fails the test
                else:
                    assert 100 <= response.status_code <= 599
                stats = client.statistics()
                assert (stats.opening, stats.waiters, stats.streams) == (0, 0, 0)

    async def bounded() -> None:
        with trio.fail_after(10):
            await main()

    trio.run(bounded)
