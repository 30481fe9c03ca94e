"""URL host parsing by the WHATWG rules: injection, IPv4 forms, lengths, ports, zones, schemes."""

from __future__ import annotations

import time

import pytest
import trio

import httpcore
from httpcore import URL, InvalidURL
from tests.servers import raw_server, read_request_head


@pytest.mark.parametrize(
    "host",
    [
        "exa%0d%0ample.com",
        "exa%0Ample.com",
        "exa%00mple.com",
        "exa%20mple.com",
        "exa%09mple.com",
        "exa%7fmple.com",
        "exa%25mple.com",
        "exa%2fmple.com",
        "exa%40mple.com",
        "exa%3ample.com",
        "exa%5Cmple.com",
        "exa%zzmple.com",
        "exa%",
        "exa%ff.com",  # not UTF-8
        "exa<mple.com",
        "exa^mple.com",
        "exa|mple.com",
        "exa mple.com",
        "exa\u3000mple.com",  # an ideographic space, refused by IDNA
    ],
)
def test_forbidden_host_code_points(host: str) -> None:
    with pytest.raises(InvalidURL, match="host"):
        URL(f"http://{host}/")


@pytest.mark.parametrize("control", ["\r", "\n", "\x00", "\t", "\x0b", "\x7f"])
def test_raw_control_characters_in_host(control: str) -> None:
    with pytest.raises(InvalidURL):
        URL(f"http://exa{control}mple.com/")


def test_percent_encoded_host_is_decoded() -> None:
    assert URL("http://exa%41mple.COM/").host == "exaample.com"
    assert URL("http://b%C3%BCcher.example/").host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("host", "quad"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("1.2.3.4.", "1.2.3.4"),
        ("255.255.255.255", "255.255.255.255"),
        ("4294967295", "255.255.255.255"),
        ("00000000000000000000000000000001", "0.0.0.1"),
    ],
)
def test_ipv4_forms_are_normalised(host: str, quad: str) -> None:
    url = URL(f"http://{host}:8080/")
    assert url.host == quad
    assert url.raw_host_header == f"{quad}:8080"


@pytest.mark.parametrize(
    "host",
    [
        "1.2.3.4.5",
        "256.0.0.1",
        "1.256.0.1",
        "4294967296",
        "0x100000000",
        "1.2.3.16777216",
        "09.1",
        "0x7g.1",
        "foo.09",
        "foo.1",
        "example.0x",  # "0x" alone is a number (0) by WHATWG
        "1..2",
        "." + "9" * 5000,
    ],
)
def test_bad_ipv4_refused(host: str) -> None:
    with pytest.raises(InvalidURL, match="IPv4"):
        URL(f"http://{host}/")


def test_names_that_only_look_numeric_stay_names() -> None:
    assert URL("http://1.2.3.example/").host == "1.2.3.example"
    assert URL("http://0x7f.example/").host == "0x7f.example"


def test_label_and_name_lengths() -> None:
    assert URL("http://" + "a" * 63 + ".com/").host == "a" * 63 + ".com"
    longest = ".".join(["a" * 61] * 4) + "."  # 247 + 1
    assert URL(f"http://{longest[:-1]}.b/").host.endswith(".b")
    with pytest.raises(InvalidURL, match="longer than 63"):
        URL("http://" + "a" * 64 + ".com/")
    with pytest.raises(InvalidURL, match="longer than 253"):
        URL("http://" + ".".join(["a" * 63] * 4) + "/")
    started = time.perf_counter()
    with pytest.raises(InvalidURL):
        URL("http://" + "a" * 1_000_000 + "/")
    with pytest.raises(InvalidURL):
        URL("http://" + "a." * 500_000 + "com/")
    assert time.perf_counter() - started < 1


def test_huge_ports_refused_in_linear_time() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidURL, match="out of range"):
        URL("http://h:" + "1" * 100_000 + "/")
    assert time.perf_counter() - started < 0.1
    for port in ("65536", "99999", "000065536", "1" * 6):
        with pytest.raises(InvalidURL, match="out of range"):
            URL(f"http://h:{port}/")
    assert URL("http://h:000000000000000000000080/").port == 80
    assert URL("http://h:65535/").port == 65535


def test_ipv6_zone_identifiers() -> None:
    url = URL("http://[fe80::1%25eth0]:8080/x")
    assert url.host == "fe80::1%25eth0"
    assert url.authority == "[fe80::1%25eth0]:8080"
    assert str(url) == "http://[fe80::1%25eth0]:8080/x"
    assert url.raw_host_header == "[fe80::1]:8080"
    assert url.socket_host == "fe80::1%eth0"
    assert URL("http://[::1]/").socket_host == "::1"
    assert URL("http://example.com/").socket_host == "example.com"
    assert url.origin != URL("http://[fe80::1%25eth1]:8080/").origin


OTHER_SCHEMES = pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "ftp://example.org/",
        "data:text/plain,hi",
        "mailto:me@example.org",
        "javascript:alert(1)",
        "gopher://example.org/",
        "ws://example.org/",
    ],
)


@OTHER_SCHEMES
async def test_other_schemes_are_unsupported_protocol(url: str) -> None:
    scheme = url.partition(":")[0]
    async with httpcore.TrioClient() as client:
        with pytest.raises(httpcore.UnsupportedProtocol, match=f"'{scheme}'"):
            await client.get(url)


@OTHER_SCHEMES
def test_other_schemes_with_a_base_url_in_the_blocking_client(url: str) -> None:
    scheme = url.partition(":")[0]
    with httpcore.Client(base_url="http://127.0.0.1:1/") as sync_client:
        with pytest.raises(httpcore.UnsupportedProtocol, match=f"'{scheme}'"):
            sync_client.get(url)


async def test_relative_without_base_is_still_invalid_url() -> None:
    async with httpcore.TrioClient() as client:
        with pytest.raises(InvalidURL, match="relative"):
            await client.get("/path")


async def test_injection_never_reaches_the_network() -> None:
    connections = 0

    async def handler(stream: trio.SocketStream) -> None:
        nonlocal connections
        connections += 1
        await read_request_head(stream)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    async with raw_server(handler) as url, httpcore.TrioClient() as client:
        port = url.rsplit(":", 1)[1]
        for bad in ("127.0.0.1%0d%0aX-Injected:%201", "127.0.0.1%00", "127.0.0%2e1%20"):
            with pytest.raises(InvalidURL):
                await client.get(f"http://{bad}:{port}/")
        # A numeric form reaches the right address, with a dotted quad in Host.
        response = await client.get(f"http://2130706433:{port}/")
        assert response.request.headers["Host"] == f"127.0.0.1:{port}"
    assert connections == 1


async def test_a_hand_built_request_to_another_scheme() -> None:
    async with httpcore.TrioClient() as client:
        with pytest.raises(httpcore.UnsupportedProtocol, match="'ftp'"):
            await client.send(httpcore.Request("GET", "ftp://example.org/"))
