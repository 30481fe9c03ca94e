"""Unit tests for httpcore/_core/models.py: requests and responses, no sockets."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from httpcore._core.content import BytesBody, IteratorBody
from httpcore._core.cookies import Cookies
from httpcore._core.decoders import MAX_CHUNK
from httpcore._core.exceptions import (
    DecodingError,
    HTTPStatusError,
    LocalProtocolError,
    RequestNotRead,
    ResponseClosed,
    ResponseNotRead,
    StreamConsumed,
)
from httpcore._core.headers import Headers
from httpcore._core.models import AsyncResponse, BaseResponse, Request, Response
from httpcore._core.status_codes import codes
from httpcore._core.urls import URL

URL_ = "https://example.org/path"
THREE_MIB = bytes(range(256)) * (3 * MAX_CHUNK // 256)


# --- helpers ---------------------------------------------------------------------------


class SyncSource:
    """A raw body source without close()."""

    def __init__(self, chunks: Iterable[bytes | Exception]) -> None:
        self.chunks = list(chunks)  # an Exception in the list is raised when reached

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk


class ClosableSyncSource(SyncSource):
    """A raw body source that counts its close() calls."""

    close_calls = 0

    def close(self) -> None:
        self.close_calls += 1


class AsyncSource:
    """An async raw body source without aclose()."""

    def __init__(self, chunks: Iterable[bytes | Exception]) -> None:
        self.chunks = list(chunks)  # an Exception in the list is raised when reached
        self._position = 0

    def __aiter__(self) -> AsyncSource:
        return self

    async def __anext__(self) -> bytes:
        if self._position == len(self.chunks):
            raise StopAsyncIteration
        self._position += 1
        chunk = self.chunks[self._position - 1]
        if isinstance(chunk, Exception):
            raise chunk
        return chunk


class ClosableAsyncSource(AsyncSource):
    """An async raw body source that counts its aclose() calls."""

    close_calls = 0

    async def aclose(self) -> None:
        self.close_calls += 1


class Kind:
    """Drives `Response` or `AsyncResponse` through one awaitable interface."""

    def __init__(self, name: str) -> None:
        self.is_async = name == "async"
        self.cls: type[BaseResponse] = AsyncResponse if self.is_async else Response

    def streaming(
        self, chunks: Iterable[bytes | Exception], *, closable: bool = True, **kwargs: Any
    ) -> tuple[Any, Any]:
        """A streaming response over `chunks`, and its source."""
        source: Any
        if self.is_async:
            source = ClosableAsyncSource(chunks) if closable else AsyncSource(chunks)
        else:
            source = ClosableSyncSource(chunks) if closable else SyncSource(chunks)
        return self.cls(200, content=source, **kwargs), source

    def response(self, *args: Any, **kwargs: Any) -> Any:
        return self.cls(*args, **kwargs)

    async def read(self, response: Any) -> bytes:
        if self.is_async:
            return await response.read()  # type: ignore[no-any-return]
        return response.read()  # type: ignore[no-any-return]

    async def collect(self, iterator: Any) -> list[Any]:
        if self.is_async:
            return [item async for item in iterator]
        return list(iterator)

    async def first_then_close(self, iterator: Any) -> Any:
        """Take one item of a generator, then close the generator early."""
        if self.is_async:
            item = await iterator.__anext__()
            await iterator.aclose()
        else:
            item = next(iterator)
            iterator.close()
        return item

    async def close(self, response: Any) -> None:
        if self.is_async:
            await response.close()
        else:
            response.close()

    async def next(self, response: Any) -> Any:
        if self.is_async:
            return await response.next()
        return response.next()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> Kind:
    return Kind(request.param)


# --- Request: method, URL, Host ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET", "GET"),
        ("get", "GET"),
        ("Patch", "PATCH"),
        (b"post", "POST"),
        ("M-SEARCH", "M-SEARCH"),
        ("X!#$%&'*+.^_`|~1", "X!#$%&'*+.^_`|~1"),
    ],
)
def test_request_method_is_upper_cased(method: str | bytes, expected: str) -> None:
    assert Request(method, URL_).method == expected


@pytest.mark.parametrize(
    "method",
    ["", "GET /", "GE\rT", "GET\n", "G\x00T", b"GET\r\n", "GÉT", b"G\xc9T", "GET(", 'GE"T'],
)
def test_request_invalid_method(method: str | bytes) -> None:
    with pytest.raises(LocalProtocolError, match="Invalid HTTP method"):
        Request(method, URL_)


@pytest.mark.parametrize("method", ["po\u017ft", "g\u0131t", "\ufb06op"])
def test_request_non_ascii_method_that_upper_cases_to_ascii(method: str) -> None:
    with pytest.raises(LocalProtocolError):
        Request(method, URL_)


@pytest.mark.parametrize(
    ("url", "params", "expected"),
    [
        ("https://example.org/p", None, "https://example.org/p"),
        ("https://example.org/p", {"a": "1 2"}, "https://example.org/p?a=1+2"),
        (
            "https://example.org/p?x=0",
            [("a", "1"), ("a", "2")],
            "https://example.org/p?x=0&a=1&a=2",
        ),
        ("https://example.org/p", "q=1", "https://example.org/p?q=1"),
        (URL("https://example.org/p"), {"k": "v"}, "https://example.org/p?k=v"),
    ],
)
def test_request_url_and_params(url: Any, params: Any, expected: str) -> None:
    request = Request("GET", url, params=params)
    assert isinstance(request.url, URL)
    assert str(request.url) == expected


@pytest.mark.parametrize(
    ("url", "headers", "host"),
    [
        ("https://example.org/", None, "example.org"),
        ("https://Example.ORG:443/", None, "example.org"),
        ("http://example.org:8080/", None, "example.org:8080"),
        ("https://example.org:80/", None, "example.org:80"),
        ("http://[::1]:8080/x", None, "[::1]:8080"),
        ("http://[::1]/x", None, "[::1]"),
        ("https://user:secret@example.org/", None, "example.org"),
        ("https://example.org/", {"Host": "other.test"}, "other.test"),
        ("https://example.org/", [("host", "other.test:1")], "other.test:1"),
    ],
)
def test_request_host_header(url: str, headers: Any, host: str) -> None:
    request = Request("GET", url, headers=headers)
    assert request.headers.getlist("host") == [host]


def test_request_repr() -> None:
    assert (
        repr(Request("get", "https://example.org"))
        == "<Request('GET', URL('https://example.org/'))>"
    )
    masked = repr(Request("GET", "https://user:secret@example.org/"))
    assert "secret" not in masked
    assert "[secure]" in masked


# --- Request: bodies and their headers ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs", "content_length"),
    [
        ("POST", {}, "0"),
        ("PUT", {}, "0"),
        ("PATCH", {}, "0"),
        ("post", {"content": b""}, "0"),
        ("POST", {"data": {}}, "0"),
        ("GET", {}, None),
        ("HEAD", {}, None),
        ("DELETE", {"content": b""}, None),
        ("OPTIONS", {}, None),
        ("POST", {"content": b"abc"}, "3"),
        ("GET", {"content": "é"}, "2"),
        ("POST", {"headers": {"Content-Length": "0"}}, "0"),
        ("POST", {"headers": {"Transfer-Encoding": "chunked"}}, None),
        ("POST", {"body": BytesBody(b"")}, "0"),
        ("POST", {"body": BytesBody(b"xy")}, None),  # a given body brings no headers
    ],
)
def test_request_content_length(method: str, kwargs: Any, content_length: str | None) -> None:
    request = Request(method, URL_, **kwargs)
    expected = [] if content_length is None else [content_length]
    assert request.headers.getlist("content-length") == expected


@pytest.mark.parametrize(
    ("kwargs", "content_type", "content"),
    [
        ({"json": {"a": [1, "é"]}}, "application/json", '{"a":[1,"é"]}'.encode()),
        ({"data": {"a": "1 2", "b": "&"}}, "application/x-www-form-urlencoded", b"a=1+2&b=%26"),
        ({"data": b"raw"}, None, b"raw"),
        ({"data": "text"}, None, b"text"),
        ({"content": b"\x00\xff"}, None, b"\x00\xff"),
        ({"content": "é"}, None, "é".encode()),
        (
            {"json": {"a": 1}, "headers": {"Content-Type": "application/vnd.x+json"}},
            "application/vnd.x+json",
            b'{"a":1}',
        ),
    ],
)
def test_request_body_headers(kwargs: Any, content_type: str | None, content: bytes) -> None:
    request = Request("POST", URL_, **kwargs)
    assert request.headers.get("content-type") == content_type
    assert request.headers["content-length"] == str(len(content))
    assert request.content == content
    assert request.read() == content
    assert b"".join(request.stream()) == content


def test_request_files_body() -> None:
    request = Request("POST", URL_, files={"f": ("a.txt", b"hello")}, data={"x": "y"})
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.partition("boundary=")[2].encode()
    body = b"".join(request.stream())
    assert request.headers["content-length"] == str(len(body))
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"--" + boundary + b"--\r\n")
    assert b'name="f"; filename="a.txt"' in body
    assert b"\r\n\r\nhello\r\n" in body
    assert b'name="x"\r\n\r\ny\r\n' in body


def test_request_body_given_is_used_as_is() -> None:
    body = BytesBody(b"same")
    request = Request("PUT", URL_, body=body)
    assert request.body is body
    assert request.stream() is body
    assert request.content == b"same"


def test_request_sync_stream_read() -> None:
    request = Request("POST", URL_, content=iter([b"ab", b"", "cd"]))
    assert isinstance(request.body, IteratorBody)
    assert request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in request.headers
    with pytest.raises(RequestNotRead):
        _ = request.content
    assert request.read() == b"abcd"
    assert request.content == b"abcd"
    assert request.body.can_replay
    assert list(request.stream()) == [b"abcd"]
    assert list(request.stream()) == [b"abcd"]
    assert request.read() == b"abcd"


async def test_request_async_stream_aread() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"he"
        yield b"llo"

    request = Request("POST", URL_, content=chunks())
    assert request.headers["transfer-encoding"] == "chunked"
    with pytest.raises(RequestNotRead, match="aread"):
        _ = request.content
    assert await request.aread() == b"hello"
    assert request.content == b"hello"
    assert [chunk async for chunk in request.stream()] == [b"hello"]
    assert [chunk async for chunk in request.stream()] == [b"hello"]
    assert list(request.stream()) == [b"hello"]


async def test_request_aread_of_a_known_body() -> None:
    request = Request("POST", URL_, content=b"known")
    body = request.body
    assert await request.aread() == b"known"
    assert request.body is body


def test_request_read_of_a_streamed_body_consumed_elsewhere() -> None:
    request = Request("POST", URL_, content=iter([b"x"]))
    assert list(request.stream()) == [b"x"]
    with pytest.raises(StreamConsumed):
        request.read()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Test": "a\x01b"},
        {"X-Test": "a\rb"},
        {"X-Test": "a\nb"},
        {"X-Test": "a\x00b"},
        {"X-Test": "a\x7fb"},
        {"X-Te\nst": "a"},
        [(b"X-Test", b"a\r\nInjected: 1")],
    ],
)
def test_request_control_characters_in_headers(headers: Any) -> None:
    with pytest.raises(LocalProtocolError):
        Request("GET", URL_, headers=headers)


def test_request_tab_in_header_value_is_allowed() -> None:
    assert Request("GET", URL_, headers={"X-Test": "a\tb"}).headers["x-test"] == "a\tb"


# --- Request: cookies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookies", "headers", "cookie_header", "explicit"),
    [
        (None, None, None, None),
        ({"a": "1"}, None, "a=1", None),
        ([("a", "1"), ("b", "2")], None, "a=1; b=2", None),
        ({}, None, None, None),
        ({"a": "1"}, {"Cookie": "b=2"}, "b=2", "b=2"),
        (None, {"cookie": "c=3"}, "c=3", "c=3"),
    ],
)
def test_request_cookies(
    cookies: Any, headers: Any, cookie_header: str | None, explicit: str | None
) -> None:
    request = Request("GET", URL_, cookies=cookies, headers=headers)
    assert request.headers.get("cookie") == cookie_header
    assert request._explicit_cookie == explicit
    if cookies is None:
        assert request.cookies is None
    else:
        assert isinstance(request.cookies, Cookies)
        assert dict(request.cookies) == dict(cookies)


def test_request_cookies_instance_is_not_copied() -> None:
    jar = Cookies({"session": "abc"})
    request = Request("GET", URL_, cookies=jar)
    assert request.cookies is jar
    assert request.headers["cookie"] == "session=abc"
    assert request._explicit_cookie is None


# --- BaseResponse: plain attributes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status_code", "is_member", "reason"),
    [
        (200, True, "OK"),
        (codes.NOT_FOUND, True, "Not Found"),
        (418, True, "I'm a teapot"),
        (299, False, ""),
        (599, False, ""),
    ],
)
def test_response_status_code(status_code: int, is_member: bool, reason: str) -> None:
    response = BaseResponse(status_code)
    assert response.status_code == status_code
    assert isinstance(response.status_code, codes) is is_member
    assert type(response.status_code) is (codes if is_member else int)
    assert response.reason_phrase == reason


@pytest.mark.parametrize(
    ("status_code", "given", "expected"),
    [
        (200, "Okay then", "Okay then"),
        (404, "", ""),
        (404, None, "Not Found"),
        (299, "Fine", "Fine"),
    ],
)
def test_response_reason_phrase(status_code: int, given: str | None, expected: str) -> None:
    assert BaseResponse(status_code, reason_phrase=given).reason_phrase == expected


def test_response_defaults() -> None:
    response = BaseResponse(200)
    assert response.protocol == "HTTP/1.1"
    assert response.history == []
    assert response.elapsed == timedelta(0)
    assert response.content == b""
    assert response.is_closed
    assert not response.is_stream_consumed
    assert response.num_bytes_downloaded == 0
    assert isinstance(response.headers, Headers)
    assert list(response.headers.items()) == []


def test_response_given_attributes() -> None:
    headers = Headers({"X-A": "1"})
    earlier = BaseResponse(301, headers={"Location": "/"})
    response = BaseResponse(
        200,
        headers=headers,
        protocol="HTTP/2",
        history=(earlier,),
        elapsed=timedelta(seconds=2),
    )
    assert response.headers is headers
    assert response.protocol == "HTTP/2"
    assert response.history == [earlier]
    assert isinstance(response.history, list)
    assert response.elapsed == timedelta(seconds=2)


def test_response_headers_from_pairs() -> None:
    response = BaseResponse(200, headers=[(b"Set-Cookie", b"a=1"), ("set-cookie", "b=2")])
    assert response.headers.getlist("set-cookie") == ["a=1", "b=2"]


def test_response_request_and_url() -> None:
    response = BaseResponse(200)
    with pytest.raises(RuntimeError, match="no request"):
        _ = response.request
    with pytest.raises(RuntimeError, match="no request"):
        _ = response.url
    request = Request("GET", "https://example.org/a")
    response.request = request
    assert response.request is request
    assert response.url == "https://example.org/a"
    assert BaseResponse(200, request=request).url is request.url


@pytest.mark.parametrize(
    ("status_code", "headers", "is_redirect"),
    [
        *((code, {"Location": "/x"}, True) for code in (301, 302, 303, 307, 308)),
        *((code, {}, False) for code in (301, 302, 303, 307, 308)),
        (200, {"Location": "/x"}, False),
        (300, {"Location": "/x"}, False),
        (304, {"Location": "/x"}, False),
        (201, {"Location": "/x"}, False),
    ],
)
def test_response_is_redirect(status_code: int, headers: Any, is_redirect: bool) -> None:
    assert BaseResponse(status_code, headers=headers).is_redirect is is_redirect


@pytest.mark.parametrize(
    ("status_code", "is_error"),
    [(100, False), (200, False), (299, False), (302, False), (399, False), (400, True),
     (404, True), (499, True), (500, True), (599, True)],
)  # fmt: skip
def test_response_is_error(status_code: int, is_error: bool) -> None:
    assert BaseResponse(status_code).is_error is is_error


@pytest.mark.parametrize(
    ("status_code", "reason", "message"),
    [
        (404, None, "Client error '404 Not Found' for url 'https://example.org/a?b=c'"),
        (400, "Nope", "Client error '400 Nope' for url 'https://example.org/a?b=c'"),
        (499, None, "Client error '499 ' for url 'https://example.org/a?b=c'"),
        (500, None, "Server error '500 Internal Server Error' for url 'https://example.org/a?b=c'"),
        (503, None, "Server error '503 Service Unavailable' for url 'https://example.org/a?b=c'"),
    ],
)
def test_raise_for_status_error(status_code: int, reason: str | None, message: str) -> None:
    request = Request("GET", "https://example.org/a?b=c")
    response = BaseResponse(status_code, request=request, reason_phrase=reason)
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    assert str(info.value) == message
    assert info.value.request is request
    assert info.value.response is response


@pytest.mark.parametrize("status_code", [100, 200, 204, 299, 301, 304, 399])
def test_raise_for_status_ok(status_code: int) -> None:
    # No request attached: a non-error status must not even look at it.
    result: Any = BaseResponse(status_code).raise_for_status()  # type: ignore[func-returns-value]
    assert result is None


def test_response_cookies() -> None:
    request = Request("GET", "https://example.org/")
    response = BaseResponse(
        200,
        request=request,
        headers=[
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2"),
            ("Set-Cookie", "c=3; Domain=other.test"),
        ],
    )
    cookies = response.cookies
    assert isinstance(cookies, Cookies)
    assert dict(cookies) == {"a": "1", "b": "2"}
    assert response.cookies is cookies


def test_response_cookies_need_a_request() -> None:
    with pytest.raises(RuntimeError):
        _ = BaseResponse(200, headers={"Set-Cookie": "a=1"}).cookies


@pytest.mark.parametrize(
    ("cls", "status_code", "expected"),
    [
        (Response, 404, "<Response [404 Not Found]>"),
        (AsyncResponse, 200, "<AsyncResponse [200 OK]>"),
        (BaseResponse, 301, "<BaseResponse [301 Moved Permanently]>"),
        (Response, 299, "<Response [299]>"),
    ],
)
def test_response_repr(cls: type[BaseResponse], status_code: int, expected: str) -> None:
    assert repr(cls(status_code)) == expected


# --- BaseResponse: content, encoding, text, json -------------------------------------------


CP1252_TEXT = (
    "Le cœur déçu mais l\u2019âme plutôt naïve, Louÿs rêva de crapaüter en canoë "
    "au delà des îles, près du mälström où brûlent les novæ."
)
LATIN1_TEXT = (
    "Größere Übungen für Äpfel, Öl und süße Brötchen, café, naïve façade. "
    "Die Straße führt über die Brücke."
)
JAPANESE_TEXT = "こんにちは、世界。これは日本語のテキストです。文字コードの判定をテストします。"


@pytest.mark.parametrize(
    ("content_type", "body", "encoding", "text"),
    [
        ("text/plain; charset=latin-1", b"caf\xe9", "latin-1", "café"),
        ("text/plain; charset=ISO-8859-1", b"caf\xe9", "ISO-8859-1", "café"),
        ('text/plain; charset="iso-8859-15"', b"\xa4", "iso-8859-15", "€"),
        ("text/plain; charset='utf-16-le'", "hé".encode("utf-16-le"), "utf-16-le", "hé"),
        ("text/html; foo=bar; Charset = cp1252", b"\x80", "cp1252", "€"),
        ("text/plain; charset=nonsense", "café".encode(), "utf-8", "café"),
        ("text/plain; charset=", "café".encode(), "utf-8", "café"),
        ("text/plain", "café €".encode(), "utf-8", "café €"),
        (None, "日本".encode(), "utf-8", "日本"),
        (None, b"", "utf-8", ""),
        # The charset wins over what the bytes look like; bad bytes are replaced.
        ("text/plain; charset=utf-8", b"caf\xe9", "utf-8", "caf\ufffd"),
        ("text/plain; charset=ascii", "é".encode(), "ascii", "\ufffd\ufffd"),
    ],
)
def test_response_encoding_and_text(
    content_type: str | None, body: bytes, encoding: str, text: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    response = BaseResponse(200, headers=headers, content=body)
    assert response.encoding == encoding
    assert response.text == text
    assert response.text is response.text  # decoded once


@pytest.mark.parametrize(
    ("text", "codec"),
    [(CP1252_TEXT, "cp1252"), (LATIN1_TEXT, "latin-1"), (JAPANESE_TEXT, "shift_jis")],
)
def test_response_encoding_detected(text: str, codec: str) -> None:
    body = text.encode(codec)
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    response = BaseResponse(200, headers={"Content-Type": "text/plain"}, content=body)
    assert response.encoding.lower().replace("_", "-") not in ("utf-8", "utf8")
    assert response.text == text


def test_response_setting_encoding_changes_text() -> None:
    response = BaseResponse(200, content="café".encode())
    assert response.text == "café"
    response.encoding = "latin-1"
    assert response.encoding == "latin-1"
    assert response.text == "cafÃ©"
    response.encoding = "utf-8"
    assert response.text == "café"


def test_response_encoding_needs_content() -> None:
    response = Response(200, content=iter([b"x"]))
    with pytest.raises(ResponseNotRead):
        _ = response.encoding
    with pytest.raises(ResponseNotRead):
        _ = response.text


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        (None, None),
        ("text/plain", None),
        ("text/plain; format=flowed", None),
        ("text/plain; format=flowed; charset=UTF-8", "UTF-8"),
        ('text/plain; charset="latin-1"', "latin-1"),
        ("text/plain;charset=utf-16", "utf-16"),
        ("text/plain; charset=nonsense", None),
        ("text/plain; charset=", None),
        ("text/plain; charset=utf-8; charset=latin-1", "utf-8"),
    ],
)
def test_response_charset_encoding(content_type: str | None, charset: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    assert BaseResponse(200, headers=headers).charset_encoding == charset


@pytest.mark.parametrize("charset", ["base64", "rot13", "hex"])
def test_response_charset_encoding_not_a_text_codec(charset: str) -> None:
    headers = {"Content-Type": f"application/json; charset={charset}"}
    response = BaseResponse(200, headers=headers, content='{"a": 1}'.encode("utf-16-le"))
    assert response.charset_encoding is None
    # Same as for an unknown charset: JSON finds the UTF-16 encoding itself.
    assert response.json() == {"a": 1}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, b'{"a": [1, 2], "b": "\xc3\xa9"}'),
        ("application/json", b'{"a": [1, 2], "b": "\xc3\xa9"}'),
        ("application/json", b'\xef\xbb\xbf{"a": [1, 2], "b": "\xc3\xa9"}'),
        ("application/json", '{"a": [1, 2], "b": "é"}'.encode("utf-16")),
        ("application/json", '{"a": [1, 2], "b": "é"}'.encode("utf-16-be")),
        ("application/json; charset=utf-16", '{"a": [1, 2], "b": "é"}'.encode("utf-16")),
        ("application/json; charset=utf-8", b'{"a": [1, 2], "b": "\xc3\xa9"}'),
        ("application/json; charset=latin-1", b'{"a": [1, 2], "b": "\xe9"}'),
    ],
)
def test_response_json(content_type: str | None, body: bytes) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    assert BaseResponse(200, headers=headers, content=body).json() == {"a": [1, 2], "b": "é"}


def test_response_json_uses_set_encoding_and_kwargs() -> None:
    response = BaseResponse(200, content=b'{"price": 1.10, "name": "\xe9"}')
    with pytest.raises(UnicodeDecodeError):
        response.json()
    response.encoding = "latin-1"
    assert response.json(parse_float=Decimal) == {"price": Decimal("1.10"), "name": "é"}


def test_response_json_invalid() -> None:
    with pytest.raises(json.JSONDecodeError):
        BaseResponse(200, content=b"{nope").json()


@pytest.mark.parametrize("cls", [BaseResponse, Response, AsyncResponse])
@pytest.mark.parametrize(
    ("content_encoding", "compress"),
    [("gzip", gzip.compress), ("GZIP", gzip.compress), ("identity", bytes), (None, bytes)],
)
def test_response_content_decoded_from_bytes(
    cls: type[BaseResponse], content_encoding: str | None, compress: Any
) -> None:
    body = b"hello, world " * 1000
    raw = compress(body)
    headers = {"Content-Encoding": content_encoding} if content_encoding else None
    response = cls(200, headers=headers, content=raw)
    assert response.content == body
    assert response.num_bytes_downloaded == len(raw)
    assert response.is_closed
    assert not response.is_stream_consumed


def test_response_empty_gzip_body() -> None:
    response = BaseResponse(304, headers={"Content-Encoding": "gzip"}, content=b"")
    assert response.content == b""


# --- Response / AsyncResponse: streaming -------------------------------------------------------


async def test_read_streaming(kind: Kind) -> None:
    response, source = kind.streaming([b"hel", b"", b"lo"])
    with pytest.raises(ResponseNotRead):
        _ = response.content
    assert not response.is_closed
    assert await kind.read(response) == b"hello"
    assert response.content == b"hello"
    assert response.is_closed
    assert response.is_stream_consumed
    assert source.close_calls == 1
    assert response.num_bytes_downloaded == 5
    assert response.text == "hello"
    # Reading again returns the content without touching the source.
    assert await kind.read(response) == b"hello"
    assert source.close_calls == 1


async def test_read_streaming_gzip(kind: Kind) -> None:
    body = b"compress me please " * 5000
    raw = gzip.compress(body)
    chunks = [raw[i : i + 1000] for i in range(0, len(raw), 1000)]
    response, source = kind.streaming(chunks, headers={"Content-Encoding": "gzip"})
    assert await kind.read(response) == body
    assert response.num_bytes_downloaded == len(raw)
    assert source.close_calls == 1


async def test_stream_twice_is_stream_consumed(kind: Kind) -> None:
    response, _ = kind.streaming([b"a", b"b"])
    assert await kind.collect(response.stream()) == [b"a", b"b"]
    with pytest.raises(StreamConsumed):
        await kind.collect(response.stream())
    with pytest.raises(StreamConsumed):
        await kind.collect(response.raw())
    with pytest.raises(StreamConsumed):
        await kind.read(response)
    # Iterating stream() does not keep the content.
    with pytest.raises(ResponseNotRead):
        _ = response.content


async def test_raw_streaming(kind: Kind) -> None:
    body = b"raw bytes " * 1000
    raw = gzip.compress(body)
    chunks = [raw[:10], raw[10:50], raw[50:]]
    response, source = kind.streaming(chunks, headers={"Content-Encoding": "gzip"})
    assert await kind.collect(response.raw()) == chunks
    assert response.num_bytes_downloaded == len(raw)
    assert response.is_closed
    assert source.close_calls == 1
    with pytest.raises(StreamConsumed):
        await kind.collect(response.raw())
    with pytest.raises(StreamConsumed):
        await kind.collect(response.stream())


@pytest.mark.parametrize("what", ["read", "stream", "raw", "stream_text", "stream_lines"])
async def test_closed_unread_response(kind: Kind, what: str) -> None:
    response, source = kind.streaming([b"never read"])
    await kind.close(response)
    assert response.is_closed
    assert source.close_calls == 1
    with pytest.raises(ResponseClosed):
        if what == "read":
            await kind.read(response)
        else:
            await kind.collect(getattr(response, what)())
    with pytest.raises(ResponseNotRead):
        _ = response.content


async def test_stream_after_read_yields_content_in_chunks(kind: Kind) -> None:
    response, _ = kind.streaming([THREE_MIB[:12345], THREE_MIB[12345:]])
    assert await kind.read(response) == THREE_MIB
    for _ in range(2):
        chunks = await kind.collect(response.stream())
        assert [len(chunk) for chunk in chunks] == [MAX_CHUNK] * 3
        assert b"".join(chunks) == THREE_MIB


async def test_stream_of_bytes_response_in_chunks(kind: Kind) -> None:
    response = kind.response(200, content=THREE_MIB)
    chunks = await kind.collect(response.stream())
    assert [len(chunk) for chunk in chunks] == [MAX_CHUNK] * 3
    assert b"".join(chunks) == THREE_MIB
    assert await kind.collect(kind.response(200).stream()) == []


async def test_stream_streaming_is_bounded(kind: Kind) -> None:
    response, source = kind.streaming([THREE_MIB])
    chunks = await kind.collect(response.stream())
    assert [len(chunk) for chunk in chunks] == [MAX_CHUNK] * 3
    assert b"".join(chunks) == THREE_MIB
    assert source.close_calls == 1


@pytest.mark.parametrize("method", ["stream", "raw"])
async def test_stream_closed_early_closes_source(kind: Kind, method: str) -> None:
    response, source = kind.streaming([b"one", b"two"])
    assert await kind.first_then_close(getattr(response, method)()) == b"one"
    assert response.is_closed
    assert source.close_calls == 1


@pytest.mark.parametrize(
    ("chunks", "headers", "texts"),
    [
        # A multi-byte character split across chunks, and a chunk that completes nothing.
        ([b"caf\xc3", b"\xa9 ", b"\xe2\x82", b"\xac!"], None, ["caf", "é ", "€!"]),
        # An incomplete character at the end becomes U+FFFD on flush.
        ([b"ab\xe2\x82"], None, ["ab", "\ufffd"]),
        ([b"caf\xe9"], {"Content-Type": "text/plain; charset=latin-1"}, ["café"]),
        ([b"\x00h\x00i"], {"Content-Type": "text/plain; charset=utf-16-be"}, ["hi"]),
        # An unknown charset: UTF-8, and b"\xe9" starts an unfinished character.
        ([b"caf\xe9"], {"Content-Type": "text/plain; charset=nonsense"}, ["caf", "\ufffd"]),
        ([b"caf\xe9!"], {"Content-Type": "text/plain; charset=nonsense"}, ["caf\ufffd!"]),
        ([], None, []),
        ([b""], None, []),
    ],
)
async def test_stream_text(kind: Kind, chunks: list[bytes], headers: Any, texts: list[str]) -> None:
    response, source = kind.streaming(chunks, headers=headers)
    assert await kind.collect(response.stream_text()) == texts
    assert source.close_calls == 1


async def test_stream_text_uses_set_encoding(kind: Kind) -> None:
    response, _ = kind.streaming([b"caf", b"\xe9"])
    response.encoding = "latin-1"
    assert "".join(await kind.collect(response.stream_text())) == "café"


async def test_stream_text_after_read(kind: Kind) -> None:
    response, _ = kind.streaming(["naïve ".encode(), "café".encode()])
    await kind.read(response)
    assert await kind.collect(response.stream_text()) == ["naïve café"]


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ([b"one\r", b"\ntwo\nthr", b"ee\r\nfour"], ["one", "two", "three", "four"]),
        ([b"a\r\n", b"\r\nb\n"], ["a", "", "b"]),
        ([b"x\ry\n"], ["x", "y"]),
        ([b"caf\xc3", b"\xa9\nend"], ["café", "end"]),
        ([b""], []),
    ],
)
async def test_stream_lines(kind: Kind, chunks: list[bytes], lines: list[str]) -> None:
    response, _ = kind.streaming(chunks)
    assert await kind.collect(response.stream_lines()) == lines


@pytest.mark.parametrize(
    ("content", "headers", "raw"),
    [
        (b"abc", None, [b"abc"]),
        (b"", None, []),
        (None, None, []),
        (gzip.compress(b"zipped"), {"Content-Encoding": "gzip"}, [gzip.compress(b"zipped")]),
    ],
)
async def test_raw_of_bytes_response(
    kind: Kind, content: bytes | None, headers: Any, raw: list[bytes]
) -> None:
    response = kind.response(200, content=content, headers=headers)
    assert await kind.collect(response.raw()) == raw
    assert response.num_bytes_downloaded == sum(map(len, raw))
    assert response.is_stream_consumed
    with pytest.raises(StreamConsumed):
        await kind.collect(response.raw())
    # The decoded content is still there.
    assert b"".join(await kind.collect(response.stream())) == response.content


async def test_next_without_redirect(kind: Kind) -> None:
    response = kind.response(200, headers={"Location": "/x"})
    response._next = lambda: None
    with pytest.raises(RuntimeError, match="redirect"):
        await kind.next(response)


async def test_next_without_client(kind: Kind) -> None:
    response = kind.response(302, headers={"Location": "/x"})
    with pytest.raises(RuntimeError, match="redirect"):
        await kind.next(response)


async def test_next_follows(kind: Kind) -> None:
    target = kind.response(200, content=b"there")
    response = kind.response(307, headers={"Location": "/there"})
    calls: list[int] = []

    def follow() -> Any:
        calls.append(1)
        return target

    async def afollow() -> Any:
        return follow()

    response._next = afollow if kind.is_async else follow
    assert await kind.next(response) is target
    assert calls == [1]


def test_sync_context_manager_closes() -> None:
    source = ClosableSyncSource([b"a"])
    with Response(200, content=source) as response:
        assert not response.is_closed
    assert response.is_closed
    assert source.close_calls == 1
    with pytest.raises(ResponseClosed):
        response.read()


async def test_async_context_manager_closes() -> None:
    source = ClosableAsyncSource([b"a"])
    async with AsyncResponse(200, content=source) as response:
        assert not response.is_closed
    assert response.is_closed
    assert source.close_calls == 1
    with pytest.raises(ResponseClosed):
        await response.read()


async def test_close_twice(kind: Kind) -> None:
    response, source = kind.streaming([b"a"])
    await kind.close(response)
    await kind.close(response)
    assert source.close_calls == 1


async def test_close_of_bytes_response(kind: Kind) -> None:
    response = kind.response(200, content=b"x")
    await kind.close(response)
    assert response.is_closed
    assert response.content == b"x"


async def test_source_without_close(kind: Kind) -> None:
    response, source = kind.streaming([b"a", b"b"], closable=False)
    assert not hasattr(source, "close")
    assert not hasattr(source, "aclose")
    assert await kind.read(response) == b"ab"
    assert response.is_closed
    other, _ = kind.streaming([b"a"], closable=False)
    await kind.close(other)
    assert other.is_closed
    with pytest.raises(ResponseClosed):
        await kind.read(other)


async def test_num_bytes_downloaded_grows_while_streaming(kind: Kind) -> None:
    response, _ = kind.streaming([b"12", b"345", b"6"])
    seen = []
    if kind.is_async:
        async for _chunk in response.stream():
            seen.append(response.num_bytes_downloaded)
    else:
        for _chunk in response.stream():
            seen.append(response.num_bytes_downloaded)
    assert seen == [2, 5, 6]


class SourceError(Exception):
    pass


@pytest.mark.parametrize("method", ["read", "stream", "raw", "stream_text", "stream_lines"])
async def test_source_error_closes_response(kind: Kind, method: str) -> None:
    response, source = kind.streaming([b"first\n", SourceError("connection lost")])
    with pytest.raises(SourceError, match="connection lost"):
        if method == "read":
            await kind.read(response)
        else:
            await kind.collect(getattr(response, method)())
    assert response.is_closed
    assert source.close_calls == 1
    with pytest.raises(StreamConsumed):
        await kind.read(response)


@pytest.mark.parametrize("method", ["read", "stream", "stream_text", "stream_lines"])
@pytest.mark.parametrize(
    ("chunks", "message"),
    [
        # Corrupt data fails while decoding a chunk...
        ([gzip.compress(b"abc")[:10], b"this is not deflate data at all"], "invalid gzip"),
        # ...a cut-short body when the decoder is flushed at the end.
        ([gzip.compress(b"abc" * 100)[:-8]], "truncated gzip"),
    ],
)
async def test_decoding_error_closes_response(
    kind: Kind, method: str, chunks: list[bytes], message: str
) -> None:
    response, source = kind.streaming(chunks, headers={"Content-Encoding": "gzip"})
    with pytest.raises(DecodingError, match=message):
        if method == "read":
            await kind.read(response)
        else:
            await kind.collect(getattr(response, method)())
    assert response.is_closed
    assert source.close_calls == 1


async def test_raw_ignores_decoding_errors(kind: Kind) -> None:
    chunks = [b"not gzip at all"]
    response, _ = kind.streaming(chunks, headers={"Content-Encoding": "gzip"})
    assert await kind.collect(response.raw()) == chunks


@pytest.mark.parametrize("streaming", [True, False])
async def test_stream_of_content_closed_early(kind: Kind, streaming: bool) -> None:
    if streaming:
        response, _ = kind.streaming([THREE_MIB])
        await kind.read(response)
    else:
        response = kind.response(200, content=THREE_MIB)
    iterator = response.stream()
    assert await kind.first_then_close(iterator) == THREE_MIB[:MAX_CHUNK]
    assert await kind.collect(iterator) == []
    # A new stream() starts over.
    assert b"".join(await kind.collect(response.stream())) == THREE_MIB


def test_method_validation_cache_stays_bounded() -> None:
    from httpcore._core import models as _models

    methods = [f"M{i}" for i in range(100)]
    assert [Request(m, "https://example.org/").method for m in methods] == methods
    assert len(_models._VALID_METHODS) <= 64
