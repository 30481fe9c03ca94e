"""Redirects: body headers dropped with the body, credentials kept from other origins,
redirect bodies never decompressed."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import httpcore
from tests.apps import app as echo_app
from tests.servers import ServerThread

BOMB = gzip.compress(b"\0" * (64 << 20))  # 64 MiB of zeros in ~64 KiB


async def redirect_app(scope: Any, receive: Any, send: Any) -> None:
    """`/bad-gzip?to=`: a 302 whose gzip body is corrupt; `/bomb?to=`: a 302 whose body
    inflates to 64 MiB; anything else is the shared test app."""
    if scope["type"] != "http" or scope["path"] not in ("/bad-gzip", "/bomb"):
        await echo_app(scope, receive, send)
        return
    body = b"\x1f\x8bnot gzip at all" if scope["path"] == "/bad-gzip" else BOMB
    to = scope["query_string"].decode().partition("to=")[2]
    headers = [
        (b"location", to.encode()),
        (b"content-encoding", b"gzip"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def redirect_server() -> Iterator[ServerThread]:
    thread = ServerThread(redirect_app).start()
    yield thread
    thread.stop()


def sent(response: httpcore.AsyncResponse) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.text)
    data["headers"] = dict(data["headers"])
    return data


BODY_HEADERS = {"content-type", "content-length", "content-encoding", "transfer-encoding"}


@pytest.mark.usefixtures("h1_codec")
@pytest.mark.parametrize(
    ("status", "method"), [(303, "POST"), (303, "PUT"), (302, "POST"), (301, "POST")]
)
async def test_dropped_body_drops_its_headers(
    server: ServerThread, status: int, method: str
) -> None:
    async with httpcore.TrioClient() as client:
        response = await client.request(
            method,
            server.url + f"/redirect?status={status}&to=/echo",
            data=gzip.compress(b"payload"),
            headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"},
        )
        echoed = sent(response)
        assert (echoed["method"], echoed["body"]) == ("GET", "")
        assert not BODY_HEADERS & set(echoed["headers"])

        async def chunks() -> AsyncIterator[bytes]:
            yield b"streamed"

        response = await client.request(
            method, server.url + f"/redirect?status={status}&to=/echo", data=chunks()
        )
        assert not BODY_HEADERS & set(sent(response)["headers"])


@pytest.mark.parametrize("status", [307, 308])
async def test_307_308_to_another_origin_keep_body_drop_credentials(
    server: ServerThread, status: int
) -> None:
    other = server.url.replace("127.0.0.1", "localhost")
    async with httpcore.TrioClient() as client:
        response = await client.post(
            server.url + f"/redirect?status={status}&to={other}/echo",
            data=b"the body",
            headers={
                "Content-Type": "text/plain",
                "Authorization": "Bearer secret",
                "Proxy-Authorization": "Basic c2VjcmV0",
                "Cookie": "session=secret",
            },
            auth=("user", "pass"),
        )
        echoed = sent(response)
        assert (echoed["method"], echoed["body"]) == ("POST", "the body")
        assert echoed["headers"]["content-type"] == "text/plain"
        assert not {"authorization", "proxy-authorization", "cookie"} & set(echoed["headers"])
        # The same origin keeps them.
        response = await client.post(
            server.url + f"/redirect?status={status}&to=/echo",
            data=b"the body",
            headers={"Authorization": "Bearer secret", "Cookie": "session=secret"},
        )
        assert sent(response)["headers"]["authorization"] == "Bearer secret"
        assert sent(response)["headers"]["cookie"] == "session=secret"


@pytest.mark.usefixtures("h1_codec")
async def test_redirect_body_is_never_decompressed(redirect_server: ServerThread) -> None:
    async with httpcore.TrioClient() as client:
        # A corrupt gzip body would raise DecodingError if it were decoded.
        response = await client.get(redirect_server.url + "/bad-gzip?to=/echo")
        assert sent(response)["path"] == "/echo"
        (redirect,) = response.history
        with pytest.raises(httpcore.ResponseNotRead):
            _ = redirect.content
        # A bomb is skipped as its 64 KiB, and the connection is reused.
        response = await client.get(redirect_server.url + "/bomb?to=/echo")
        assert sent(response)["path"] == "/echo"
        assert response.history[0].num_bytes_downloaded == len(BOMB)
        assert client.statistics().connections == 1
