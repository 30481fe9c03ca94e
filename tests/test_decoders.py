from __future__ import annotations

import gzip
import os
import types
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import brotli
import chardet
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from httpcore._core.decoders import (
    MAX_CHUNK,
    SUPPORTED_ENCODINGS,
    BrotliDecoder,
    ContentDecoder,
    DeflateDecoder,
    GZipDecoder,
    IdentityDecoder,
    IncrementalTextDecoder,
    LineDecoder,
    MultiDecoder,
    ZstdDecoder,
    _build_decoder,
    _coding_table,
    _import_optional,
    _supported,
    accept_encoding_header,
    decoder_for,
    guess_encoding,
)
from httpcore._core.exceptions import DecodingError

# Compressible but not trivial: random bytes, repeated text and a long run.
TEXT = os.urandom(5000) + b"The quick brown fox jumps over the lazy dog. " * 4000 + b"z" * 300_000


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def zstd_frame(data: bytes, **kwargs: Any) -> bytes:
    return zstandard.ZstdCompressor(**kwargs).compress(data)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw-deflate": raw_deflate,
    "br": lambda data: brotli.compress(data, quality=4),
    "zstd": zstd_frame,
}


def coding_of(name: str) -> str:
    return "deflate" if name == "raw-deflate" else name


def run(decoder: ContentDecoder, chunks: Iterable[bytes]) -> list[bytes]:
    """Feed every chunk, then flush; return what the decoder yielded."""
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(decoder.decode(chunk))
    out.extend(decoder.flush())
    return out


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def check_chunks(out: list[bytes]) -> None:
    assert all(0 < len(chunk) <= MAX_CHUNK for chunk in out)


# --- content codings ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
@pytest.mark.parametrize("size", [None, 1, 7, 4096])
def test_round_trip(name: str, size: int | None) -> None:
    body = COMPRESSORS[name](TEXT)
    chunks = [body] if size is None else pieces(body, size)
    out = run(decoder_for(coding_of(name)), chunks)
    check_chunks(out)
    assert b"".join(out) == TEXT


@given(data=st.data())
@settings(max_examples=30, deadline=None)
def test_round_trip_any_split(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(COMPRESSORS)))
    body = COMPRESSORS[name](TEXT[:20_000])
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=20)))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert b"".join(run(decoder_for(coding_of(name)), chunks)) == TEXT[:20_000]


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_empty_body(name: str) -> None:
    decoder = decoder_for(coding_of(name))
    assert run(decoder, [b"", b""]) == []


def test_deflate_is_detected_per_stream() -> None:
    # The two-byte sniff must cope with the header arriving one byte at a time.
    for body in (zlib.compress(b"hello"), raw_deflate(b"hello")):
        decoder = DeflateDecoder()
        assert list(decoder.decode(body[:1])) == []
        assert b"".join(run(decoder, [body[1:3], b"", body[3:], b""])) == b"hello"


BOMB_SIZE = 64 << 20


@pytest.fixture(scope="module")
def zeros() -> bytes:
    return bytes(BOMB_SIZE)


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
def test_bomb_is_decoded_in_bounded_chunks(name: str, zeros: bytes) -> None:
    body = COMPRESSORS[name](zeros)
    assert len(body) < BOMB_SIZE // 500
    decoder = decoder_for(coding_of(name))
    total = 0
    for chunk in [*decoder.decode(body), *decoder.flush()]:
        assert 0 < len(chunk) <= MAX_CHUNK
        assert chunk.count(0) == len(chunk)
        total += len(chunk)
    assert total == BOMB_SIZE


def test_gzip_members_are_concatenated() -> None:
    body = gzip.compress(b"one ") + gzip.compress(b"two")
    assert b"".join(run(GZipDecoder(), [body])) == b"one two"
    assert b"".join(run(GZipDecoder(), pieces(body, 5))) == b"one two"


def test_deflate_ignores_trailing_bytes() -> None:
    assert b"".join(run(DeflateDecoder(), [zlib.compress(b"data") + b"junk"])) == b"data"


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(b"data") + b"trailing garbage"),
        ("gzip", gzip.compress(b"data")[:-8] + b"\0\0\0\0\0\0\0\0"),  # bad CRC
        ("deflate", zlib.compress(b"data")[:2] + b"\xff" * 10),
        ("deflate", b"\xff\xff\xff\xff"),
        ("br", b"\xff" * 20),
        ("br", brotli.compress(b"data") + b"more"),
        ("zstd", b"not zstd"),
        ("zstd", zstd_frame(b"data") + b"\x00"),  # a partial magic is also checked
        ("zstd", zstd_frame(b"data") + b"\x00\x00\x00\x00"),
        # Block header with the reserved block type 3.
        ("zstd", b"\x28\xb5\x2f\xfd\x00\x00" + (3 << 1 | 1 | 8 << 3).to_bytes(3, "little")),
        # Raw block larger than 128 KiB.
        ("zstd", b"\x28\xb5\x2f\xfd\x00\x00" + (1 | (128 * 1024 + 1) << 3).to_bytes(3, "little")),
        # Window of 16 MiB, above the 8 MiB that RFC 9659 allows.
        ("zstd", b"\x28\xb5\x2f\xfd\x00\x70\x01\x00\x00"),
        # Corrupt compressed block (with a checksum to catch it).
        ("zstd", zstd_frame(TEXT[:5000] * 3, write_checksum=1)[:-30] + b"\x55" * 30),
    ],
)
def test_corrupt_data(coding: str, body: bytes) -> None:
    decoder = decoder_for(coding)
    with pytest.raises(DecodingError) as info:
        run(decoder, [body])
    assert info.value.request is None
    assert coding.removeprefix("x-") in str(info.value)


@pytest.mark.parametrize("name", sorted(COMPRESSORS))
@pytest.mark.parametrize("cut", [1, 4, 100])
def test_truncated_data(name: str, cut: int) -> None:
    body = COMPRESSORS[name](TEXT)[:-cut]
    decoder = decoder_for(coding_of(name))
    out = [chunk for piece in pieces(body, 1000) for chunk in decoder.decode(piece)]
    assert TEXT.startswith(b"".join(out))
    with pytest.raises(DecodingError, match="truncated"):
        list(decoder.flush())


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("deflate", b"\x78"),  # not even the two-byte header
        ("gzip", b"\x1f"),
        ("zstd", b"\x28\xb5"),  # part of the magic
        ("zstd", b"\x50\x2a\x4d\x18\x05\x00\x00\x00ab"),  # part of a skippable frame
    ],
)
def test_truncated_at_the_start(coding: str, body: bytes) -> None:
    with pytest.raises(DecodingError, match="truncated"):
        run(decoder_for(coding), [body])


def skippable(payload: bytes) -> bytes:
    return b"\x5a\x2a\x4d\x18" + len(payload).to_bytes(4, "little") + payload


@pytest.mark.parametrize("size", [None, 1, 3])
def test_zstd_frames(size: int | None) -> None:
    # Several frames: with and without checksum, content size, an empty frame,
    # skippable frames (also an empty one) and a frame of flushed blocks.
    streaming = zstandard.ZstdCompressor().compressobj()
    flushed = (
        streaming.compress(b"A" * 200_000)
        + streaming.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        + streaming.compress(b"B")
        + streaming.flush()
    )
    body = (
        skippable(b"meta")
        + zstd_frame(b"first ", write_checksum=1)
        + zstd_frame(b"")
        + skippable(b"")
        + zstd_frame(b"second ", write_content_size=0)
        + flushed
        + zstd_frame(TEXT, level=19)
    )
    chunks = [body] if size is None else pieces(body, size)
    out = run(ZstdDecoder(zstandard), chunks)
    check_chunks(out)
    assert b"".join(out) == b"first second " + b"A" * 200_000 + b"B" + TEXT


# --- brotli without an output limit (brotli < 1.2, older brotlicffi) ------------


class _UnboundedDecompressor:
    """The API of brotli < 1.2: ``process(data)`` returns all the output."""

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def process(self, data: bytes) -> bytes:
        out: bytes = self._decompressor.process(data)
        return out

    def is_finished(self) -> bool:
        return bool(self._decompressor.is_finished())


OLD_BROTLI = types.ModuleType("old_brotli")
OLD_BROTLI.Decompressor = _UnboundedDecompressor  # type: ignore[attr-defined]
OLD_BROTLI.error = brotli.error  # type: ignore[attr-defined]


def test_old_brotli_output_is_split(zeros: bytes) -> None:
    out = run(BrotliDecoder(OLD_BROTLI), [brotli.compress(zeros, quality=1)])
    check_chunks(out)
    assert sum(map(len, out)) == BOMB_SIZE


def test_old_brotli_errors() -> None:
    with pytest.raises(DecodingError, match="invalid br"):
        run(BrotliDecoder(OLD_BROTLI), [b"\xff" * 20])
    with pytest.raises(DecodingError, match="truncated br"):
        run(BrotliDecoder(OLD_BROTLI), [brotli.compress(TEXT)[:-5]])


# --- chains, unknown codings, what this install supports -----------------------


@pytest.mark.parametrize(
    ("header", "encode"),
    [
        ("gzip, br", lambda d: brotli.compress(gzip.compress(d))),
        ("br, gzip", lambda d: gzip.compress(brotli.compress(d))),
        ("deflate,zstd", lambda d: zstd_frame(raw_deflate(d))),
        (" GZIP , identity, x-gzip ", lambda d: gzip.compress(gzip.compress(d))),
        (
            "gzip, gzip, gzip, gzip, gzip",
            lambda d: gzip.compress(gzip.compress(gzip.compress(gzip.compress(gzip.compress(d))))),
        ),
    ],
)
@pytest.mark.parametrize("size", [None, 1, 100])
def test_chains(header: str, encode: Callable[[bytes], bytes], size: int | None) -> None:
    data = TEXT[:50_000]
    body = encode(data)
    chunks = [body] if size is None else pieces(body, size)
    assert b"".join(run(decoder_for(header), chunks)) == data


def test_chain_bomb(zeros: bytes) -> None:
    body = brotli.compress(gzip.compress(zeros), quality=5)
    out = run(decoder_for("gzip, br"), [body])
    check_chunks(out)
    assert sum(map(len, out)) == BOMB_SIZE


def test_chain_truncated_inside() -> None:
    # The outer brotli stream is complete; the gzip stream inside it is not.
    body = brotli.compress(gzip.compress(TEXT)[:-3])
    decoder = decoder_for("gzip, br")
    with pytest.raises(DecodingError, match="truncated gzip"):
        run(decoder, [body])


def test_multi_decoder_order() -> None:
    decoder = MultiDecoder([DeflateDecoder(), GZipDecoder()])
    assert b"".join(run(decoder, [gzip.compress(zlib.compress(b"inner"))])) == b"inner"


def test_too_many_codings() -> None:
    with pytest.raises(DecodingError, match="too many content codings"):
        decoder_for("gzip, gzip, gzip, gzip, gzip, gzip")
    with pytest.raises(DecodingError):
        decoder_for("identity," * 6)


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (None, IdentityDecoder),
        ("", IdentityDecoder),
        ("identity", IdentityDecoder),
        (" , ", IdentityDecoder),
        ("gzip", GZipDecoder),
        ("x-gzip", GZipDecoder),
        ("Deflate", DeflateDecoder),
        ("br", BrotliDecoder),
        ("zstd", ZstdDecoder),
        ("identity, gzip", GZipDecoder),
        ("gzip, br", MultiDecoder),
        ("compress", IdentityDecoder),
        ("gzip, bogus", IdentityDecoder),
        ("bogus, gzip", IdentityDecoder),
    ],
)
def test_decoder_for(header: str | None, kind: type) -> None:
    assert type(decoder_for(header)) is kind


def test_decoders_are_fresh() -> None:
    assert decoder_for("gzip") is not decoder_for("gzip")


def test_unknown_coding_passes_through() -> None:
    body = gzip.compress(b"data")
    assert b"".join(run(decoder_for("gzip, snappy"), [body])) == body


def test_identity_splits_large_chunks() -> None:
    data = os.urandom(MAX_CHUNK * 2 + 10)
    out = list(IdentityDecoder().decode(data))
    assert [len(chunk) for chunk in out] == [MAX_CHUNK, MAX_CHUNK, 10]
    assert b"".join(out) == data
    assert list(IdentityDecoder().decode(b"")) == []


def test_supported_encodings_of_this_install() -> None:
    assert SUPPORTED_ENCODINGS == ("gzip", "deflate", "br", "zstd")
    assert accept_encoding_header() == "gzip, deflate, br, zstd"


def test_without_optional_packages() -> None:
    table = _coding_table(None, None)
    assert _supported(table) == ("gzip", "deflate")
    for header in ("br", "zstd", "gzip, br"):
        decoder = _build_decoder(header, table)
        assert type(decoder) is IdentityDecoder
    assert type(_build_decoder("gzip", table)) is GZipDecoder


def test_import_optional() -> None:
    assert _import_optional("httpcore_no_such_module") is None
    assert _import_optional("httpcore_no_such_module", "zlib") is zlib
    assert _import_optional("brotli", "brotlicffi") is brotli


# --- text ----------------------------------------------------------------------

LATIN_1 = (
    "Le coeur de la ville était déjà éveillé quand Hélène traversa la place. Les marchés"
    " débordaient de fraîcheur: pêches, cerises, fèves et crème épaisse. À côté de l'église,"
    " un garçon jouait du violon près de la fontaine où les élèves s'étaient réunis après"
    " l'école. Ça sentait le café grillé et le pain doré."
)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html; charset=ISO-8859-1", b"caf\xe9", "ISO-8859-1"),
        ('text/html; Charset="utf-16"', "hi".encode("utf-16"), "utf-16"),
        ("text/plain;charset=latin1 ; format=flowed", b"x", "latin1"),
        ("text/plain; charset=no-such-codec", "é".encode(), "utf-8"),
        ("text/plain; charset=base64", b"aGk=", "utf-8"),  # not a text codec
        ("text/plain; charset=", b"abc", "utf-8"),
        ("text/plain", "naïve ☃".encode(), "utf-8"),
        (None, b"", "utf-8"),
        ("text/plain; format=flowed", b"abc", "utf-8"),
        # Unlabelled Latin-1: chardet is unsure (or says ISO-8859-1): windows-1252.
        (None, LATIN_1.encode("latin-1"), "windows-1252"),
        ("text/plain; charset=bogus", LATIN_1.encode("latin-1"), "windows-1252"),
        # A byte windows-1252 leaves undefined (0x81): ISO-8859-1, which maps every byte.
        ("application/octet-stream", bytes(range(256)) * 4, "iso-8859-1"),
    ],
)
def test_guess_encoding(content_type: str | None, body: bytes, expected: str) -> None:
    assert guess_encoding(content_type, body) == expected


# Short Western text that chardet, left alone, reads as a DOS code page or as
# Cyrillic (cp850, Windows-1251, MacCyrillic...): it must come out as written.
WESTERN = [
    "Hé, ça va?",
    "Noël à Paris",
    "déjà vu",
    "naïve façade résumé",
    "Prix: 12 € — très cher!",
    "L’été “chaud”",  # noqa: RUF001 (typographic quotes are the point)
    "Grüße aus Köln! Die schöne Straße führt über die Brücke.",
    "¿Dónde está la estación? Mañana.",
    LATIN_1,
]


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (text, codec)
        for text in WESTERN
        for codec in ("latin-1", "windows-1252")
        if _encodable(text, codec)
    ],
)
def test_unlabelled_western_text_decodes_as_written(text: str, codec: str) -> None:
    body = text.encode(codec)
    encoding = guess_encoding(None, body)
    assert encoding in {"windows-1252", "iso-8859-1"}
    assert body.decode(encoding) == text


# Scripts chardet detects reliably from a sentence keep its answer.
OTHER_SCRIPTS = [
    ("Съешь же ещё этих мягких французских булок, да выпей чаю.", "windows-1251"),
    ("Съешь же ещё этих мягких французских булок, да выпей чаю.", "koi8-r"),
    ("Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.", "cp1253"),  # noqa: RUF001
    ("日本語のテキストです。東京は日本の首都です。", "shift_jis"),
    ("中文文本。北京是中国的首都。我们今天去公园散步。", "gb18030"),
    ("مرحبا بالعالم، هذه جملة عربية.", "cp1256"),
]


@pytest.mark.parametrize(("text", "codec"), OTHER_SCRIPTS)
def test_detected_scripts(text: str, codec: str) -> None:
    body = text.encode(codec)
    encoding = guess_encoding(None, body)
    assert encoding not in {"windows-1252", "iso-8859-1"}
    assert body.decode(encoding) == text


def test_unsure_or_undecodable_guess_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "Съешь же ещё этих мягких французских булок".encode("cp1251")
    calls: list[dict[str, Any]] = []

    def fake_detect(sample: bytes, **kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return answer

    monkeypatch.setattr(chardet, "detect", fake_detect)
    answer: dict[str, Any] = {"encoding": "Windows-1251", "confidence": 0.19}
    assert guess_encoding(None, body) == "windows-1252"  # below the threshold
    answer = {"encoding": "utf-16", "confidence": 0.9}  # cannot decode an odd length
    assert guess_encoding(None, body + b"!") == "windows-1252"
    answer = {"encoding": "base64", "confidence": 0.9}  # not a text codec
    assert guess_encoding(None, body) == "windows-1252"
    answer = {"encoding": None, "confidence": None}
    assert guess_encoding(None, body) == "windows-1252"
    answer = {"encoding": "Windows-1251", "confidence": 0.2}
    assert guess_encoding(None, body) == "Windows-1251"
    assert calls[0] == {"encoding_era": chardet.EncodingEra.MODERN_WEB}


def test_guessed_encoding_decodes() -> None:
    body = LATIN_1.encode("latin-1")
    assert body.decode(guess_encoding(None, body)) == LATIN_1


def test_incremental_text_decoder() -> None:
    data = "naïve ☃ snow".encode()
    decoder = IncrementalTextDecoder("utf-8")
    assert "".join(decoder.decode(bytes([b])) for b in data) + decoder.flush() == "naïve ☃ snow"
    decoder = IncrementalTextDecoder("utf-8")
    assert decoder.decode(b"ok \xff ") == "ok \ufffd "
    assert decoder.decode(b"\xe2\x98") == ""
    assert decoder.flush() == "\ufffd"
    assert IncrementalTextDecoder("utf-16").decode("hi".encode("utf-16")) == "hi"


@pytest.mark.parametrize("encoding", ["no-such-codec", "base64", "rot13"])
def test_incremental_text_decoder_unknown(encoding: str) -> None:
    with pytest.raises(LookupError):
        IncrementalTextDecoder(encoding)


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        (["a\nb\n"], ["a", "b"]),
        (["a\nb"], ["a", "b"]),
        (["a\r\nb\rc\n"], ["a", "b", "c"]),
        (["a\r", "\nb"], ["a", "b"]),  # one line break split across chunks
        (["a\r", "\n", "\n"], ["a", ""]),
        (["a\r", "", "\nb"], ["a", "b"]),
        (["a\r", "\r", "\n"], ["a", ""]),
        (["a\r", "b"], ["a", "b"]),
        (["ab", "cd", "e\nf", "g"], ["abcde", "fg"]),
        (["\n\n"], ["", ""]),
        (["", "x"], ["x"]),
        ([], []),
        (["a\n", "\n"], ["a", ""]),
    ],
)
def test_line_decoder(chunks: list[str], lines: list[str]) -> None:
    decoder = LineDecoder()
    out = [line for chunk in chunks for line in decoder.decode(chunk)]
    assert out + decoder.flush() == lines
    assert decoder.flush() == []


def test_line_decoder_yields_as_soon_as_complete() -> None:
    decoder = LineDecoder()
    assert decoder.decode("one\ntw") == ["one"]
    assert decoder.decode("o\r") == ["two"]
    assert decoder.decode("\nthree") == []
    assert decoder.flush() == ["three"]


@given(st.text(alphabet="ab\r\n"), st.lists(st.integers(0, 50)))
def test_line_decoder_matches_splitlines(text: str, cuts: list[int]) -> None:
    bounds = sorted(min(cut, len(text)) for cut in cuts)
    chunks = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    decoder = LineDecoder()
    out = [line for chunk in chunks for line in decoder.decode(chunk)]
    assert out + decoder.flush() == text.splitlines()
