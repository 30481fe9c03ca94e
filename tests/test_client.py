"""Features of both clients against hypercorn over real loopback sockets."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
import trio

import httpcore
from httpcore._core.auth import build_basic_auth_header
from tests.clients import ClientUnderTest
from tests.servers import ServerThread

pytestmark = pytest.mark.usefixtures("h1_codec")


def echoed(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = response.json()
    data["headers"] = {k: v for k, v in data["headers"]}
    return data


async def test_get(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(server.url + "/")
    assert response.status_code == 200
    assert response.status_code is httpcore.codes.OK
    assert response.reason_phrase == "OK"
    assert response.protocol == "HTTP/1.1"
    assert response.text == "Hello, world!"
    assert response.headers["content-type"] == "text/plain"
    assert response.url == server.url + "/"
    assert response.num_bytes_downloaded == len("Hello, world!")
    assert response.elapsed.total_seconds() > 0
    assert response.is_closed


async def test_default_headers(client: ClientUnderTest, server: ServerThread) -> None:
    data = echoed(await client.get(server.url + "/echo"))
    headers = data["headers"]
    assert headers["host"] == server.url.split("//")[1]
    assert headers["accept"] == "*/*"
    assert "gzip" in headers["accept-encoding"]
    assert headers["connection"] == "keep-alive"
    assert headers["user-agent"] == f"python-httpcore/{httpcore.__version__}"
    assert "content-length" not in headers
    assert data["http_version"] == "1.1"


@pytest.mark.parametrize("method", ["GET", "OPTIONS", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
async def test_methods(client: ClientUnderTest, server: ServerThread, method: str) -> None:
    response = await client.call(method.lower(), server.url + "/echo")
    assert response.status_code == 200
    if method == "HEAD":
        assert response.content == b""
    else:
        assert echoed(response)["method"] == method


async def test_params_and_headers(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(
        server.url + "/echo?a=1", params={"b": "2 3"}, headers={"X-Test": "yes"}
    )
    data = echoed(response)
    assert data["query"] == "a=1&b=2+3"
    assert data["headers"]["x-test"] == "yes"


async def test_bodies(client: ClientUnderTest, server: ServerThread) -> None:
    data = echoed(await client.post(server.url + "/echo", json={"a": [1, 2]}))
    assert data["body"] == '{"a":[1,2]}'
    assert data["headers"]["content-type"] == "application/json"
    data = echoed(await client.post(server.url + "/echo", data={"x": "1", "y": "é"}))
    assert data["body"] == "x=1&y=%C3%A9"
    data = echoed(await client.post(server.url + "/echo", data=b"raw bytes"))
    assert data["body"] == "raw bytes"
    assert data["headers"]["content-length"] == "9"
    data = echoed(await client.post(server.url + "/echo"))
    assert data["headers"]["content-length"] == "0"


async def test_multipart(client: ClientUnderTest, server: ServerThread, tmp_path: Any) -> None:
    path = tmp_path / "upload.txt"
    path.write_bytes(b"file contents")
    with open(path, "rb") as f:
        data = echoed(
            await client.post(server.url + "/echo", data={"field": "v"}, files={"file": f})
        )
    assert data["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="field"' in data["body"]
    assert 'filename="upload.txt"' in data["body"]
    assert "file contents" in data["body"]
    assert int(data["headers"]["content-length"]) == len(data["body"].encode("latin-1"))


async def test_streaming_upload_trio(server: ServerThread) -> None:
    class Chunks:
        def __init__(self) -> None:
            self.left = 100

        def __aiter__(self) -> Chunks:
            return self

        async def __anext__(self) -> bytes:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return b"x" * 1000

    async with httpcore.TrioClient() as client:
        response = await client.post(server.url + "/echo", data=Chunks())
    data = echoed(response)
    assert data["headers"]["transfer-encoding"] == "chunked"
    assert len(data["body"]) == 100_000


async def test_streaming_upload_sync(server: ServerThread) -> None:
    def chunks() -> Any:
        for _ in range(50):
            yield b"y" * 1000

    def run() -> Any:
        with httpcore.Client() as client:
            return client.post(server.url + "/upload-size", data=chunks())

    response = await trio.to_thread.run_sync(run)
    assert response.text == "50000"


async def test_decompression(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(server.url + "/gzip")
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b"compressed " * 100
    assert response.num_bytes_downloaded == len(gzip.compress(b"compressed " * 100))
    response = await client.get(server.url + "/deflate")
    assert response.text == "deflated " * 100


async def test_status_errors(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(server.url + "/status/404")
    assert response.is_error
    with pytest.raises(httpcore.HTTPStatusError) as info:
        response.raise_for_status()
    assert info.value.response is response
    assert "404 Not Found" in str(info.value)
    response = await client.get(server.url + "/status/204")
    assert response.raise_for_status() is None


async def test_redirects(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.post(
        server.url + "/redirect?to=/echo&status=302", data=b"body", headers={"X-Keep": "1"}
    )
    data = echoed(response)
    assert data["method"] == "GET"
    assert data["body"] == ""
    assert data["headers"]["x-keep"] == "1"
    assert [r.status_code for r in response.history] == [302]
    assert response.url == server.url + "/echo"

    response = await client.post(server.url + "/redirect?to=/echo&status=307", data=b"body")
    data = echoed(response)
    assert (data["method"], data["body"]) == ("POST", "body")

    response = await client.get(server.url + "/redirect-chain/3")
    assert response.text == "Hello, world!"
    assert len(response.history) == 3


async def test_too_many_redirects(make_client: Any, server: ServerThread) -> None:
    async with make_client(max_redirects=2) as client:
        with pytest.raises(httpcore.TooManyRedirects) as info:
            await client.get(server.url + "/redirect-chain/5")
    assert info.value.request is not None


async def test_redirect_not_followed_then_next(
    client: ClientUnderTest, server: ServerThread
) -> None:
    response = await client.get(server.url + "/redirect?to=/", allow_redirects=False)
    assert response.status_code == 302
    assert response.is_redirect
    final = await client.next(response)
    assert final.text == "Hello, world!"
    assert [r.status_code for r in final.history] == [302]


async def test_redirect_to_other_scheme(client: ClientUnderTest, server: ServerThread) -> None:
    with pytest.raises(httpcore.UnsupportedProtocol):
        await client.get(server.url + "/redirect?to=ftp://example.org/")


async def test_unsupported_scheme(client: ClientUnderTest) -> None:
    with pytest.raises(httpcore.UnsupportedProtocol):
        await client.get("ftp://example.org/")


async def test_cookies(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(server.url + "/set-cookie?flavour=oat")
    assert response.cookies["flavour"] == "oat"
    assert client.cookies["flavour"] == "oat"
    data = echoed(await client.get(server.url + "/echo"))
    assert data["headers"]["cookie"] == "flavour=oat"
    data = echoed(await client.get(server.url + "/echo", cookies={"extra": "1"}))
    assert sorted(data["headers"]["cookie"].split("; ")) == ["extra=1", "flavour=oat"]
    assert "extra" not in client.cookies


async def test_cookie_set_during_redirect(client: ClientUnderTest, server: ServerThread) -> None:
    data = echoed(await client.get(server.url + "/set-cookie-redirect"))
    assert data["headers"]["cookie"] == "session=abc"


async def test_basic_auth(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(server.url + "/basic-auth")
    assert response.status_code == 401
    response = await client.get(server.url + "/basic-auth", auth=("user", "pass"))
    assert response.text == "authenticated"
    url = server.url.replace("http://", "http://user:pass@") + "/basic-auth"
    response = await client.get(url)
    assert response.text == "authenticated"


async def test_netrc(
    make_client: Any, server: ServerThread, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    monkeypatch.setenv("NETRC", str(netrc))
    async with make_client() as client:
        assert (await client.get(server.url + "/basic-auth")).status_code == 200
    async with make_client(trust_env=False) as client:
        assert (await client.get(server.url + "/basic-auth")).status_code == 401


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
async def test_digest_auth(client: ClientUnderTest, server: ServerThread, algorithm: str) -> None:
    auth = httpcore.DigestAuth("user", "pass")
    response = await client.get(server.url + f"/digest-auth/{algorithm}", auth=auth)
    assert response.status_code == 200
    assert response.text == "digest ok nc=00000001"
    assert [r.status_code for r in response.history] == []
    # The nonce is reused with an increasing count: one request, no new challenge.
    response = await client.get(server.url + f"/digest-auth/{algorithm}", auth=auth)
    assert response.text == "digest ok nc=00000002"
    wrong = httpcore.DigestAuth("user", "wrong")
    response = await client.get(server.url + f"/digest-auth/{algorithm}", auth=wrong)
    assert response.status_code == 401


async def test_client_auth_and_function_auth(make_client: Any, server: ServerThread) -> None:
    def add_header(request: httpcore.Request) -> httpcore.Request:
        request.headers["X-Auth"] = "token"
        return request

    async with make_client(auth=("user", "pass")) as client:
        assert (await client.get(server.url + "/basic-auth")).status_code == 200
        data = echoed(await client.get(server.url + "/echo", auth=add_header))
    assert data["headers"]["x-auth"] == "token"


async def test_base_url_and_client_defaults(make_client: Any, server: ServerThread) -> None:
    async with make_client(
        base_url=server.url + "/ignored-dir/", headers={"X-Default": "d"}, params={"p": "1"}
    ) as client:
        data = echoed(await client.get("/echo", headers={"X-Other": "o"}))
    assert data["path"] == "/echo"
    assert data["query"] == "p=1"
    assert data["headers"]["x-default"] == "d"
    assert data["headers"]["x-other"] == "o"
    async with make_client(base_url=server.url) as client:
        assert (await client.get("echo")).status_code == 200


async def test_build_prepare_send(client: ClientUnderTest, server: ServerThread) -> None:
    request = httpcore.Request("GET", server.url + "/echo", headers={"X-A": "1"})
    prepared = client.client.prepare_request(request)
    assert prepared.headers["x-a"] == "1"
    assert prepared.headers["user-agent"].startswith("python-httpcore/")
    response = await client.call("send", prepared)
    assert echoed(response)["headers"]["x-a"] == "1"
    built = client.client.build_request("POST", server.url + "/echo", json=[1])
    assert built.headers["content-type"] == "application/json"


async def test_tls(make_client: Any, tls_server: ServerThread, ca_file: str) -> None:
    async with make_client(verify=ca_file) as client:
        response = await client.get(tls_server.url + "/")
    assert response.text == "Hello, world!"
    assert response.url.is_ssl


async def test_tls_verification_failure(make_client: Any, tls_server: ServerThread) -> None:
    async with make_client(trust_env=False) as client:
        with pytest.raises(httpcore.ConnectError, match="certificate") as info:
            await client.get(tls_server.url + "/")
        assert info.value.__cause__ is not None
        response = await client.get(tls_server.url + "/", verify=False)
        assert response.status_code == 200
        # The unverified connection is pooled but never reused for a verified request.
        with pytest.raises(httpcore.ConnectError):
            await client.get(tls_server.url + "/")


async def test_connect_refused(client: ClientUnderTest) -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(httpcore.ConnectError) as info:
        await client.get(f"http://127.0.0.1:{port}/")
    assert info.value.request is not None
    assert isinstance(info.value.__cause__, OSError)


async def test_read_timeout(client: ClientUnderTest, server: ServerThread) -> None:
    with pytest.raises(httpcore.ReadTimeout):
        await client.get(server.url + "/slow?delay=5", timeout=0.2)
    response = await client.get(server.url + "/slow?delay=0.3", timeout=None)
    assert response.text == "slow"
    response = await client.get(
        server.url + "/slow?delay=0.3", timeout=httpcore.TimeoutConfig(0.1, read_timeout=2)
    )
    assert response.text == "slow"


async def test_read_timeout_in_body(client: ClientUnderTest, server: ServerThread) -> None:
    with pytest.raises(httpcore.ReadTimeout):
        await client.get(server.url + "/slow-body?delay=5", timeout=0.3)


def test_json_and_text_on_model() -> None:
    response = httpcore.Response(
        200, headers={"content-type": "application/json"}, content=json.dumps({"a": 1}).encode()
    )
    assert response.json() == {"a": 1}


async def test_redirect_with_unsized_body(client: ClientUnderTest, server: ServerThread) -> None:
    response = await client.get(server.url + "/redirect-chunked?to=/")
    assert response.text == "Hello, world!"
    assert response.history[0].status_code == 302


async def test_base_url_without_trailing_slash(make_client: Any, server: ServerThread) -> None:
    async with make_client(base_url=server.url + "/sub") as client:
        response = await client.get("echo")
    assert response.url.path == "/sub/echo"
    assert response.status_code == 404  # the app serves /echo only


async def test_explicit_authorization_header_wins(make_client: Any, server: ServerThread) -> None:
    async with make_client(auth=("user", "pass")) as client:
        data = echoed(await client.get(server.url + "/echo", headers={"Authorization": "Bearer t"}))
    assert data["headers"]["authorization"] == "Bearer t"


class ResponseBodyAuth(httpcore.Auth):
    """Reads the 401's body before answering the challenge."""

    requires_response_body = True

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    def auth_flow(self, request: httpcore.Request) -> Any:
        response = yield request
        self.seen.append(response.content)
        request.headers["Authorization"] = build_basic_auth_header("user", "pass")
        yield request


async def test_auth_flow_reading_the_response_body(
    client: ClientUnderTest, server: ServerThread
) -> None:
    auth = ResponseBodyAuth()
    response = await client.get(server.url + "/basic-auth", auth=auth)
    assert response.text == "authenticated"
    assert auth.seen == [b""]


class FailingAuth(httpcore.Auth):
    def auth_flow(self, request: httpcore.Request) -> Any:
        yield request
        raise httpcore.RemoteProtocolError("bad challenge")


async def test_auth_flow_error_closes_response(
    client: ClientUnderTest, server: ServerThread
) -> None:
    with pytest.raises(httpcore.RemoteProtocolError, match="bad challenge") as info:
        await client.get(server.url + "/basic-auth", auth=FailingAuth())
    assert info.value.request is not None


async def test_unhashable_cert_is_refused(
    client: ClientUnderTest, tls_server: ServerThread
) -> None:
    with pytest.raises(TypeError):
        await client.get(tls_server.url + "/", cert=["cert.pem", "key.pem"])


def test_unset_repr() -> None:
    from httpcore._trio.client import UNSET

    assert repr(UNSET) == "UNSET"


@pytest.mark.parametrize("http2", [False, True])
async def test_responses_name_their_tls_version_and_cipher(
    make_client: Any, h2_server: Any, server: Any, ca_file: str, http2: bool
) -> None:
    async with make_client(verify=ca_file, http2=http2, http1=not http2) as client:
        response = await client.get(h2_server.url + "/")
        assert response.protocol == ("HTTP/2" if http2 else "HTTP/1.1")
        if h2_server.url.startswith("https"):
            assert response.tls_version in ("TLSv1.2", "TLSv1.3")
            assert response.tls_cipher
        else:
            assert (response.tls_version, response.tls_cipher) == (None, None)
        if not http2:
            plain = await client.get(server.url + "/")
            assert (plain.tls_version, plain.tls_cipher) == (None, None)


async def test_parsed_urls_are_reused_and_bounded(server: ServerThread) -> None:
    """An absolute URL given as str is parsed once; the cache of them stays small."""
    from httpcore._trio.client import _PARSED_URLS_MAX

    async with httpcore.TrioClient(base_url=server.url + "/base/") as client:
        first = client.build_request("GET", server.url + "/echo")
        again = client.build_request("GET", server.url + "/echo")
        assert again.url is first.url
        as_url = client.build_request("GET", httpcore.URL(server.url + "/echo"))
        assert as_url.url == first.url
        # Relative URLs depend on base_url: resolved every time, never cached.
        relative = client.build_request("GET", "echo")
        assert str(relative.url) == server.url + "/base/echo"
        client.base_url = httpcore.URL(server.url + "/other/")
        assert str(client.build_request("GET", "echo").url) == server.url + "/other/echo"
        for i in range(_PARSED_URLS_MAX + 5):
            client.build_request("GET", f"{server.url}/echo?n={i}")
        assert len(client._parsed_urls) <= _PARSED_URLS_MAX
        response = await client.get(server.url + "/echo")
        assert response.status_code == 200
