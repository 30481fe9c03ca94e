"""Request bodies: raw bytes, streams, forms, JSON and multipart uploads.

A body is a ``RequestBody``: it knows its length when it can
(``content_length``), whether it can be sent again (``can_replay``, needed by
redirects and auth retries) and yields its bytes as chunks, both with ``for``
and ``async for``. Bodies never yield empty chunks, so a transport may treat
every chunk as data.

Async iteration is done by small classes with ``__anext__`` rather than async
generators: an async generator suspended inside a trio cancel scope breaks the
scope's nesting, a plain object cannot.

``encode_request`` turns the ``content=``/``data=``/``files=``/``json=``
arguments of a request into the headers the body implies and the body itself.
"""

from __future__ import annotations

import abc
import io
import json as jsonlib
import mimetypes
import os
import re
import stat
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, BinaryIO, Protocol, TypeAlias, cast

from .exceptions import LocalProtocolError, StreamConsumed
from .urls import encode_query

__all__ = [
    "AsyncIteratorBody",
    "BytesBody",
    "IteratorBody",
    "MultipartBody",
    "RequestBody",
    "encode_request",
]

#: Largest chunk a multipart body yields, and the size of each read from a file.
CHUNK_SIZE = 64 * 1024


class SupportsRead(Protocol):
    """A binary file object: ``read(size)`` returns bytes (seeking is optional)."""

    def read(self, size: int = -1, /) -> bytes: ...


FileContent: TypeAlias = "SupportsRead | bytes | str"
FileTypes: TypeAlias = (
    "FileContent"
    " | tuple[str | None, FileContent]"
    " | tuple[str | None, FileContent, str | None]"
    " | tuple[str | None, FileContent, str | None, Mapping[str, str]]"
)


def _chunk_to_bytes(chunk: object) -> bytes:
    """Return a stream chunk as bytes (str as UTF-8); anything else is a TypeError."""
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"a request body stream must yield bytes or str, not {type(chunk).__name__}")


class _AsyncFromSync(AsyncIterator[bytes]):
    """Async iteration over a sync iterator: each step is a plain ``next()``."""

    def __init__(self, iterator: Iterator[bytes]) -> None:
        self._iterator = iterator

    async def __anext__(self) -> bytes:
        try:
            return next(self._iterator)
        except StopIteration:
            raise StopAsyncIteration from None


class _CheckedAsyncIterator(AsyncIterator[bytes]):
    """A caller's async iterator with its chunks checked and empty ones skipped."""

    def __init__(self, iterator: AsyncIterator[Any]) -> None:
        self._iterator = iterator

    async def __anext__(self) -> bytes:
        while True:
            chunk = _chunk_to_bytes(await self._iterator.__anext__())
            if chunk:
                return chunk

    async def aclose(self) -> None:
        """Close the wrapped iterator if it can be closed (async generators can)."""
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is not None:
            await aclose()


class RequestBody(abc.ABC):
    """A request body, iterable as chunks of bytes with ``for`` and ``async for``.

    ``content_length`` is the size in bytes, or ``None`` when it is not known
    up front (the body is then sent chunked). ``content`` is the whole body
    when it is known without doing I/O, else ``None``. A body whose
    ``can_replay`` is false can be iterated once; iterating it again raises
    ``StreamConsumed``.
    """

    content_length: int | None = None
    can_replay: bool = True
    content: bytes | None = None
    _consumed: bool = False

    def __iter__(self) -> Iterator[bytes]:
        self._start()
        return self._chunks()

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._start()
        return _AsyncFromSync(self._chunks())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} content_length={self.content_length!r}>"

    def _start(self) -> None:
        if self._consumed and not self.can_replay:
            raise StreamConsumed(
                f"{type(self).__name__} was already sent and cannot be sent again; "
                "pass bytes or seekable files to allow redirects and retries"
            )
        self._consumed = True

    @abc.abstractmethod
    def _chunks(self) -> Iterator[bytes]:
        """The body's chunks, for one iteration (after `_start` allowed it)."""


class BytesBody(RequestBody):
    """A body held in memory; replayable, yields its bytes as one chunk."""

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            raise TypeError(f"BytesBody needs bytes, not {type(data).__name__}")
        self.content = data
        self.content_length = len(data)

    def _chunks(self) -> Iterator[bytes]:
        if self.content:
            yield self.content


class IteratorBody(RequestBody):
    """A body streamed from a sync iterable of bytes (or str, sent as UTF-8).

    It can be iterated once, with ``for`` or ``async for`` (the async form just
    calls ``next()``; running that in a thread is the caller's choice). A chunk
    that is not bytes or str raises ``TypeError``.
    """

    can_replay = False

    def __init__(self, iterable: Iterable[bytes] | Iterable[str]) -> None:
        self._iterable: Iterable[object] = iterable

    def _chunks(self) -> Iterator[bytes]:
        for chunk in self._iterable:
            data = _chunk_to_bytes(chunk)
            if data:
                yield data


class AsyncIteratorBody(RequestBody):
    """A body streamed from an async iterable of bytes; ``async for`` only, once.

    ``for`` raises ``TypeError``: a blocking client cannot send it.
    """

    can_replay = False

    def __init__(self, iterable: AsyncIterable[bytes] | AsyncIterable[str]) -> None:
        self._iterable: AsyncIterable[object] = iterable

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()  # refused without `_start()`: refusing must not use it up

    def _chunks(self) -> Iterator[bytes]:
        raise TypeError(
            "this request body is an async iterator, which a blocking Client cannot send; "
            "use a sync iterator, or an async client (TrioClient or AsyncClient)"
        )

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._start()
        return _CheckedAsyncIterator(self._iterable.__aiter__())


# --- multipart/form-data ---------------------------------------------------------------

_BOUNDARY_RE = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_FORBIDDEN_HEADER_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _quote_param(value: str) -> bytes:
    """Quote a name or filename as the WHATWG HTML multipart/form-data rules say."""
    escaped = value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return escaped.encode("utf-8")


def _field_value(value: object) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if value is None:
        return b""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, (int, float)):
        return str(value).encode("ascii")
    raise TypeError(
        f"form field values must be str, bytes, int, float, bool or None, "
        f"not {type(value).__name__}"
    )


def _field_name(name: object) -> str:
    if isinstance(name, str):
        return name
    if isinstance(name, bytes):
        return name.decode("utf-8")
    raise TypeError(f"form field names must be str, not {type(name).__name__}")


def _header_line(name: str, value: str) -> bytes:
    if _FORBIDDEN_HEADER_CHARS.search(name) or _FORBIDDEN_HEADER_CHARS.search(value):
        raise LocalProtocolError(
            f"multipart part header {name!r}: {value!r} contains a control character"
        )
    return f"{name}: {value}\r\n".encode()


def _file_size(fileobj: BinaryIO, start: int) -> int | None:
    """Bytes left in a seekable file from ``start``, by fstat or else by seeking."""
    try:
        st = os.fstat(fileobj.fileno())
    except (AttributeError, OSError, ValueError):
        pass
    else:
        if stat.S_ISREG(st.st_mode):
            return max(st.st_size - start, 0)
    try:
        fileobj.seek(0, io.SEEK_END)
        end = fileobj.tell()
        fileobj.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return max(end - start, 0)


class _Part:
    """One part: its framing (boundary line and headers) and its content."""

    def __init__(
        self,
        headers: bytes,
        data: bytes | None = None,
        fileobj: BinaryIO | None = None,
        name: str = "",
    ) -> None:
        self.headers = headers
        self.data = data
        self.fileobj = fileobj
        self.name = name
        self.size: int | None = None if data is None else len(data)
        self.start = 0
        self.seekable = fileobj is None
        if fileobj is not None:
            try:
                if fileobj.seekable():
                    self.start = fileobj.tell()
                    self.seekable = True
            except (AttributeError, OSError, ValueError):
                pass
            if self.seekable:
                self.size = _file_size(fileobj, self.start)

    def pieces(self) -> Iterator[bytes]:
        yield self.headers
        if self.fileobj is None:
            assert self.data is not None
            for offset in range(0, len(self.data), CHUNK_SIZE):
                yield self.data[offset : offset + CHUNK_SIZE]
        else:
            yield from self._read_file(self.fileobj)
        yield b"\r\n"

    def _read_file(self, fileobj: BinaryIO) -> Iterator[bytes]:
        if self.seekable:
            fileobj.seek(self.start)
        remaining = self.size
        while remaining is None or remaining > 0:
            wanted = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = fileobj.read(wanted)
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"the file for field {self.name!r} returned {type(chunk).__name__} from "
                    "read(); open files in binary mode ('rb')"
                )
            if not chunk:
                if remaining is not None:
                    raise LocalProtocolError(
                        f"the file for field {self.name!r} ended {remaining} bytes short "
                        f"of the {self.size} bytes announced in Content-Length"
                    )
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield bytes(chunk)


def _default_filename(name: str, fileobj: object) -> str:
    path = getattr(fileobj, "name", None)
    if isinstance(path, str) and path and not (path.startswith("<") and path.endswith(">")):
        return os.path.basename(path)
    return name


class MultipartBody(RequestBody):
    """A ``multipart/form-data`` body: form fields, then files, streamed.

    ``data`` maps field names to str, bytes, int, float, bool or None (a list
    or tuple repeats the field). ``files`` maps field names (or is a list of
    ``(name, value)`` pairs) to a binary file object, or to a tuple
    ``(filename, fileobj | bytes | str[, content_type[, headers]])``; a
    ``None`` filename sends no ``filename`` parameter, a ``None`` content type
    is guessed from the filename. Files are read in 64 KiB chunks as the body
    is sent, never whole. ``content_length`` is known when every file is
    seekable, and so is ``can_replay`` (a replay seeks each file back to where
    it was when the body was built).

    Raises ``TypeError`` for values of the wrong type (and text-mode files),
    ``ValueError`` for an invalid boundary, ``LocalProtocolError`` for control
    characters in a part's header.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, FileTypes] | Iterable[tuple[str, FileTypes]] | None = None,
        boundary: bytes | str | None = None,
    ) -> None:
        if boundary is None:
            boundary = os.urandom(16).hex()
        if isinstance(boundary, str):
            boundary = boundary.encode("ascii")
        if not isinstance(boundary, bytes) or not _BOUNDARY_RE.fullmatch(boundary):
            raise ValueError(f"invalid multipart boundary {boundary!r} (see RFC 2046, 5.1.1)")
        self.boundary = boundary
        self.content_type = f"multipart/form-data; boundary={boundary.decode('ascii')}"

        self._parts: list[_Part] = []
        for name, value in _items(data or {}, "data"):
            values = value if isinstance(value, (list, tuple)) else [value]
            for item in values:
                self._parts.append(
                    _Part(self._disposition(_field_name(name), None) + b"\r\n", _field_value(item))
                )
        for name, value in _items(files or {}, "files"):
            self._parts.append(self._file_part(_field_name(name), value))

        self._end = b"--" + boundary + b"--\r\n"
        self.can_replay = all(part.seekable for part in self._parts)
        sizes = [part.size for part in self._parts]
        if all(size is not None for size in sizes):
            framing = sum(len(part.headers) + 2 for part in self._parts) + len(self._end)
            self.content_length = framing + sum(size for size in sizes if size is not None)
        if all(part.fileobj is None for part in self._parts):
            self.content = b"".join(self._chunks())

    def _disposition(self, name: str, filename: str | None) -> bytes:
        line = b"--" + self.boundary + b'\r\nContent-Disposition: form-data; name="'
        line += _quote_param(name) + b'"'
        if filename is not None:
            line += b'; filename="' + _quote_param(filename) + b'"'
        return line + b"\r\n"

    def _file_part(self, name: str, value: object) -> _Part:
        filename: str | None
        content_type: str | None = None
        headers: Mapping[str, str] = {}
        if isinstance(value, tuple):
            if not 2 <= len(value) <= 4:
                raise TypeError(
                    f"files[{name!r}] must be (filename, file[, content_type[, headers]]), "
                    f"got a tuple of {len(value)}"
                )
            filename, content = value[0], value[1]
            if len(value) > 2:
                content_type = value[2]
            if len(value) > 3:
                headers = value[3]
            if filename is not None and not isinstance(filename, str):
                raise TypeError(
                    f"files[{name!r}] filename must be str or None, not {type(filename).__name__}"
                )
            if content_type is not None and not isinstance(content_type, str):
                raise TypeError(
                    f"files[{name!r}] content type must be str or None, "
                    f"not {type(content_type).__name__}"
                )
            if not isinstance(headers, Mapping):
                raise TypeError(
                    f"files[{name!r}] headers must be a dict, not {type(headers).__name__}"
                )
        else:
            content = value
            filename = _default_filename(name, value)

        data: bytes | None = None
        fileobj: BinaryIO | None = None
        if isinstance(content, str):
            data = content.encode("utf-8")
        elif isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
        elif isinstance(content, io.TextIOBase):
            raise TypeError(f"files[{name!r}] is a text-mode file; open it in binary mode ('rb')")
        elif callable(getattr(content, "read", None)):
            fileobj = cast(BinaryIO, content)
        else:
            raise TypeError(
                f"files[{name!r}] must be a binary file object, bytes or str, "
                f"not {type(content).__name__}"
            )

        extra = {key.lower(): (key, val) for key, val in headers.items()}
        if content_type is None and "content-type" not in extra:
            guessed = mimetypes.guess_type(filename)[0] if filename else None
            content_type = guessed or "application/octet-stream"
        head = self._disposition(name, filename)
        if content_type is not None:
            # An explicit content type wins over one in the headers dict.
            extra["content-type"] = ("Content-Type", content_type)
        extra.pop("content-disposition", None)
        for key, val in extra.values():
            head += _header_line(key, val)
        return _Part(head + b"\r\n", data, fileobj, name)

    def _chunks(self) -> Iterator[bytes]:
        # Coalesce the small pieces (boundaries, headers, short fields) into
        # chunks of at most CHUNK_SIZE, so a form is not sent as dozens of
        # tiny writes; each piece is itself at most CHUNK_SIZE.
        pending: list[bytes] = []
        size = 0
        for piece in self._pieces():
            if pending and size + len(piece) > CHUNK_SIZE:
                yield b"".join(pending)
                pending, size = [], 0
            pending.append(piece)
            size += len(piece)
        yield b"".join(pending)

    def _pieces(self) -> Iterator[bytes]:
        for part in self._parts:
            yield from part.pieces()
        yield self._end


def _items(value: object, what: str) -> Iterable[tuple[object, object]]:
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, (list, tuple)) and all(
        isinstance(item, tuple) and len(item) == 2 for item in value
    ):
        return list(value)
    raise TypeError(f"{what}= must be a dict or a list of (name, value) pairs")


# --- encode_request --------------------------------------------------------------------


def _length_headers(body: RequestBody) -> dict[str, str]:
    if body.content_length is None:
        return {"Transfer-Encoding": "chunked"}
    if body.content_length == 0:
        return {}
    return {"Content-Length": str(body.content_length)}


def _content_body(content: object, argument: str) -> RequestBody:
    if isinstance(content, str):
        return BytesBody(content.encode("utf-8"))
    if isinstance(content, (bytes, bytearray, memoryview)):
        return BytesBody(bytes(content))
    if isinstance(content, RequestBody):
        return content
    if isinstance(content, Mapping):
        pass
    elif isinstance(content, AsyncIterable):
        return AsyncIteratorBody(content)
    elif isinstance(content, Iterable):
        return IteratorBody(content)
    raise TypeError(
        f"{argument}= must be bytes, str, an iterator or an async iterator of bytes, "
        f"not {type(content).__name__}"
    )


def encode_request(
    content: object = None,
    data: object = None,
    files: object = None,
    json: object = None,
    boundary: bytes | str | None = None,
) -> tuple[dict[str, str], RequestBody]:
    """Build the body a request's arguments describe, and the headers it implies.

    Returns ``(headers, body)``; ``headers`` holds ``Content-Type`` when the
    body implies one, and ``Content-Length`` when the length is known and not
    zero, or ``Transfer-Encoding: chunked`` when it is not known. An empty body
    gets no headers: whether to send ``Content-Length: 0`` is the request's call.

    - ``content=`` bytes or str (as UTF-8), or a sync or async iterator of bytes;
    - ``data=`` a dict: a urlencoded form (a multipart one with ``files=``);
      bytes, str or an iterator: as ``content=``;
    - ``files=`` multipart uploads, see ``MultipartBody``;
    - ``json=`` any JSON-serialisable object, compact, UTF-8.

    Raises ``TypeError`` for an argument of the wrong type or a combination
    that makes no sense (say ``content=`` with ``json=``), ``ValueError`` for
    ``json=`` holding NaN or infinity.
    """
    given = [
        name
        for name, value in (("content", content), ("data", data), ("json", json))
        if value is not None
    ]
    if files is not None and "data" not in given:
        given.append("files")
    if len(given) > 1:
        raise TypeError(f"pass only one of {' and '.join(name + '=' for name in given)}")

    body: RequestBody
    headers: dict[str, str] = {}
    if content is not None:
        body = _content_body(content, "content")
        if isinstance(body, MultipartBody):
            headers["Content-Type"] = body.content_type
    elif files is not None:
        if data is not None and not isinstance(data, Mapping):
            raise TypeError(f"with files=, data= must be a dict, not {type(data).__name__}")
        multipart = MultipartBody(data, files, boundary)  # type: ignore[arg-type]
        headers["Content-Type"] = multipart.content_type
        body = multipart
    elif isinstance(data, Mapping):
        if not data:
            return {}, BytesBody(b"")
        body = BytesBody(encode_query(data).encode("ascii"))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = _content_body(data, "data")
    elif json is not None:
        text = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        body = BytesBody(text.encode("utf-8"))
        headers["Content-Type"] = "application/json"
    else:
        return {}, BytesBody(b"")
    headers.update(_length_headers(body))
    return headers, body
