from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from httpcore._core.cookies import Cookies
from httpcore._core.exceptions import RemoteProtocolError, StreamConsumed, UnsupportedProtocol
from httpcore._core.models import BaseResponse, Request
from httpcore._core.redirects import (
    build_redirect_request,
    is_same_origin_for_credentials,
    redirect_method,
)
from httpcore._core.urls import URL

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# status -> what each method of METHODS becomes
EXPECTED_METHODS = {
    301: ["GET", "HEAD", "GET", "PUT", "PATCH", "DELETE", "OPTIONS"],
    302: ["GET", "HEAD", "GET", "GET", "GET", "GET", "GET"],
    303: ["GET", "HEAD", "GET", "GET", "GET", "GET", "GET"],
    307: METHODS,
    308: METHODS,
    300: METHODS,  # not a redirect the client follows: nothing to change
}
METHOD_CASES = [
    (status, method, expected)
    for status, row in EXPECTED_METHODS.items()
    for method, expected in zip(METHODS, row, strict=True)
]


def redirect(
    request: Request, status: int = 302, location: str | None = "/next", **headers: Any
) -> Request:
    response_headers: list[tuple[str, Any]] = [(k.replace("_", "-"), v) for k, v in headers.items()]
    if location is not None:
        response_headers.append(("Location", location))
    response = BaseResponse(status, headers=response_headers, request=request)
    return build_redirect_request(request, response)


# -- method and body ---------------------------------------------------------------


@pytest.mark.parametrize(("status", "method", "expected"), METHOD_CASES)
def test_redirect_method(status: int, method: str, expected: str) -> None:
    assert redirect_method(method, status) == expected
    assert redirect_method(method.lower(), status) == expected


@pytest.mark.parametrize(("status", "method", "expected"), METHOD_CASES)
def test_method_and_body_follow_the_rules(status: int, method: str, expected: str) -> None:
    request = Request(method, "https://example.org/a", data={"k": "v"})
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    new = redirect(request, status)
    assert new.method == expected
    assert new.url == "https://example.org/next"
    body_kept = expected == method and status not in (302, 303)
    if body_kept:
        assert new.body is request.body
        assert new.content == b"k=v"
        assert new.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert new.headers["Content-Length"] == "3"
    else:
        assert new.content == b""
        for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
            assert name not in new.headers


def chunks() -> Iterator[bytes]:
    yield b"one"
    yield b"two"


@pytest.mark.parametrize("status", [307, 308])
def test_streamed_body_cannot_be_replayed(status: int) -> None:
    request = Request("POST", "https://example.org/upload", content=chunks())
    with pytest.raises(StreamConsumed, match=str(status)):
        redirect(request, status)


@pytest.mark.parametrize("status", [307, 308])
def test_streamed_body_that_was_read_is_replayed(status: int) -> None:
    request = Request("POST", "https://example.org/upload", content=chunks())
    request.read()
    new = redirect(request, status)
    assert new.method == "POST"
    assert new.content == b"onetwo"


@pytest.mark.parametrize("status", [301, 302, 303])
def test_dropped_stream_drops_transfer_encoding(status: int) -> None:
    request = Request("POST", "https://example.org/upload", content=chunks())
    assert request.headers["Transfer-Encoding"] == "chunked"
    new = redirect(request, status)
    assert new.method == "GET"
    assert new.content == b""
    assert "transfer-encoding" not in new.headers
    assert "content-length" not in new.headers


def test_other_headers_are_kept() -> None:
    request = Request("GET", "https://example.org/", headers={"X-Custom": "1", "Accept": "a/b"})
    new = redirect(request, 302, "https://other.org/")
    assert new.headers["X-Custom"] == "1"
    assert new.headers["Accept"] == "a/b"


# -- URL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "location", "expected"),
    [
        ("https://example.org/a/b?q=1", "c", "https://example.org/a/c"),
        ("https://example.org/a/b", "../c?x=2", "https://example.org/c?x=2"),
        ("https://example.org/a/b", "?x=2", "https://example.org/a/b?x=2"),
        ("https://example.org/a", "//other.org/p", "https://other.org/p"),
        ("http://example.org/", "https://EXAMPLE.org:443/p", "https://example.org/p"),
        ("https://example.org/", "  /spaced  ", "https://example.org/spaced"),
        # fragments: kept when the Location has none, replaced when it has one
        ("https://example.org/a#frag", "/b", "https://example.org/b#frag"),
        ("https://example.org/a#frag", "/b#new", "https://example.org/b#new"),
        ("https://example.org/a#frag", "https://other.org/", "https://other.org/#frag"),
        ("https://example.org/a", "/b", "https://example.org/b"),
        ("https://example.org/a", "/b#new", "https://example.org/b#new"),
        # non-ASCII
        ("https://example.org/", "/Bücher?q=ü", "https://example.org/B%C3%BCcher?q=%C3%BC"),
        ("https://example.org/", "https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://example.org/", "/a b", "https://example.org/a%20b"),
    ],
)
def test_location_is_resolved(url: str, location: str, expected: str) -> None:
    new = redirect(Request("GET", url), 302, location)
    assert str(new.url) == expected


def test_location_bytes_in_utf8() -> None:
    request = Request("GET", "https://example.org/")
    response = BaseResponse(302, headers=[(b"Location", "/Bücher".encode())], request=request)
    assert response.headers["Location"] == "/BÃ¼cher"  # latin-1 view of the bytes
    assert str(build_redirect_request(request, response).url) == "https://example.org/B%C3%BCcher"


def test_location_bytes_not_utf8_are_taken_as_latin1() -> None:
    request = Request("GET", "https://example.org/")
    response = BaseResponse(302, headers=[(b"Location", "/Bü".encode("latin-1"))], request=request)
    assert str(build_redirect_request(request, response).url) == "https://example.org/B%C3%BC"


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (None, "no Location"),
        ("", "no Location"),
        ("   ", "no Location"),
        ("http://example.org:99999/", "invalid Location"),
        ("http://[::1/", "invalid Location"),
        ("http:///no-host", "invalid Location"),
    ],
)
def test_bad_location(location: str | None, message: str) -> None:
    request = Request("GET", "https://example.org/")
    with pytest.raises(RemoteProtocolError, match=message) as info:
        redirect(request, 302, location)
    assert info.value.request is request


def test_several_locations() -> None:
    request = Request("GET", "https://example.org/")
    response = BaseResponse(302, headers=[("Location", "/a"), ("Location", "/b")], request=request)
    with pytest.raises(RemoteProtocolError, match="several Location"):
        build_redirect_request(request, response)
    # The same value twice is no ambiguity.
    response = BaseResponse(302, headers=[("Location", "/a"), ("Location", "/a")], request=request)
    assert build_redirect_request(request, response).url == "https://example.org/a"


@pytest.mark.parametrize(
    "location", ["ftp://example.org/file", "file:///etc/passwd", "javascript:alert(1)"]
)
def test_other_schemes_are_unsupported(location: str) -> None:
    request = Request("GET", "https://example.org/")
    with pytest.raises(UnsupportedProtocol) as info:
        redirect(request, 302, location)
    assert info.value.request is request


# -- headers that depend on the origin ----------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("https://example.org/a", "https://example.org/b", True),
        ("https://example.org/a", "https://EXAMPLE.org:443/b", True),
        ("http://example.org/", "https://example.org/", True),
        ("http://example.org:80/", "https://example.org:443/", True),
        ("http://example.org:8080/", "https://example.org:8443/", False),
        ("http://example.org:8080/", "https://example.org:8080/", False),
        ("http://example.org:8080/", "https://example.org/", False),
        ("http://example.org/", "https://example.org:8443/", False),
        ("http://example.org/", "https://www.example.org/", False),
        ("https://example.org/", "http://example.org/", False),
        ("https://example.org/", "https://example.org:8443/", False),
        ("https://example.org/", "https://other.org/", False),
        ("https://example.org/", "https://sub.example.org/", False),
    ],
)
def test_is_same_origin_for_credentials(old: str, new: str, same: bool) -> None:
    assert is_same_origin_for_credentials(URL(old), URL(new)) is same


SECRET_HEADERS = {
    "Authorization": "Basic dXNlcjpwYXNz",
    "Proxy-Authorization": "Basic cHJveHk6cGFzcw==",
    "Cookie": "session=hand-set",
}


@pytest.mark.parametrize(
    ("old", "location", "kept"),
    [
        ("https://example.org/a", "/b", True),
        ("https://example.org/a", "https://example.org/b", True),
        ("http://example.org/a", "https://example.org/b", True),  # upgrade
        ("https://example.org/a", "https://other.org/b", False),  # other host
        ("https://example.org/a", "https://sub.example.org/b", False),
        ("https://example.org/a", "https://example.org:8443/b", False),  # other port
        ("https://example.org/a", "http://example.org/b", False),  # downgrade
        ("http://example.org:8080/a", "https://example.org:8443/b", False),
        ("http://example.org:8080/a", "https://example.org/b", False),
    ],
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_credentials_and_explicit_cookie(old: str, location: str, kept: bool, status: int) -> None:
    request = Request("GET", old, headers=SECRET_HEADERS)
    new = redirect(request, status, location)
    for name, value in SECRET_HEADERS.items():
        assert new.headers.get(name) == (value if kept else None), name
    assert new._explicit_cookie == ("session=hand-set" if kept else None)


@pytest.mark.parametrize(
    ("url", "location", "host"),
    [
        ("https://example.org/", "/b", "example.org"),
        ("https://example.org/", "https://other.org:8443/b", "other.org:8443"),
        ("http://example.org/", "https://[::1]/", "[::1]"),
        ("https://user:pw@example.org/", "/b", "example.org"),
    ],
)
def test_host_header_is_recomputed(url: str, location: str, host: str) -> None:
    request = Request("GET", url, headers={"Host": "hand-set.example"})
    new = redirect(request, 302, location)
    assert new.headers.getlist("Host") == [host]


# -- cookies from the jar -----------------------------------------------------------


def jar() -> Cookies:
    cookies = Cookies()
    cookies.set("org", "1", domain="example.org")
    cookies.set("com", "2", domain="example.com")
    return cookies


@pytest.mark.parametrize(
    ("location", "cookie_header"),
    [
        ("/b", "org=1"),
        ("https://sub.example.org/", "org=1"),
        ("https://example.com/", "com=2"),
        ("https://other.net/", None),
    ],
)
def test_jar_cookies_are_reselected(location: str, cookie_header: str | None) -> None:
    cookies = jar()
    request = Request("GET", "https://example.org/", cookies=cookies)
    assert request.headers["Cookie"] == "org=1"
    assert request._explicit_cookie is None
    new = redirect(request, 302, location)
    assert new.headers.get("Cookie") == cookie_header
    assert new.cookies is cookies
    assert new._explicit_cookie is None


def test_explicit_cookie_wins_over_jar_on_same_origin_only() -> None:
    cookies = jar()
    request = Request(
        "GET", "https://example.org/", headers={"Cookie": "hand=set"}, cookies=cookies
    )
    assert request.headers["Cookie"] == "hand=set"
    same = redirect(request, 302, "/b")
    assert same.headers.getlist("Cookie") == ["hand=set"]
    assert same.cookies is cookies
    other = redirect(request, 302, "https://example.com/")
    assert other.headers.getlist("Cookie") == ["com=2"]
    assert other.cookies is cookies


def test_cookies_set_by_the_redirect_are_sent_on() -> None:
    cookies = jar()
    request = Request("POST", "https://example.org/login", cookies=cookies, data={"u": "me"})
    new = redirect(
        request,
        303,
        "/home",
        set_cookie="session=abc; Path=/; Secure",
    )
    assert new.method == "GET"
    assert new.headers["Cookie"] == "org=1; session=abc"
    assert new.cookies is not None and new.cookies is not cookies
    assert "session" not in cookies  # the caller's cookies are left alone


def test_cookies_set_by_the_redirect_without_jar() -> None:
    request = Request("GET", "https://example.org/")
    assert request.cookies is None
    new = redirect(request, 302, "/home", set_cookie="session=abc")
    assert new.headers["Cookie"] == "session=abc"
    assert new.cookies is not None and dict(new.cookies) == {"session": "abc"}
    # ... and only where they belong.
    other = redirect(request, 302, "https://other.org/", set_cookie="session=abc")
    assert "cookie" not in other.headers


def test_no_cookies_stay_none() -> None:
    request = Request("GET", "https://example.org/")
    new = redirect(request, 302, "/b")
    assert new.cookies is None
    assert "cookie" not in new.headers
