"""Cookie scoping: RFC 6265 §5.3 domains with the public suffix list, IP hosts,
redirects, per-request cookies and control bytes."""

from __future__ import annotations

import json

import h2.events
import pytest
import trio

import httpcore
from httpcore._core.cookies import Cookies
from httpcore._core.models import BaseResponse, Request
from tests.h2server import H2ServerConnection, h2_server
from tests.servers import ServerThread, raw_server, read_request_head


def stored(url: str, set_cookie: str) -> list[tuple[str, str]]:
    cookies = Cookies()
    request = Request("GET", url)
    cookies.extract_cookies(
        BaseResponse(200, headers=[("Set-Cookie", set_cookie)], request=request)
    )
    return [(c.name, c.domain) for c in cookies.jar]


def header_for(cookies: Cookies, url: str) -> str | None:
    return cookies.cookie_header_for(httpcore.URL(url))


@pytest.mark.parametrize(
    ("url", "set_cookie"),
    [
        # Public suffixes, from the ICANN and private sections, and the default `*` rule.
        ("https://www.example.co.uk/", "a=1; Domain=co.uk"),
        ("https://www.example.co.uk/", "a=1; Domain=.co.uk"),
        ("https://me.github.io/", "a=1; Domain=github.io"),
        ("https://a.b.kawasaki.jp/", "a=1; Domain=b.kawasaki.jp"),
        ("https://foo.com/", "a=1; Domain=com"),
        ("https://foo.test/", "a=1; Domain=test"),
        ("https://x.foo.local/", "a=1; Domain=local"),
        # Not a parent on a label boundary, or another registrable domain.
        ("https://example.com/", "a=1; Domain=ample.com"),
        ("https://www.example.com/", "a=1; Domain=other.com"),
        ("https://example.com/", "a=1; Domain=www.example.com"),
        # IP-address hosts: no other address, no part of one, no name.
        ("http://localhost/", "a=1; Domain=127.0.0.1"),
        ("http://127.0.0.1/", "a=1; Domain=0.1"),
        ("http://127.0.0.1/", "a=1; Domain=.0.0.1"),
        ("http://127.0.0.1/", "a=1; Domain=localhost"),
        ("http://[fe80::1%25eth0]/", "a=1; Domain=eth0"),
        ("http://[fe80::1%25eth0]/", "a=1; Domain=25eth0"),
    ],
)
def test_domain_attribute_refused(url: str, set_cookie: str) -> None:
    assert stored(url, set_cookie) == []


@pytest.mark.parametrize(
    ("url", "set_cookie", "domain"),
    [
        ("https://www.example.com/", "a=1; Domain=EXAMPLE.com", ".example.com"),
        ("https://WWW.Example.COM/", "a=1; Domain=example.com", ".example.com"),
        ("https://www.example.co.uk/", "a=1; Domain=example.co.uk", ".example.co.uk"),
        ("https://me.github.io/", "a=1; Domain=me.github.io", ".me.github.io"),
        ("https://a.city.kawasaki.jp/", "a=1; Domain=city.kawasaki.jp", ".city.kawasaki.jp"),
        # A public suffix naming the host itself: host-only.
        ("http://localhost/", "a=1; Domain=localhost", "localhost.local"),
        ("https://github.io/", "a=1; Domain=github.io", "github.io"),
        # An IP host naming itself: host-only.
        ("http://127.0.0.1/", "a=1; Domain=127.0.0.1", "127.0.0.1"),
    ],
)
def test_domain_attribute_accepted(url: str, set_cookie: str, domain: str) -> None:
    assert stored(url, set_cookie) == [("a", domain)]


def test_host_only_cookies_do_not_reach_subdomains() -> None:
    cookies = Cookies()
    request = Request("GET", "https://example.com/")
    headers = [("Set-Cookie", "host=1"), ("Set-Cookie", "dom=2; Domain=example.com")]
    cookies.extract_cookies(BaseResponse(200, headers=headers, request=request))
    assert header_for(cookies, "https://example.com/") == "host=1; dom=2"
    assert header_for(cookies, "https://www.example.com/") == "dom=2"
    assert header_for(cookies, "https://badexample.com/") is None


def test_ip_host_cookies_are_exact() -> None:
    cookies = Cookies()
    request = Request("GET", "http://127.0.0.1:8000/")
    cookies.extract_cookies(
        BaseResponse(200, headers=[("Set-Cookie", "ip=1; Domain=127.0.0.1")], request=request)
    )
    assert header_for(cookies, "http://127.0.0.1:9000/") == "ip=1"
    assert header_for(cookies, "http://127.0.0.2/") is None
    assert header_for(cookies, "http://localhost/") is None


def test_zone_id_is_never_a_suffix() -> None:
    cookies = Cookies()
    request = Request("GET", "http://[fe80::1%25eth0]:8000/")
    cookies.extract_cookies(BaseResponse(200, headers=[("Set-Cookie", "z=1")], request=request))
    assert header_for(cookies, "http://[fe80::1%25eth0]:8000/") == "z=1"
    assert header_for(cookies, "http://[fe80::1%25eth1]/") is None
    assert header_for(cookies, "http://[fe80::1]/") is None
    # A name cookie never matches an address with a zone that looks like it.
    named = Cookies()
    named.extract_cookies(
        BaseResponse(
            200,
            headers=[("Set-Cookie", "n=1; Domain=eth0.example")],
            request=Request("GET", "http://a.eth0.example/"),
        )
    )
    assert header_for(named, "http://a.eth0.example/") == "n=1"
    assert header_for(named, "http://[fe80::1%25eth0.example]/") is None


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f"])
@pytest.mark.parametrize("where", ["name", "value", "attribute"])
def test_control_bytes_ignore_the_cookie(control: str, where: str) -> None:
    set_cookie = {
        "name": f"a{control}b=1",
        "value": f"a=1{control}2",
        "attribute": f"a=1; Path=/{control}",
    }[where]
    cookies = Cookies()
    request = Request("GET", "https://example.com/")
    raw = [(b"Set-Cookie", set_cookie.encode("latin-1")), (b"Set-Cookie", b"good=1")]
    response = BaseResponse(200, request=request)
    response.headers = httpcore.Headers._from_trusted_raw(raw)
    cookies.extract_cookies(response)
    assert dict(cookies) == {"good": "1"}


# -- over real sockets -------------------------------------------------------------


def bad_cookie_reply(control: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
        b"Set-Cookie: bad=x" + control + b"y; Path=/\r\n"
        b"Set-Cookie: good=1; Path=/\r\n\r\nok"
    )


@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize("control", [b"\x00", b"\x01", b"\x1f", b"\x7f"])
async def test_control_bytes_in_set_cookie_over_the_wire(
    control: bytes, split: bool, h1_codec: str
) -> None:
    heads: list[bytes] = []
    connections = 0
    reply = bad_cookie_reply(control)
    # Split: the head comes in three writes, the control byte opening the second.
    cuts = [reply.index(control), reply.index(b"good")] if split else []

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        while head := await read_request_head(stream):
            heads.append(head)
            for start, end in zip([0, *cuts], [*cuts, len(reply)], strict=True):
                await stream.send_all(reply[start:end])
                await trio.sleep(0.01 if cuts else 0)

    async with raw_server(handler) as url, httpcore.TrioClient() as client:
        response = await client.get(url + "/")
        assert (response.status_code, response.text) == (200, "ok")
        assert response.headers.getlist("set-cookie") == ["good=1; Path=/"]
        assert dict(client.cookies) == {"good": "1"}
        response = await client.get(url + "/again")
        assert response.status_code == 200
    assert control not in heads[-1]
    assert b"cookie: good=1\r\n" in heads[-1].lower()
    assert connections == 2  # a response parsed again is not kept alive


@pytest.mark.parametrize(
    "head",
    [
        b"X-Bad: x\x00y\r\nSet-Cookie: good=1\r\n",
        # A bad Set-Cookie is dropped, but the other field still fails the response.
        b"Set-Cookie: bad=\x00\r\nX-Bad: x\x00y\r\n",
        b"Set-Cookie: bad=\x01\r\nX-Bad: x\x00y\r\n",
    ],
    ids=["other-field", "both", "both-c0"],
)
async def test_control_bytes_in_other_fields_fail_the_response(head: bytes, h1_codec: str) -> None:
    async def handler(stream: trio.SocketStream) -> None:
        await read_request_head(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + head + b"\r\nok")

    async with raw_server(handler) as url, httpcore.TrioClient() as client:
        with pytest.raises(httpcore.RemoteProtocolError, match=r"header|malformed response"):
            await client.get(url + "/")
        assert dict(client.cookies) == {}


@pytest.mark.parametrize("control", [b"\x00", b"\x01", b"\x1f", b"\x7f"])
async def test_control_bytes_in_set_cookie_over_http2(control: bytes) -> None:
    sent: list[list[tuple[bytes, bytes]]] = []

    async def handler(conn: H2ServerConnection) -> None:
        conn.h2.config.validate_outbound_headers = False  # let the bad value out
        while received := await conn.wait_for(h2.events.RequestReceived):
            sent.append(received[0].headers)
            cookies = [(b"set-cookie", b"bad=x" + control + b"y"), (b"set-cookie", b"good=1")]
            await conn.respond(received[0].stream_id, extra=cookies)

    async with h2_server(handler) as (url, _), httpcore.TrioClient(http1=False) as client:
        if control == b"\x00":  # h2 refuses NUL (and CR, LF) in any field: RFC 9113 §8.2.1
            with pytest.raises(httpcore.RemoteProtocolError, match="header"):
                await client.get(url + "/")
            return
        response = await client.get(url + "/")
        assert (response.status_code, response.text) == (200, "ok")
        assert dict(client.cookies) == {"good": "1"}  # the jar ignores the bad one
        await client.get(url + "/again")
    assert (b"cookie", b"good=1") in sent[-1]
    assert not any(control in value for _, value in sent[-1])


async def test_redirect_cookies_are_stored_and_sent_on(server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        response = await client.get(server.url + "/set-cookie-redirect")
        sent = dict(json.loads(response.text)["headers"])
        assert sent["cookie"] == "session=abc"
        assert dict(client.cookies) == {"session": "abc"}
        # Scoped to the redirecting host: not sent to "localhost", the same server.
        other = server.url.replace("127.0.0.1", "localhost")
        response = await client.get(other + "/echo")
        assert "cookie" not in dict(json.loads(response.text)["headers"])


async def test_per_request_cookies_stay_with_their_host(server: ServerThread) -> None:
    other = server.url.replace("127.0.0.1", "localhost")
    async with httpcore.TrioClient(cookies={"everywhere": "1"}) as client:
        response = await client.get(server.url + "/echo", cookies={"mine": "2"})
        assert dict(json.loads(response.text)["headers"])["cookie"] == "everywhere=1; mine=2"
        # Same host after a redirect: still sent.
        response = await client.get(server.url + "/redirect?to=/echo", cookies={"mine": "2"})
        assert dict(json.loads(response.text)["headers"])["cookie"] == "everywhere=1; mine=2"
        # Another host after a redirect: only the client's cookies for every host.
        response = await client.get(
            server.url + f"/redirect?to={other}/echo", cookies={"mine": "2"}
        )
        assert dict(json.loads(response.text)["headers"])["cookie"] == "everywhere=1"
        # A request built by hand binds its cookies the same way.
        request = Request("GET", server.url + f"/redirect?to={other}/echo", cookies={"mine": "2"})
        response = await client.send(request)
        assert "cookie" not in dict(json.loads(response.text)["headers"])


def test_per_request_cookies_with_a_domain_keep_it() -> None:
    given = Cookies()
    given.set("scoped", "1", domain=".example.org")
    given.set("plain", "2")
    bound = given._bound_to(httpcore.URL("https://www.example.org/"))
    assert header_for(bound, "https://api.example.org/") == "scoped=1"
    assert header_for(bound, "https://www.example.org/") == "scoped=1; plain=2"


@pytest.mark.usefixtures("h1_codec")
async def test_non_ascii_cookie_values_go_back_as_the_bytes_received() -> None:
    heads: list[bytes] = []

    async def handler(stream: trio.SocketStream) -> None:
        while head := await read_request_head(stream):
            heads.append(head)
            if head.startswith(b"GET /third "):
                await stream.send_all(
                    b"HTTP/1.1 302 Found\r\nLocation: /fourth\r\nContent-Length: 0\r\n\r\n"
                )
                continue
            await stream.send_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                b"Set-Cookie: utf8=caf\xc3\xa9; Path=/\r\n"
                b"Set-Cookie: latin=caf\xe9; Path=/\r\n\r\nok"
            )

    async with raw_server(handler) as url, httpcore.TrioClient() as client:
        await client.get(url + "/")
        await client.get(url + "/again")
        # A redirect keeps an explicit Cookie header given as bytes as those bytes too.
        request = client.build_request("GET", url + "/third", headers={"Cookie": b"own=\xff"})
        await client.send(request)
    assert b"cookie: utf8=caf\xc3\xa9; latin=caf\xe9\r\n" in heads[1].lower()
    assert b"cookie: own=\xff\r\n" in heads[2].lower()
    assert heads[3].startswith(b"GET /fourth ")
    assert b"cookie: own=\xff\r\n" in heads[3].lower()


def test_cookie_values_beyond_latin1_are_sent_as_utf8() -> None:
    request = Request("GET", "https://example.org/", cookies={"a": "日本", "b": "é"})
    assert dict(request.headers.raw)[b"Cookie"] == "a=日本; b=é".encode()
    request = Request("GET", "https://example.org/", cookies={"b": "é"})
    assert dict(request.headers.raw)[b"Cookie"] == b"b=\xe9"
