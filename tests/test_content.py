from __future__ import annotations

import io
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpcore._core.content import (
    CHUNK_SIZE,
    AsyncIteratorBody,
    BytesBody,
    IteratorBody,
    MultipartBody,
    RequestBody,
    encode_request,
)
from httpcore._core.exceptions import LocalProtocolError, StreamConsumed

B = b"BOUNDARY"


def sync_bytes(body: RequestBody) -> bytes:
    return b"".join(body)


async def async_bytes(body: RequestBody) -> bytes:
    return b"".join([chunk async for chunk in body])


class AsyncChunks:
    """A caller's async iterator, as a class (no async generator needed)."""

    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = list(chunks)
        self.closed = False

    def __aiter__(self) -> AsyncChunks:
        return self

    async def __anext__(self) -> Any:
        if not self.chunks:
            raise StopAsyncIteration
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True


class Unseekable(io.RawIOBase):
    """A readable stream that cannot seek, like a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._data.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# --- simple bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "chunks"),
    [(b"", []), (b"abc", [b"abc"]), (b"x" * (CHUNK_SIZE * 3), [b"x" * (CHUNK_SIZE * 3)])],
)
async def test_bytes_body(data: bytes, chunks: list[bytes]) -> None:
    body = BytesBody(data)
    assert body.content == data
    assert body.content_length == len(data)
    assert body.can_replay
    for _ in range(2):  # replayable, both ways
        assert list(body) == chunks
        assert [chunk async for chunk in body] == chunks
    assert repr(body) == f"<BytesBody content_length={len(data)}>"


def test_bytes_body_refuses_str() -> None:
    with pytest.raises(TypeError, match="BytesBody needs bytes, not str"):
        BytesBody("abc")  # type: ignore[arg-type]


def test_iterator_body_sync() -> None:
    body = IteratorBody(iter([b"ab", "é", b"", bytearray(b"cd"), memoryview(b"ef")]))  # type: ignore[arg-type]
    assert body.content_length is None
    assert body.content is None
    assert not body.can_replay
    assert list(body) == [b"ab", "é".encode(), b"cd", b"ef"]
    with pytest.raises(StreamConsumed):
        iter(body)
    with pytest.raises(StreamConsumed):
        body.__aiter__()


async def test_iterator_body_async() -> None:
    body = IteratorBody(iter([b"ab", b"cd"]))
    assert [chunk async for chunk in body] == [b"ab", b"cd"]
    with pytest.raises(StreamConsumed):
        body.__aiter__()
    with pytest.raises(StreamConsumed):
        iter(body)


@pytest.mark.parametrize("bad", [1, None, ["x"]])
def test_iterator_body_bad_chunk(bad: object) -> None:
    body = IteratorBody(iter([b"ok", bad]))  # type: ignore[arg-type]
    chunks = iter(body)
    assert next(chunks) == b"ok"
    with pytest.raises(TypeError, match="must yield bytes or str, not"):
        next(chunks)


async def test_async_iterator_body() -> None:
    source = AsyncChunks([b"ab", b"", "é"])
    body = AsyncIteratorBody(source)
    assert body.content_length is None
    assert body.content is None
    assert not body.can_replay
    assert await async_bytes(body) == "abé".encode()
    with pytest.raises(StreamConsumed):
        body.__aiter__()


def test_async_iterator_body_is_async_only() -> None:
    body = AsyncIteratorBody(AsyncChunks([b"x"]))
    with pytest.raises(TypeError, match="blocking Client cannot send"):
        iter(body)


async def test_async_iterator_body_bad_chunk_and_aclose() -> None:
    source = AsyncChunks([b"ok", 3])
    chunks = AsyncIteratorBody(source).__aiter__()
    assert await chunks.__anext__() == b"ok"
    with pytest.raises(TypeError, match="not int"):
        await chunks.__anext__()
    await chunks.aclose()  # type: ignore[attr-defined]
    assert source.closed


async def test_async_iterator_body_aclose_without_aclose() -> None:
    class Plain:
        def __aiter__(self) -> Plain:
            return self

        async def __anext__(self) -> bytes:
            raise StopAsyncIteration

    chunks = AsyncIteratorBody(Plain()).__aiter__()
    await chunks.aclose()  # type: ignore[attr-defined]  # a no-op, not an error
    with pytest.raises(StopAsyncIteration):
        await chunks.__anext__()


# --- multipart -------------------------------------------------------------------------


def test_multipart_exact_bytes() -> None:
    body = MultipartBody(
        data={"a": "1", "b": [b"x", 2, 1.5, True, None]},
        files={"f": ("hello.txt", b"hi\n"), "g": (None, "é", "text/plain", {"X-Extra": "y"})},  # type: ignore[arg-type]
        boundary=B,
    )
    expected = (
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\nx\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\n2\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\n1.5\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\ntrue\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="b"\r\n\r\n\r\n'
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="f"; filename="hello.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhi\n\r\n"
        b"--BOUNDARY\r\n"
        b'Content-Disposition: form-data; name="g"\r\n'
        b"X-Extra: y\r\nContent-Type: text/plain\r\n\r\n\xc3\xa9\r\n"
        b"--BOUNDARY--\r\n"
    )
    assert sync_bytes(body) == expected
    assert body.content == expected
    assert body.content_length == len(expected)
    assert body.content_type == "multipart/form-data; boundary=BOUNDARY"
    assert list(body) == [expected]  # small pieces are coalesced into one chunk


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ('a"b', b"a%22b"),
        ("a\rb", b"a%0Db"),
        ("a\nb", b"a%0Ab"),
        ("a\r\nb", b"a%0D%0Ab"),
        ("naïve ☃", "naïve ☃".encode()),
        ("back\\slash;x=1", b"back\\slash;x=1"),
    ],
)
def test_multipart_quotes_names_and_filenames(name: str, quoted: bytes) -> None:
    body = MultipartBody(data={name: "v"}, files={name: (name, b"")}, boundary=B)
    content = sync_bytes(body)
    assert b'Content-Disposition: form-data; name="' + quoted + b'"\r\n' in content
    assert b'name="' + quoted + b'"; filename="' + quoted + b'"\r\n' in content
    assert body.content_length == len(content)


@pytest.mark.parametrize(
    ("filename", "content_type", "headers", "expected"),
    [
        ("a.png", None, {}, b"Content-Type: image/png\r\n"),
        ("a.unknown-ext", None, {}, b"Content-Type: application/octet-stream\r\n"),
        (None, None, {}, b"Content-Type: application/octet-stream\r\n"),
        ("a.png", "x/y", {}, b"Content-Type: x/y\r\n"),
        ("a.png", None, {"content-type": "a/b"}, b"content-type: a/b\r\n"),
        ("a.png", "x/y", {"Content-Type": "a/b"}, b"Content-Type: x/y\r\n"),
        ("a", None, {"Content-Disposition": "evil"}, b"Content-Type: application/octet-stream\r\n"),
    ],
)
def test_multipart_file_content_type(
    filename: str | None, content_type: str | None, headers: dict[str, str], expected: bytes
) -> None:
    body = MultipartBody(files={"f": (filename, b"data", content_type, headers)}, boundary=B)
    content = sync_bytes(body)
    assert expected + b"\r\ndata\r\n" in content
    assert content.count(b"Content-Type") + content.count(b"content-type") == 1
    assert content.count(b"Content-Disposition") == 1


def test_multipart_bare_file_objects(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n")
    with path.open("rb") as named:
        body = MultipartBody(files={"named": named, "anon": io.BytesIO(b"zz")}, boundary=B)
        content = sync_bytes(body)
    assert b'name="named"; filename="report.csv"\r\nContent-Type: text/csv\r\n\r\na,b\n' in content
    assert b'name="anon"; filename="anon"\r\n' in content
    assert body.content_length == len(content)
    assert body.content is None  # file parts are read on sending


def test_multipart_list_of_pairs_repeats_fields() -> None:
    body = MultipartBody(
        data=[("k", "1"), ("k", "2")],  # type: ignore[arg-type]
        files=[("f", ("a", b"1")), ("f", ("b", b"2"))],
        boundary="BOUNDARY",
    )
    content = sync_bytes(body)
    assert content.count(b'name="k"') == 2
    assert content.count(b'name="f"') == 2


def test_multipart_random_boundary() -> None:
    one, two = MultipartBody(data={"a": "1"}), MultipartBody(data={"a": "1"})
    assert len(one.boundary) == 32
    assert one.boundary != two.boundary
    assert one.content_type == "multipart/form-data; boundary=" + one.boundary.decode()
    assert sync_bytes(one).endswith(b"--" + one.boundary + b"--\r\n")


def test_multipart_empty() -> None:
    body = MultipartBody(boundary=B)
    assert sync_bytes(body) == b"--BOUNDARY--\r\n"
    assert body.content_length == len(b"--BOUNDARY--\r\n")


@pytest.mark.parametrize("boundary", [b"", b"x" * 71, b"a\r\nb", b"ends with space ", b'q"'])
def test_multipart_bad_boundary(boundary: bytes) -> None:
    with pytest.raises(ValueError, match="invalid multipart boundary"):
        MultipartBody(data={"a": "1"}, boundary=boundary)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": {"a": object()}}, "form field values must be"),
        ({"data": {1: "a"}}, "form field names must be str"),
        ({"data": "a=1"}, r"data= must be a dict or a list of \(name, value\) pairs"),
        ({"files": {"f": 123}}, "must be a binary file object, bytes or str, not int"),
        ({"files": {"f": ("a",)}}, "got a tuple of 1"),
        ({"files": {"f": ("a", b"", None, {}, 5)}}, "got a tuple of 5"),
        ({"files": {"f": (b"a", b"")}}, "filename must be str or None, not bytes"),
        ({"files": {"f": ("a", b"", b"text/plain")}}, "content type must be str or None"),
        ({"files": {"f": ("a", b"", None, ["X: y"])}}, "headers must be a dict, not list"),
        ({"files": {"f": io.StringIO("text")}}, "text-mode file"),
    ],
)
def test_multipart_bad_types(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        MultipartBody(**kwargs)


@pytest.mark.parametrize(
    "part",
    [
        ("a", b"", "text/plain\r\nX-Injected: 1"),
        ("a", b"", None, {"X-Bad": "a\nb"}),
        ("a", b"", None, {"X-Bad\x00": "v"}),
    ],
)
def test_multipart_refuses_control_characters_in_part_headers(part: tuple[Any, ...]) -> None:
    with pytest.raises(LocalProtocolError, match="contains a control character"):
        MultipartBody(files={"f": part})


def test_multipart_bytes_field_names_are_utf8() -> None:
    body = MultipartBody(data={"é".encode(): "v"}, boundary=B)  # type: ignore[dict-item]
    assert 'name="é"'.encode() in sync_bytes(body)


async def test_multipart_seekable_replay(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    with path.open("rb") as f:
        f.seek(3)  # only the rest of the file is sent, on every replay
        body = MultipartBody(files={"f": ("d.bin", f)}, data={"x": "y"}, boundary=B)
        assert body.can_replay
        first = sync_bytes(body)
        assert b"\r\n\r\n3456789\r\n--BOUNDARY--\r\n" in first
        assert body.content_length == len(first)
        assert sync_bytes(body) == first
        assert await async_bytes(body) == first
        f.seek(0, os.SEEK_END)  # moved by someone else: a replay still starts at 3
        assert sync_bytes(body) == first


def test_multipart_bytesio_size_by_seeking() -> None:
    f = io.BytesIO(b"abcdef")
    f.seek(2)
    body = MultipartBody(files={"f": ("x", f)}, boundary=B)
    content = sync_bytes(body)
    assert b"\r\n\r\ncdef\r\n" in content
    assert body.content_length == len(content)
    assert f.tell() == 6


async def test_multipart_unseekable_file_is_chunked_and_once() -> None:
    body = MultipartBody(files={"f": ("x", Unseekable(b"abc" * 50_000))}, boundary=B)
    assert body.content_length is None
    assert not body.can_replay
    content = await async_bytes(body)
    assert b"\r\n\r\n" + b"abc" * 50_000 + b"\r\n--BOUNDARY--\r\n" in content
    with pytest.raises(StreamConsumed):
        iter(body)
    headers, _ = encode_request(files={"f": ("x", Unseekable(b"abc"))}, boundary=B)
    assert headers == {
        "Content-Type": "multipart/form-data; boundary=BOUNDARY",
        "Transfer-Encoding": "chunked",
    }


def test_multipart_file_without_seekable_method() -> None:
    class ReadOnly:
        def __init__(self) -> None:
            self.data = [b"xy", b"z"]

        def read(self, size: int = -1) -> bytes:
            return self.data.pop(0) if self.data else b""

    body = MultipartBody(files={"f": ("n", ReadOnly())}, boundary=B)
    assert body.content_length is None
    assert not body.can_replay
    assert b"\r\n\r\nxyz\r\n" in sync_bytes(body)


def test_multipart_seekable_but_size_unknown() -> None:
    class NoEnd(io.BytesIO):
        def seek(self, offset: int, whence: int = 0) -> int:
            if whence == io.SEEK_END:
                raise OSError("cannot seek to the end")
            return super().seek(offset, whence)

    body = MultipartBody(files={"f": ("n", NoEnd(b"abc"))}, boundary=B)
    assert body.content_length is None
    assert body.can_replay
    assert sync_bytes(body) == sync_bytes(body)
    assert b"\r\n\r\nabc\r\n" in sync_bytes(body)


def test_multipart_tell_failure_means_unseekable() -> None:
    class BadTell(io.BytesIO):
        def tell(self) -> int:
            raise OSError("no tell")

    body = MultipartBody(files={"f": ("n", BadTell(b"abc"))}, boundary=B)
    assert not body.can_replay
    assert body.content_length is None


def test_multipart_file_read_returning_str() -> None:
    class TextLike:
        def read(self, size: int = -1) -> str:
            return "oops"

    body = MultipartBody(files={"f": ("n", TextLike())}, boundary=B)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="returned str from read"):
        sync_bytes(body)


def test_multipart_file_shrunk_after_building(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    with path.open("rb") as f:
        body = MultipartBody(files={"f": ("f", f)}, boundary=B)
        path.write_bytes(b"x" * 40)  # truncated behind our back
        with pytest.raises(LocalProtocolError, match="ended 60 bytes short of the 100 bytes"):
            sync_bytes(body)


def test_multipart_file_grown_after_building_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    with path.open("rb") as f:
        body = MultipartBody(files={"f": ("f", f)}, boundary=B)
        path.write_bytes(b"x" * 20)
        content = sync_bytes(body)
    assert len(content) == body.content_length
    assert b"\r\n\r\n" + b"x" * 10 + b"\r\n--BOUNDARY--" in content


def test_multipart_seekable_device_is_sized_by_seeking() -> None:
    with open(os.devnull, "rb") as null:  # a character device: fstat gives no size
        body = MultipartBody(files={"f": ("n", null)}, boundary=B)
        assert body.can_replay
        content = sync_bytes(body)
    assert body.content_length == len(content)
    assert b"\r\n\r\n\r\n--BOUNDARY--\r\n" in content


def test_multipart_fstat_of_a_non_regular_file() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"piped")
    os.close(write_fd)
    with open(read_fd, "rb", buffering=0) as pipe:
        body = MultipartBody(files={"f": ("p", pipe)}, boundary=B)
        assert body.content_length is None
        assert not body.can_replay
        assert b"\r\n\r\npiped\r\n" in sync_bytes(body)


@pytest.mark.parametrize("large_field", [False, True])
async def test_multipart_large_file_streamed_in_small_chunks(
    tmp_path: Path, large_field: bool
) -> None:
    size = 20 * 1024 * 1024
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        for i in range(size // CHUNK_SIZE):
            out.write(bytes([i % 256]) * CHUNK_SIZE)
    extra = b"e" * (CHUNK_SIZE * 2 + 5) if large_field else b"small"
    with path.open("rb") as f:
        body = MultipartBody(data={"extra": extra}, files={"upload": f}, boundary=B)
        headers, _ = encode_request(content=body)
        assert headers["Content-Length"] == str(body.content_length)
        prefix = (
            b'--BOUNDARY\r\nContent-Disposition: form-data; name="extra"\r\n\r\n'
            + extra
            + b'\r\n--BOUNDARY\r\nContent-Disposition: form-data; name="upload"; '
            b'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        suffix = b"\r\n--BOUNDARY--\r\n"
        assert body.content_length == len(prefix) + size + len(suffix)
        for replay in range(2):
            total = 0
            head = b""
            tail = b""
            chunks = 0
            if replay:
                iterator: Iterator[bytes] | AsyncIterator[bytes] = body.__aiter__()
            else:
                iterator = iter(body)
            while True:
                try:
                    if replay:
                        chunk = await iterator.__anext__()  # type: ignore[union-attr]
                    else:
                        chunk = next(iterator)  # type: ignore[arg-type]
                except (StopIteration, StopAsyncIteration):
                    break
                assert 0 < len(chunk) <= CHUNK_SIZE
                if len(head) < len(prefix):
                    head += chunk[: len(prefix) - len(head)]
                tail = (tail + chunk)[-(len(suffix) + CHUNK_SIZE) :]
                total += len(chunk)
                chunks += 1
            assert head == prefix
            assert tail.endswith(bytes([(size // CHUNK_SIZE - 1) % 256]) * 10 + suffix)
            assert total == body.content_length
            assert chunks >= size // CHUNK_SIZE


def test_multipart_oversized_header_piece_is_never_empty() -> None:
    body = MultipartBody(files={"f": ("n" * (CHUNK_SIZE + 10), b"x")}, boundary=B)
    chunks = list(body)
    assert all(chunks)
    assert b"".join(chunks).count(b"n" * (CHUNK_SIZE + 10)) == 1


# --- encode_request --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "headers", "content"),
    [
        ({}, {}, b""),
        ({"content": b""}, {}, b""),
        ({"content": b"abc"}, {}, b"abc"),
        ({"content": bytearray(b"abc")}, {}, b"abc"),
        ({"content": "é"}, {}, "é".encode()),
        ({"data": b"raw"}, {}, b"raw"),
        ({"data": "raw"}, {}, b"raw"),
        ({"data": {}}, {}, b""),
        (
            {"data": {"a": "1 2", "b": ["x", "y"], "c": None, "d": True, "e": False, "f": 1.5}},
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"a=1+2&b=x&b=y&c=&d=true&e=false&f=1.5",
        ),
        (
            {"data": {"q": "é&="}},
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"q=%C3%A9%26%3D",
        ),
        (
            {"json": {"a": [1, "é"], "b": None}},
            {"Content-Type": "application/json"},
            '{"a":[1,"é"],"b":null}'.encode(),
        ),
        ({"json": []}, {"Content-Type": "application/json"}, b"[]"),
    ],
)
async def test_encode_request_known_bodies(
    kwargs: dict[str, Any], headers: dict[str, str], content: bytes
) -> None:
    got_headers, body = encode_request(**kwargs)
    assert isinstance(body, BytesBody)
    # Content-Length is the real size, and absent for an empty body.
    assert got_headers == (headers | {"Content-Length": str(len(content))} if content else headers)
    assert body.content == content
    assert sync_bytes(body) == content
    assert await async_bytes(body) == content
    assert body.content_length == len(content)


def test_encode_request_sync_iterator() -> None:
    for argument in ("content", "data"):
        headers, body = encode_request(**{argument: iter([b"a", b"b"])})  # type: ignore[arg-type]
        assert headers == {"Transfer-Encoding": "chunked"}
        assert isinstance(body, IteratorBody)
        assert sync_bytes(body) == b"ab"


async def test_encode_request_async_iterator() -> None:
    for argument in ("content", "data"):
        headers, body = encode_request(**{argument: AsyncChunks([b"a", b"b"])})  # type: ignore[arg-type]
        assert headers == {"Transfer-Encoding": "chunked"}
        assert isinstance(body, AsyncIteratorBody)
        assert await async_bytes(body) == b"ab"


def test_encode_request_multipart() -> None:
    headers, body = encode_request(data={"a": "1"}, files={"f": ("x.txt", b"hi")}, boundary=B)
    assert isinstance(body, MultipartBody)
    content = sync_bytes(body)
    assert headers == {
        "Content-Type": "multipart/form-data; boundary=BOUNDARY",
        "Content-Length": str(len(content)),
    }
    assert b'name="a"\r\n\r\n1\r\n' in content
    assert b'filename="x.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n' in content


def test_encode_request_passes_a_body_through() -> None:
    original = BytesBody(b"abc")
    headers, body = encode_request(content=original)
    assert body is original
    assert headers == {"Content-Length": "3"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"content": b"a", "json": 1}, "pass only one of content= and json="),
        ({"content": b"a", "data": {"a": 1}}, "pass only one of content= and data="),
        ({"data": {"a": 1}, "json": 1}, "pass only one of data= and json="),
        ({"json": 1, "files": {"f": b""}}, "pass only one of json= and files="),
        ({"content": b"a", "files": {"f": b""}}, "pass only one of content= and files="),
        ({"data": b"x", "files": {"f": b""}}, "with files=, data= must be a dict, not bytes"),
        ({"content": {"a": 1}}, "content= must be bytes, str, an iterator"),
        ({"content": 12}, "content= must be bytes, str, an iterator or an async iterator"),
        ({"data": 12}, "data= must be bytes, str, an iterator or an async iterator"),
        ({"data": {"a": object()}}, "values must be str, int, float, bool or None"),
        ({"json": object()}, "not JSON serializable"),
    ],
)
def test_encode_request_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        encode_request(**kwargs)


def test_encode_request_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        encode_request(json={"x": float("nan")})


# --- properties ------------------------------------------------------------------------

_text = st.text(max_size=20)
_values = st.one_of(_text, st.binary(max_size=20), st.integers(), st.booleans(), st.none())


@given(
    data=st.dictionaries(_text, st.one_of(_values, st.lists(_values, max_size=3)), max_size=4),
    files=st.dictionaries(
        _text,
        st.tuples(st.one_of(st.none(), _text), st.one_of(_text, st.binary(max_size=200))),
        max_size=3,
    ),
)
def test_multipart_length_matches_bytes(data: dict[str, Any], files: dict[str, Any]) -> None:
    body = MultipartBody(data=data, files=files)  # a random boundary no value contains
    content = sync_bytes(body)
    assert body.content_length == len(content)
    assert body.content == content
    assert content.endswith(b"--" + body.boundary + b"--\r\n")
    parts = content.split(b"--" + body.boundary)
    assert len(parts) == 2 + sum(len(v) if isinstance(v, list) else 1 for v in data.values()) + len(
        files
    )


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=8,
)


@given(_json.filter(lambda value: value is not None))  # json=None means "no JSON body"
def test_json_round_trips(value: object) -> None:
    headers, body = encode_request(json=value)
    assert body.content is not None
    assert json.loads(body.content.decode("utf-8")) == value
    assert headers["Content-Length"] == str(len(body.content))
    compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert body.content == compact.encode("utf-8")
