"""A small ASGI app for the tests: echo, status, redirects, cookies, auth, encodings."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import zlib
from typing import Any
from urllib.parse import parse_qsl

import trio

Scope = dict[str, Any]
# Bytes handed to the server by /tracked/<name>, by name.
SENT: dict[str, int] = {}


async def read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def respond(
    send: Any, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = list(headers or [])
    if not any(name.lower() == b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope["query_string"].decode()))


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    query = _query(scope)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    if path == "/":
        await respond(send, 200, b"Hello, world!", [(b"content-type", b"text/plain")])
    elif path == "/echo":
        body = await read_body(receive)
        payload = {
            "method": scope["method"],
            "path": path,
            "query": scope["query_string"].decode(),
            "headers": headers,
            "body": body.decode("latin-1"),
            "http_version": scope["http_version"],
        }
        await respond(
            send, 200, json.dumps(payload).encode(), [(b"content-type", b"application/json")]
        )
    elif path.startswith("/status/"):
        await respond(send, int(path.rsplit("/", 1)[1]))
    elif path == "/redirect":
        status = int(query.get("status", "302"))
        await read_body(receive)
        await respond(send, status, b"redirecting", [(b"location", query["to"].encode())])
    elif path == "/redirect-chunked":
        # A redirect whose body has no Content-Length: the client closes it unread.
        headers_out = [(b"location", query.get("to", "/").encode())]
        await send({"type": "http.response.start", "status": 302, "headers": headers_out})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path.startswith("/redirect-chain/"):
        remaining = int(path.rsplit("/", 1)[1])
        location = b"/" if remaining <= 1 else f"/redirect-chain/{remaining - 1}".encode()
        await respond(send, 302, b"", [(b"location", location)])
    elif path == "/set-cookie":
        cookie_headers = [(b"set-cookie", f"{k}={v}; Path=/".encode()) for k, v in query.items()]
        await respond(send, 200, b"ok", cookie_headers)
    elif path == "/set-cookie-redirect":
        await respond(
            send, 302, b"", [(b"set-cookie", b"session=abc; Path=/"), (b"location", b"/echo")]
        )
    elif path == "/basic-auth":
        expected = "Basic " + base64.b64encode(b"user:pass").decode()
        if dict(headers).get("authorization") == expected:
            await respond(send, 200, b"authenticated")
        else:
            await respond(send, 401, b"", [(b"www-authenticate", b'Basic realm="test"')])
    elif path.startswith("/digest-auth/"):
        await digest_auth(scope, send, path.rsplit("/", 1)[1], dict(headers))
    elif path == "/gzip":
        body = gzip.compress(b"compressed " * 100)
        await respond(send, 200, body, [(b"content-encoding", b"gzip")])
    elif path == "/deflate":
        body = zlib.compress(b"deflated " * 100)
        await respond(send, 200, body, [(b"content-encoding", b"deflate")])
    elif path.startswith("/bytes/"):
        size = int(path.rsplit("/", 1)[1])
        chunk = int(query.get("chunk", "65536"))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(size).encode())],
            }
        )
        sent = 0
        while sent < size:
            piece = min(chunk, size - sent)
            await send({"type": "http.response.body", "body": b"x" * piece, "more_body": True})
            sent += piece
        await send({"type": "http.response.body", "body": b""})
    elif path.startswith("/pattern/"):
        # n bytes of a repeating 0..255 pattern, so a corrupted download shows.
        size = int(path.rsplit("/", 1)[1])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(size).encode())],
            }
        )
        block = bytes(range(256)) * 256
        sent = 0
        while sent < size:
            piece = block[: min(len(block), size - sent)]
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            sent += len(piece)
        await send({"type": "http.response.body", "body": b""})
    elif path.startswith("/tracked/"):
        # Streams 64 KiB pieces and records how far it got: the flow-control probe.
        name = path.rsplit("/", 1)[1]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        SENT[name] = 0
        for _ in range(int(query.get("pieces", "256"))):
            await send({"type": "http.response.body", "body": b"t" * 65536, "more_body": True})
            SENT[name] += 65536
        await send({"type": "http.response.body", "body": b""})
    elif path.startswith("/stream-lines/"):
        count = int(path.rsplit("/", 1)[1])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(count):
            line = f"line {i}\n".encode()
            await send({"type": "http.response.body", "body": line, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/slow":
        await trio.sleep(float(query.get("delay", "10")))
        await respond(send, 200, b"slow")
    elif path == "/slow-body":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await trio.sleep(float(query.get("delay", "10")))
        await send({"type": "http.response.body", "body": b"second"})
    elif path == "/attachment":
        # A download whose file name comes from Content-Disposition (the CLI's -O).
        disposition = query.get("disposition", 'attachment; filename="report.txt"')
        await respond(
            send,
            200,
            b"attached",
            [(b"content-disposition", disposition.encode()), (b"content-type", b"text/plain")],
        )
    elif path == "/binary":
        await respond(send, 200, b"\x89PNG\r\n\x00\x00", [(b"content-type", b"image/png")])
    elif path == "/json":
        body = query.get("body", '{"b": [1, 2], "a": "x"}').encode()
        await respond(send, 200, body, [(b"content-type", b"application/json")])
    elif path == "/upload-size":
        body = await read_body(receive)
        await respond(send, 200, str(len(body)).encode())
    elif path in PAGES_ROUTES:
        await PAGES_ROUTES[path](scope, receive, send, query)
    else:
        await respond(send, 404, b"not found")


DIGEST_NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
_DIGEST_PARAM = re.compile(r'(\w+)=("([^"]*)"|[^,\s]*)')


async def digest_auth(scope: Scope, send: Any, algorithm: str, headers: dict[str, str]) -> None:
    """Digest auth for user `user`, password `pass`, checked as RFC 7616 says."""
    hash_name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm]

    def h(data: str) -> str:
        return hashlib.new(hash_name, data.encode()).hexdigest()

    authorization = headers.get("authorization", "")
    if authorization.startswith("Digest "):
        params = {
            m[0]: m[2] if m[1].startswith('"') else m[1]
            for m in _DIGEST_PARAM.findall(authorization[7:])
        }
        ha1 = h(f"user:{params.get('realm')}:pass")
        ha2 = h(f"{scope['method']}:{params.get('uri')}")
        expected = h(
            f"{ha1}:{params.get('nonce')}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}"
        )
        if params.get("response") == expected and params.get("nonce") == DIGEST_NONCE:
            await respond(send, 200, f"digest ok nc={params.get('nc')}".encode())
            return
    challenge = (
        f'Digest realm="test", qop="auth", nonce="{DIGEST_NONCE}", '
        f'algorithm={algorithm}, opaque="abc"'
    )
    await respond(send, 401, b"", [(b"www-authenticate", challenge.encode())])


# -- routes for the documentation's examples (examples/, docs/) -------------------


async def _links(scope: Scope, receive: Any, send: Any, query: dict[str, str]) -> None:
    """A paginated API: /links?page=N (1..3) with a Link header, like GitHub's."""
    page = int(query.get("page", "1"))
    links = [f'</links?page={page + 1}>; rel="next"'] if page < 3 else []
    links.append('</links?page=3>; rel="last"; title="the, last; page"')
    body = json.dumps({"page": page}).encode()
    await respond(send, 200, body, [(b"link", ", ".join(links).encode())])


async def _latin1(scope: Scope, receive: Any, send: Any, query: dict[str, str]) -> None:
    """Latin-1 text with no charset in Content-Type."""
    body = "Noël à Paris, déjà vu: ça va?".encode("latin-1")
    await respond(send, 200, body, [(b"content-type", b"text/plain")])


async def _site(scope: Scope, receive: Any, send: Any, query: dict[str, str]) -> None:
    """A small web site to crawl: /site?n=K links to pages 2K+1 and 2K+2 (up to 30),
    to the home page, and to an external host; page 13 is a 500, page 14 a 404."""
    n = int(query.get("n", "0"))
    if n == 13:
        await respond(send, 500, b"boom")
        return
    if n == 14:
        await respond(send, 404, b"gone")
        return
    targets = [f"/site?n={k}" for k in (2 * n + 1, 2 * n + 2) if k <= 30]
    anchors = "".join(f'<a href="{target}">{target}</a>\n' for target in targets)
    html = (
        f"<html><body><h1>Page {n}</h1>\n{anchors}"
        '<a href="/site?n=0">home</a>\n<a href="http://elsewhere.invalid/">away</a>\n'
        "</body></html>"
    )
    await respond(send, 200, html.encode(), [(b"content-type", b"text/html; charset=utf-8")])


async def _multipart(scope: Scope, receive: Any, send: Any, query: dict[str, str]) -> None:
    """Parse a multipart/form-data upload; answer {field: {filename, size, sha256}}."""
    from email.parser import BytesParser
    from email.policy import HTTP

    content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
    body = await read_body(receive)
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True) or b""
        fields[part.get_param("name", header="content-disposition")] = {
            "filename": part.get_filename(),
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
    await respond(send, 200, json.dumps(fields).encode(), [(b"content-type", b"application/json")])


PAGES_ROUTES = {"/links": _links, "/latin1": _latin1, "/site": _site, "/multipart": _multipart}
