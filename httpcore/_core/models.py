"""Requests and responses: everything about them that needs no socket.

`Request` is what the client sends. `BaseResponse` holds what every response
has (status, headers, decoding, text, JSON, status checks); `AsyncResponse`
adds async streaming over a raw byte source, `Response` adds blocking
streaming. The transport hands a response its raw body as an (async) iterable
of bytes with an optional `aclose()` / `close()`; decoding happens here, one
chunk at a time, so no step holds more than ~1 MiB.
"""

from __future__ import annotations

import json as jsonlib
import string
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from datetime import timedelta
from typing import Any

from .content import BytesBody, RequestBody, encode_request
from .cookies import Cookies
from .decoders import (
    MAX_CHUNK,
    IncrementalTextDecoder,
    LineDecoder,
    charset_encoding,
    decoder_for,
    guess_encoding,
)
from .exceptions import (
    HTTPStatusError,
    LocalProtocolError,
    RequestError,
    RequestNotRead,
    ResponseClosed,
    ResponseNotRead,
    StreamConsumed,
)
from .headers import Headers
from .links import parse_link_header
from .status_codes import codes
from .urls import URL

_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_KNOWN_CODES = {int(code): code for code in codes}  # the members, by number
_REDIRECT_CODES = frozenset((301, 302, 303, 307, 308))
# Methods whose requests carry a body by convention: they get `Content-Length: 0`
# when sent empty, as some servers answer 411 otherwise.
_METHODS_EXPECTING_BODY = frozenset(("POST", "PUT", "PATCH"))


_VALID_METHODS: dict[str | bytes, str] = {}


def _validate_method(method: str | bytes) -> str:
    upper = _VALID_METHODS.get(method)
    if upper is not None:
        return upper
    key = method
    if isinstance(method, bytes):
        method = method.decode("latin-1")
    # Checked before upper-casing: Unicode upper-cases some non-ASCII letters to ASCII.
    if not method or not _TOKEN_CHARS.issuperset(method):
        raise LocalProtocolError(f"Invalid HTTP method {method!r}")
    upper = method.upper()
    if len(_VALID_METHODS) < 64:  # the usual handful, never unbounded
        _VALID_METHODS[key] = upper
    return upper


_EMPTY_BODY = BytesBody(b"")  # stateless and replayable: shared by every body-less request


class Request:
    """An HTTP request: method, URL, headers and body.

    The body comes from exactly one of `content` (bytes, str or an iterator),
    `data` (a dict as a form; bytes, str or an iterator as is), `files` (with
    optional `data` fields, as multipart) or `json`. `Host` and the headers
    the body implies are added unless given. A method, header or URL with
    control characters raises `LocalProtocolError` or `InvalidURL` here,
    before anything is sent.
    """

    def __init__(
        self,
        method: str | bytes,
        url: URL | str,
        *,
        params: Any = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        headers: Any = None,
        cookies: Any = None,
        body: RequestBody | None = None,
    ) -> None:
        self.method = _validate_method(method)
        # URLs are immutable: one already parsed is shared, not copied.
        self.url = url if type(url) is URL and params is None else URL(url, params=params)
        self.headers = Headers(headers)
        if body is None:
            if content is None and data is None and files is None and json is None:
                body = _EMPTY_BODY
            else:
                body_headers, body = encode_request(
                    content=content, data=data, files=files, json=json
                )
                for name, value in body_headers.items():
                    self.headers.setdefault(name, value)
        if (
            body.content_length == 0
            and self.method in _METHODS_EXPECTING_BODY
            and "content-length" not in self.headers
            and "transfer-encoding" not in self.headers
        ):
            self.headers["Content-Length"] = "0"
        self.body: RequestBody = body
        if "host" not in self.headers:
            self.headers["Host"] = self.url.raw_host_header
        self._explicit_cookie: str | None = self.headers.get("cookie")
        self.cookies: Cookies | None = None
        if cookies is not None:
            # Cookies given by name belong to this request's host, not to redirects elsewhere.
            if not isinstance(cookies, Cookies):
                cookies = Cookies(cookies)._bound_to(self.url)
            self.cookies = cookies
            if self._explicit_cookie is None:
                self.cookies.set_cookie_header(self)

    def stream(self) -> RequestBody:
        """The body, iterable as chunks of bytes (sync or async by its kind)."""
        return self.body

    @property
    def content(self) -> bytes:
        """The whole body; `RequestNotRead` for a streamed body not yet read."""
        content = self.body.content
        if content is None:
            raise RequestNotRead(
                "The request body is a stream: call read() or aread() before .content"
            )
        return content

    def read(self) -> bytes:
        """Read a streamed body into memory (so it can be resent) and return it."""
        if self.body.content is None:
            self.body = BytesBody(b"".join(self.body))
        return self.content

    async def aread(self) -> bytes:
        """Read a streamed body into memory (so it can be resent) and return it."""
        if self.body.content is None:
            self.body = BytesBody(b"".join([chunk async for chunk in self.body]))
        return self.content

    def __repr__(self) -> str:
        return f"<Request({self.method!r}, {self.url!r})>"  # URL's repr masks a password


class BaseResponse:
    """What every response has, whatever client produced it.

    `content` given as bytes is the raw body as received (still encoded as
    `Content-Encoding` says); it is decoded right away. Anything else is a raw
    stream that the subclass reads.

    `tls_version` and `tls_cipher` name the TLS protocol version (``"TLSv1.3"``)
    and cipher suite of the connection that carried the response; both are
    None in clear text and for responses that no network connection made.
    """

    tls_version: str | None = None
    tls_cipher: str | None = None

    def __init__(
        self,
        status_code: int,
        *,
        headers: Any = None,
        content: Any = None,
        request: Request | None = None,
        protocol: str = "HTTP/1.1",
        reason_phrase: str | None = None,
        history: Iterable[BaseResponse] | None = None,
        elapsed: timedelta | None = None,
    ) -> None:
        self.status_code: int = _KNOWN_CODES.get(status_code, status_code)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self._request = request
        self.protocol = protocol
        self._reason_phrase = reason_phrase
        self.history: list[BaseResponse] = list(history) if history is not None else []
        self.elapsed = elapsed if elapsed is not None else timedelta(0)
        self.num_bytes_downloaded = 0
        self.is_closed = False
        self.is_stream_consumed = False
        self._content: bytes | None = None
        self._raw_content: bytes | None = None
        self._text: str | None = None
        self._encoding: str | None = None
        self._cookies: Cookies | None = None
        self._decoder = decoder_for(self.headers.get("content-encoding"))
        # The raw body: bytes (decoded right away), or a stream the subclass reads.
        self._stream: Any = None
        if content is None or isinstance(content, bytes):
            self._raw_content = content or b""
            self._content = b"".join(self._decoder.decode(self._raw_content))
            self._content += b"".join(self._decoder.flush())
            self.num_bytes_downloaded = len(self._raw_content)
            self.is_closed = True
        else:
            self._stream = content

    # -- plain attributes ------------------------------------------------------

    @property
    def request(self) -> Request:
        """The request this response answers."""
        if self._request is None:
            raise RuntimeError("This response has no request attached to it")
        return self._request

    @request.setter
    def request(self, request: Request) -> None:
        self._request = request

    @property
    def url(self) -> URL:
        """The URL of the request this response answers (after redirects)."""
        return self.request.url

    @property
    def reason_phrase(self) -> str:
        """The server's reason phrase, or the standard one for the status code."""
        if self._reason_phrase is None:
            return codes.get_reason_phrase(self.status_code)
        return self._reason_phrase

    @property
    def is_redirect(self) -> bool:
        """A 301, 302, 303, 307 or 308 response with a `Location` header."""
        return self.status_code in _REDIRECT_CODES and "location" in self.headers

    @property
    def is_success(self) -> bool:
        """A 2xx response."""
        return 200 <= self.status_code < 300

    @property
    def is_client_error(self) -> bool:
        """A 4xx response."""
        return 400 <= self.status_code < 500

    @property
    def is_server_error(self) -> bool:
        """A 5xx response."""
        return 500 <= self.status_code < 600

    @property
    def is_error(self) -> bool:
        """A 4xx or 5xx response."""
        return self.status_code >= 400

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The `Link` header, parsed (RFC 8288).

        A dict keyed by each link's `rel` (or by its URL when it has none),
        each value a dict with `url` and the link's parameters:
        `response.links["next"]["url"]` is the next page of a paginated API.
        The URLs are as the server wrote them (resolve relative ones with
        `URL(link, allow_relative=True).resolve_with(response.url)`). Empty
        without a `Link` header; malformed elements are skipped.
        """
        header = self.headers.get("link")
        if not header:
            return {}
        return {link.get("rel") or link["url"]: link for link in parse_link_header(header)}

    def raise_for_status(self) -> None:
        """Raise `HTTPStatusError` for a 4xx or 5xx response; return None otherwise."""
        if self.status_code < 400:
            return
        kind = "Client error" if self.status_code < 500 else "Server error"
        message = f"{kind} '{self.status_code} {self.reason_phrase}' for url '{self.url}'"
        raise HTTPStatusError(message, request=self.request, response=self)

    @property
    def cookies(self) -> Cookies:
        """The cookies this response set."""
        if self._cookies is None:
            self._cookies = Cookies()
            self._cookies.extract_cookies(self)
        return self._cookies

    # -- body and text ---------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The decoded body; `ResponseNotRead` on a streaming response not yet read."""
        if self._content is None:
            raise ResponseNotRead(
                "Unread streaming response: read() it (or iterate stream()) before .content"
            )
        return self._content

    @property
    def charset_encoding(self) -> str | None:
        """The `charset` of `Content-Type`, when it names a text codec Python knows."""
        return charset_encoding(self.headers.get("content-type"))

    @property
    def encoding(self) -> str:
        """How `.text` decodes: the charset, else UTF-8 if valid, else a confident
        chardet guess, else windows-1252 (the rule is in docs/responses.md). Settable."""
        if self._encoding is None:
            self._encoding = guess_encoding(self.headers.get("content-type"), self.content)
        return self._encoding

    @encoding.setter
    def encoding(self, value: str) -> None:
        self._encoding = value
        self._text = None

    @property
    def text(self) -> str:
        """The body decoded as text with `.encoding` (undecodable bytes replaced)."""
        if self._text is None:
            self._text = self.content.decode(self.encoding, errors="replace")
        return self._text

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON; `kwargs` go to `json.loads`."""
        if self._encoding is None and self.charset_encoding is None:
            return jsonlib.loads(self.content, **kwargs)
        return jsonlib.loads(self.text, **kwargs)

    # -- helpers shared by the blocking and the async streaming APIs -------------

    def _claim_raw_stream(self) -> None:
        if self.is_stream_consumed:
            raise StreamConsumed("The response body was already consumed")
        if self.is_closed:
            raise ResponseClosed("Cannot read from a closed response")
        self.is_stream_consumed = True

    def _count(self, raw_chunk: bytes) -> list[bytes]:
        self.num_bytes_downloaded += len(raw_chunk)
        return [raw_chunk]

    def _decode(self, raw_chunk: bytes) -> Iterator[bytes]:
        self.num_bytes_downloaded += len(raw_chunk)
        return self._decoder.decode(raw_chunk)

    def _content_chunks(self) -> list[bytes]:
        content = self.content
        return [content[i : i + MAX_CHUNK] for i in range(0, len(content), MAX_CHUNK)]

    def _stream_encoding(self) -> str:
        if self._encoding is not None:
            return self._encoding
        return self.charset_encoding or "utf-8"

    def __repr__(self) -> str:
        status = f"{self.status_code} {self.reason_phrase}".strip()
        return f"<{type(self).__name__} [{status}]>"


class AsyncResponse(BaseResponse):
    """A response of `TrioClient` and `AsyncClient`, read with `await`.

    `content` may be the raw body as bytes or as an async iterable of bytes
    (closed with its `aclose()` if it has one).
    """

    _stream: AsyncIterable[bytes] | None
    _next: Callable[[], Awaitable[AsyncResponse]] | None = None

    async def read(self) -> bytes:
        """Read and decode the whole body, then close; returns `.content`."""
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.stream()])
        return self._content

    def raw(self) -> AsyncIterator[bytes]:
        """The body as received, before decoding. Closes the response at the end."""
        if self._raw_content is not None and not self.is_stream_consumed:
            self.is_stream_consumed = True
            return _AsyncPipe(self, _AsyncChunks([self._raw_content] if self._raw_content else []))
        self._claim_raw_stream()
        assert self._stream is not None
        return _AsyncPipe(self, self._stream.__aiter__(), self._count)

    def stream(self) -> AsyncIterator[bytes]:
        """The decoded body in chunks of at most 1 MiB."""
        if self._content is not None:
            return _AsyncChunks(self._content_chunks())
        self._claim_raw_stream()
        assert self._stream is not None
        return _AsyncPipe(self, self._stream.__aiter__(), self._decode, self._decoder.flush)

    def stream_text(self) -> AsyncIterator[str]:
        """The body decoded as text, chunk by chunk."""
        decoder = IncrementalTextDecoder(self._stream_encoding())
        return _AsyncPipe(self, self.stream(), _nonempty(decoder.decode), _nonempty(decoder.flush))

    def stream_lines(self) -> AsyncIterator[str]:
        """The body as text lines, without their line endings."""
        decoder = LineDecoder()
        return _AsyncPipe(self, self.stream_text(), decoder.decode, decoder.flush)

    async def close(self) -> None:
        """Release the connection; the rest of an unread body is discarded."""
        if not self.is_closed:
            self.is_closed = True
            aclose = getattr(self._stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def next(self) -> AsyncResponse:
        """Follow this redirect (got with `allow_redirects=False`); return the next response."""
        if not self.is_redirect or self._next is None:
            raise RuntimeError("next() is only for redirect responses got from a client")
        return await self._next()

    async def __aenter__(self) -> AsyncResponse:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


def _nonempty(fn: Callable[..., str]) -> Callable[..., list[str]]:
    def wrapped(*args: Any) -> list[str]:
        text = fn(*args)
        return [text] if text else []

    return wrapped


class _AsyncChunks:
    """An async iterator over a list (for bodies already in memory)."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = deque(chunks)

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> bytes:
        if not self._chunks:
            raise StopAsyncIteration
        return self._chunks.popleft()

    async def aclose(self) -> None:
        self._chunks.clear()


class _AsyncPipe:
    """Pull items from `source`, map each through `step`, end with `final()`.

    A class rather than an async generator: a generator left unfinished (the
    caller breaks out of its loop) would be finalised later by the garbage
    collector, with a warning. Reaching the end, an error, or `aclose()`
    closes the response, which releases its connection.
    """

    __slots__ = ("_done", "_final", "_pending", "_response", "_source", "_step")

    def __init__(
        self,
        response: AsyncResponse,
        source: AsyncIterator[Any],
        step: Callable[[Any], Iterable[Any]] | None = None,
        final: Callable[[], Iterable[Any]] | None = None,
    ) -> None:
        self._response = response
        self._source = source
        self._step = step
        self._final = final
        # Items of the current step, pulled one by one: a decoder's output for
        # one raw chunk may be large, and is never held whole.
        self._pending: Iterator[Any] | None = None
        self._done = False

    def __aiter__(self) -> _AsyncPipe:
        return self

    async def __anext__(self) -> Any:
        while True:
            if self._pending is not None:
                try:
                    return next(self._pending)
                except StopIteration:
                    self._pending = None
                except BaseException:
                    await self.aclose()
                    raise
            if self._done:
                raise StopAsyncIteration
            try:
                item = await self._source.__anext__()
            except StopAsyncIteration:
                await self.aclose()
                if self._final is not None:
                    self._pending = iter(self._final())
                continue
            except BaseException as exc:
                await self.aclose()
                if isinstance(exc, RequestError):
                    exc.request = exc.request or self._response._request
                raise
            if self._step is None:
                return item
            self._pending = iter(self._step(item))

    async def aclose(self) -> None:
        self._done = True
        await self._response.close()


class Response(BaseResponse):
    """A response of the blocking `Client`.

    `content` may be the raw body as bytes or as an iterable of bytes (closed
    with its `close()` if it has one).
    """

    _stream: Iterable[bytes] | None
    _next: Callable[[], Response] | None = None

    def read(self) -> bytes:
        """Read and decode the whole body, then close; returns `.content`."""
        if self._content is None:
            self._content = b"".join(self.stream())
        return self._content

    def raw(self) -> Iterator[bytes]:
        """The body as received, before decoding. Closes the response at the end."""
        if self._raw_content is not None and not self.is_stream_consumed:
            self.is_stream_consumed = True
            self.num_bytes_downloaded = len(self._raw_content)
            if self._raw_content:
                yield self._raw_content
            return
        self._claim_raw_stream()
        assert self._stream is not None
        try:
            for chunk in self._stream:
                self.num_bytes_downloaded += len(chunk)
                yield chunk
        finally:
            self.close()

    def stream(self) -> Iterator[bytes]:
        """The decoded body in chunks of at most 1 MiB."""
        if self._content is not None:
            yield from self._content_chunks()
            return
        self._claim_raw_stream()
        assert self._stream is not None
        try:
            for raw_chunk in self._stream:
                yield from self._decode(raw_chunk)
            yield from self._decoder.flush()
        finally:
            self.close()

    def stream_text(self) -> Iterator[str]:
        """The body decoded as text, chunk by chunk."""
        decoder = IncrementalTextDecoder(self._stream_encoding())
        for chunk in self.stream():
            text = decoder.decode(chunk)
            if text:
                yield text
        text = decoder.flush()
        if text:
            yield text

    def stream_lines(self) -> Iterator[str]:
        """The body as text lines, without their line endings."""
        decoder = LineDecoder()
        for text in self.stream_text():
            yield from decoder.decode(text)
        yield from decoder.flush()

    def close(self) -> None:
        """Release the connection; the rest of an unread body is discarded."""
        if not self.is_closed:
            self.is_closed = True
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()

    def next(self) -> Response:
        """Follow this redirect (got with `allow_redirects=False`); return the next response."""
        if not self.is_redirect or self._next is None:
            raise RuntimeError("next() is only for redirect responses got from a client")
        return self._next()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
