"""Header values on the wire: whitespace, TAB, non-ASCII and control characters, the
same on HTTP/1.1 (both codecs) and HTTP/2; Basic auth in UTF-8."""

from __future__ import annotations

import base64
from typing import Any

import pytest

import httpcore
from tests.servers import ServerThread
from tests.test_http2 import h2_kwargs

SENT = [
    ("X-Tab", "a\tb"),
    ("X-Spaces", "  padded \t"),
    ("X-Latin", "café"),
    ("X-Snow", "snow ☃"),
    ("X-Bytes", b"caf\xe9"),
]
# What the server receives, read as latin-1 (as the echo app decodes it).
RECEIVED = {
    "x-tab": "a\tb",
    "x-spaces": "padded",
    "x-latin": "café".encode().decode("latin-1"),
    "x-snow": "snow ☃".encode().decode("latin-1"),
    "x-bytes": "caf\xe9",
}


async def echoed(client: httpcore.TrioClient, url: str, **kwargs: Any) -> dict[str, str]:
    response = await client.get(url + "/echo", **kwargs)
    return dict(response.json()["headers"])


@pytest.mark.usefixtures("h1_codec")
async def test_values_on_http11(server: ServerThread) -> None:
    async with httpcore.TrioClient(headers=SENT[:2]) as client:
        got = await echoed(client, server.url, headers=SENT[2:])
    assert {name: got[name] for name in RECEIVED} == RECEIVED


async def test_values_on_http2(h2_server: ServerThread, ca_file: str) -> None:
    async with httpcore.TrioClient(headers=SENT[:2], **h2_kwargs(h2_server, ca_file)) as client:
        got = await echoed(client, h2_server.url, headers=SENT[2:])
    assert {name: got[name] for name in RECEIVED} == RECEIVED


async def test_non_ascii_host_header_on_http2(h2_server: ServerThread, ca_file: str) -> None:
    # The :authority is encoded like every other value (it was an internal error).
    async with httpcore.TrioClient(**h2_kwargs(h2_server, ca_file)) as client:
        try:
            response = await client.get(h2_server.url + "/", headers={"Host": "bücher.example"})
        except httpcore.RemoteProtocolError:
            pass  # the server may refuse a non-ASCII authority: a clear error either way
        else:
            assert response.status_code in (200, 400, 421)


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb"])
def test_control_characters_in_client_default_headers(bad: str) -> None:
    with pytest.raises(httpcore.LocalProtocolError, match="control character"):
        httpcore.TrioClient(headers={"X-Bad": bad})
    with pytest.raises(httpcore.LocalProtocolError, match="control character"):
        httpcore.Client(headers={"X-Bad": bad.encode()})
    client = httpcore.TrioClient()
    with pytest.raises(httpcore.LocalProtocolError, match="control character"):
        client.headers["X-Bad"] = bad
    with pytest.raises(httpcore.LocalProtocolError, match="control character"):
        client.headers.update({"X-Bad": bad})
    with pytest.raises(httpcore.LocalProtocolError):
        httpcore.TrioClient(headers={f"X-{bad}": "1"})


async def test_control_characters_in_request_headers_before_any_connection() -> None:
    async with httpcore.TrioClient() as client:
        with pytest.raises(httpcore.LocalProtocolError):
            await client.get("http://127.0.0.1:1/", headers={"X": "a\r\nb"})
        assert client.statistics().connections == 0


@pytest.mark.usefixtures("h1_codec")
async def test_basic_auth_is_utf8(server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        got = await echoed(client, server.url, auth=("jürgen", "pässwörd€"))
        from_url = await echoed(client, server.url.replace("://", "://j%C3%BCrgen:p%C3%A4ss@"))
    assert got["authorization"] == "Basic " + base64.b64encode("jürgen:pässwörd€".encode()).decode()
    assert from_url["authorization"] == "Basic " + base64.b64encode("jürgen:päss".encode()).decode()


def test_a_received_value_passed_on_keeps_its_bytes() -> None:
    received = httpcore.Headers._from_trusted_raw([(b"X-Token", b"caf\xe9"), (b"X-Two", b"a")])
    passed_on = httpcore.Headers(
        {"X-Token": received["x-token"], "X-Other": received.get("x-two", "")}
    )
    assert passed_on.raw == [(b"X-Token", b"caf\xe9"), (b"X-Other", b"a")]
    # Several values joined make new text: sent as UTF-8 like any str.
    joined = httpcore.Headers._from_trusted_raw([(b"X", b"\xe9"), (b"X", b"b")])["x"]
    assert httpcore.Headers({"X": joined}).raw == [(b"X", "é, b".encode())]
