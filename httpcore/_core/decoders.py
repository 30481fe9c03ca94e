"""Response body decoding: content codings (SPEC §6) and text (SPEC §2).

Content decoders share one streaming interface, ``decode(data) -> Iterator[bytes]``
and ``flush() -> Iterator[bytes]``. The iterators are lazy (errors surface while
iterating) and must be exhausted before the decoder is used again. Every chunk
they yield is non-empty and at most ``MAX_CHUNK`` (1 MiB) long, and no single
decompression step produces much more than that, so a compression bomb is
decoded in bounded memory:

- gzip / deflate: ``zlib`` decompress objects with ``max_length`` and
  ``unconsumed_tail``.
- br: brotli >= 1.2 offers ``process(data, output_buffer_limit=...)``; the
  limit is soft (the output buffer grows in blocks past it), so we ask for
  half a MiB, which stays below 1 MiB. Older brotli / brotlicffi have no limit:
  there we can only split the output into 1 MiB chunks.
- zstd: ``zstandard``'s decompressobj has no output limit, so we parse the
  frame and block headers (RFC 8878) ourselves and feed the decompressor at
  most 8 blocks at a time. A block never regenerates more than 128 KiB, so one
  step yields at most 1 MiB. The window is capped at 8 MiB, as RFC 9659
  requires for the HTTP ``zstd`` coding, which also bounds the decoder's own
  buffer.

An empty body decodes to nothing under every coding (HEAD, 204 and 304
responses often carry a ``Content-Encoding``).
"""

from __future__ import annotations

import codecs
import importlib
import re
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from types import MappingProxyType, ModuleType
from typing import Any, Protocol

import chardet

from .exceptions import DecodingError

__all__ = [
    "MAX_CHUNK",
    "MAX_CODINGS",
    "SUPPORTED_ENCODINGS",
    "BrotliDecoder",
    "ContentDecoder",
    "DeflateDecoder",
    "GZipDecoder",
    "IdentityDecoder",
    "IncrementalTextDecoder",
    "LineDecoder",
    "MultiDecoder",
    "ZstdDecoder",
    "accept_encoding_header",
    "decoder_for",
    "guess_encoding",
]

MAX_CHUNK = 1 << 20
"""The most bytes a content decoder yields (and inflates) in one step."""

MAX_CODINGS = 5
"""The longest chain of content codings we agree to undo."""


class ContentDecoder(Protocol):
    """What every content decoder offers."""

    def decode(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


def _split(data: bytes) -> Iterator[bytes]:
    """Yield ``data`` in non-empty pieces of at most ``MAX_CHUNK`` bytes."""
    if len(data) <= MAX_CHUNK:
        if data:
            yield data
        return
    view = memoryview(data)
    for start in range(0, len(data), MAX_CHUNK):
        yield bytes(view[start : start + MAX_CHUNK])


class IdentityDecoder:
    """Passes the data through unchanged (split into chunks of at most 1 MiB)."""

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield ``data`` as is. Never raises."""
        return _split(data)

    def flush(self) -> Iterator[bytes]:
        """Yield nothing: identity keeps no state."""
        return iter(())


class _ZlibDecoder:
    _name = "deflate"

    def __init__(self) -> None:
        self._obj: Any = None  # zlib's decompress object, made on the first bytes

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        obj = self._obj
        while True:
            try:
                out = obj.decompress(data, MAX_CHUNK)
            except zlib.error as exc:
                raise DecodingError(f"invalid {self._name} data: {exc}") from exc
            if out:
                yield out
            if obj.eof:
                data = self._after_end(obj.unused_data)
                if not data:
                    return
                obj = self._obj
                continue
            data = obj.unconsumed_tail
            # A full buffer may leave output inside zlib even with no input left.
            if not data and len(out) < MAX_CHUNK:
                return

    def _after_end(self, unused: bytes) -> bytes:
        # Bytes after the end of a deflate stream are ignored, as zlib does.
        return b""

    def flush(self) -> Iterator[bytes]:
        """Check the stream ended; raise ``DecodingError`` if it was cut short."""
        if self._obj is not None and not self._obj.eof:
            raise DecodingError(f"truncated {self._name} data")
        yield from ()


class GZipDecoder(_ZlibDecoder):
    """Decodes ``gzip`` (and ``x-gzip``), including several concatenated members.

    ``decode`` raises ``DecodingError`` on corrupt data, ``flush`` when the last
    member is incomplete.
    """

    _name = "gzip"

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decompressed bytes ``data`` completes."""
        if not data:
            return iter(())
        if self._obj is None:
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return self._inflate(data)

    def _after_end(self, unused: bytes) -> bytes:
        if unused:
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        return unused


def _is_zlib_header(cmf: int, flg: int) -> bool:
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0


class DeflateDecoder(_ZlibDecoder):
    """Decodes ``deflate``: zlib-wrapped (RFC 1950) or raw (RFC 1951) deflate.

    The two are told apart by the first two bytes. ``decode`` raises
    ``DecodingError`` on corrupt data, ``flush`` when the stream is incomplete.
    Bytes after the end of the stream are ignored.
    """

    def __init__(self) -> None:
        super().__init__()
        self._head = b""

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decompressed bytes ``data`` completes."""
        if self._obj is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return iter(())
            self._head = b""
            wbits = zlib.MAX_WBITS if _is_zlib_header(data[0], data[1]) else -zlib.MAX_WBITS
            self._obj = zlib.decompressobj(wbits)
        elif not data:
            return iter(())
        return self._inflate(data)

    def flush(self) -> Iterator[bytes]:
        """Check the stream ended; raise ``DecodingError`` if it was cut short."""
        if self._head:
            raise DecodingError("truncated deflate data")
        yield from super().flush()


# brotli's output limit is soft: the buffer may end up to about twice as large.
_BROTLI_STEP = MAX_CHUNK // 2


class BrotliDecoder:
    """Decodes ``br`` with ``module``, the imported ``brotli`` or ``brotlicffi``.

    ``decode`` raises ``DecodingError`` on corrupt data, ``flush`` when the
    stream is incomplete.
    """

    def __init__(self, module: ModuleType) -> None:
        self._error: type[Exception] = module.error
        self._decompressor = module.Decompressor()
        self._bounded = hasattr(self._decompressor, "can_accept_more_data")
        self._received = False

    def _process(self, data: bytes, **kwargs: int) -> bytes:
        try:
            out: bytes = self._decompressor.process(data, **kwargs)
        except self._error as exc:
            raise DecodingError(f"invalid br data: {exc}") from exc
        return out

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decompressed bytes ``data`` completes."""
        if not data:
            return
        self._received = True
        if not self._bounded:
            yield from _split(self._process(data))
            return
        out = self._process(data, output_buffer_limit=_BROTLI_STEP)
        yield from _split(out)
        # Reaching the limit means output (and maybe input) is still pending.
        while len(out) >= _BROTLI_STEP:
            out = self._process(b"", output_buffer_limit=_BROTLI_STEP)
            yield from _split(out)

    def flush(self) -> Iterator[bytes]:
        """Check the stream ended; raise ``DecodingError`` if it was cut short."""
        if self._received and not self._decompressor.is_finished():
            raise DecodingError("truncated br data")
        yield from ()


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_MAX_WINDOW = 8 << 20
_ZSTD_MAX_BLOCK = 128 << 10
_ZSTD_BLOCKS_PER_STEP = MAX_CHUNK // _ZSTD_MAX_BLOCK
# Parser states; the first four collect a fixed-size field, the rest skip bytes.
_MAGIC, _SKIP_SIZE, _FRAME_HEADER, _BLOCK_HEADER = range(4)
_SKIP_DATA, _HEADER_REST, _BLOCK_DATA, _CHECKSUM = range(4, 8)
_DID_SIZES = (0, 1, 2, 4)
_FCS_SIZES = (0, 2, 4, 8)


class ZstdDecoder:
    """Decodes ``zstd`` with ``module``, the imported ``zstandard`` package.

    Follows the frame and block headers so that each step hands the
    decompressor at most 8 blocks (at most 1 MiB of output). Several frames,
    and skippable frames, are allowed. ``decode`` raises ``DecodingError`` on
    corrupt data or a window above 8 MiB; ``flush`` when a frame is incomplete.
    """

    def __init__(self, module: ModuleType) -> None:
        self._error: type[Exception] = module.ZstdError
        self._dctx = module.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._obj: Any = None  # the current frame's decompressobj
        self._state = _MAGIC
        self._need = 4
        self._field = bytearray()
        self._last_block = False
        self._checksum = False

    def _feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out: bytes = self._obj.decompress(data)
        except self._error as exc:
            raise DecodingError(f"invalid zstd data: {exc}") from exc
        return _split(out)

    def _enter(self, state: int, need: int) -> None:
        self._state = state
        self._need = need

    def _after_block(self) -> bool:
        """Move past a finished block; True when that ended the frame."""
        if not self._last_block:
            self._enter(_BLOCK_HEADER, 3)
        elif self._checksum:
            self._enter(_CHECKSUM, 4)
        else:
            return True
        return False

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decompressed bytes ``data`` completes."""
        end = len(data)
        pos = start = 0  # data[start:pos] is still to be fed to the decompressor
        blocks = 1  # blocks touched by data[start:pos]; one may come from before
        while pos < end:
            state = self._state
            take = min(self._need, end - pos)
            if state < _SKIP_DATA:
                self._field += data[pos : pos + take]
            pos += take
            self._need -= take
            if self._need:
                break
            field = bytes(self._field)
            self._field.clear()
            frame_done = False
            if state == _MAGIC:
                start = pos
                if field == _ZSTD_MAGIC:
                    self._obj = self._dctx.decompressobj()
                    yield from self._feed(field)
                    self._enter(_FRAME_HEADER, 1)
                    blocks = 0
                elif int.from_bytes(field, "little") & 0xFFFFFFF0 == 0x184D2A50:
                    self._enter(_SKIP_SIZE, 4)
                else:
                    raise DecodingError("invalid zstd data: unknown frame magic")
            elif state == _SKIP_SIZE:
                start = pos
                size = int.from_bytes(field, "little")
                if size:
                    self._enter(_SKIP_DATA, size)
                else:
                    self._enter(_MAGIC, 4)
            elif state == _SKIP_DATA:
                start = pos
                self._enter(_MAGIC, 4)
            elif state == _FRAME_HEADER:
                descriptor = field[0]
                single_segment = descriptor >> 5 & 1
                self._checksum = bool(descriptor >> 2 & 1)
                fcs_size = _FCS_SIZES[descriptor >> 6] or single_segment
                rest = 1 - single_segment + _DID_SIZES[descriptor & 3] + fcs_size
                self._enter(_HEADER_REST, rest)
            elif state == _HEADER_REST:
                self._enter(_BLOCK_HEADER, 3)
            elif state == _BLOCK_HEADER:
                header = int.from_bytes(field, "little")
                block_type = header >> 1 & 3
                size = header >> 3
                if block_type == 3 or size > _ZSTD_MAX_BLOCK:
                    raise DecodingError("invalid zstd data: bad block header")
                self._last_block = bool(header & 1)
                blocks += 1
                if blocks > _ZSTD_BLOCKS_PER_STEP:
                    # This header is fed; its block's data goes in the next step.
                    yield from self._feed(data[start:pos])
                    start = pos
                    blocks = 1
                data_size = 1 if block_type == 1 else size
                if data_size:
                    self._enter(_BLOCK_DATA, data_size)
                else:
                    frame_done = self._after_block()
            elif state == _BLOCK_DATA:
                frame_done = self._after_block()
            else:  # _CHECKSUM
                frame_done = True
            if frame_done:
                yield from self._feed(data[start:pos])
                start = pos
                blocks = 0
                if not self._obj.eof:  # pragma: no cover - libzstd rejects such frames first
                    raise DecodingError("invalid zstd data: frame did not end")
                self._obj = None
                self._enter(_MAGIC, 4)
        if self._obj is not None and start < end:
            yield from self._feed(data[start:end])

    def flush(self) -> Iterator[bytes]:
        """Check the last frame ended; raise ``DecodingError`` if it was cut short."""
        if self._state != _MAGIC or self._field:
            raise DecodingError("truncated zstd data")
        yield from ()


class MultiDecoder:
    """Undoes a chain of content codings.

    ``decoders`` holds one decoder per coding in the order the
    ``Content-Encoding`` header lists them; they are applied last to first.
    Errors are those of the decoders.
    """

    def __init__(self, decoders: Sequence[ContentDecoder]) -> None:
        self._decoders = list(reversed(decoders))

    def _through(self, index: int, chunks: Iterator[bytes]) -> Iterator[bytes]:
        # Pass the output of decoder ``index - 1`` through decoders ``index`` onwards.
        if index == len(self._decoders):
            yield from chunks
            return
        decoder = self._decoders[index]
        for chunk in chunks:
            yield from self._through(index + 1, decoder.decode(chunk))

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the fully decoded bytes ``data`` completes."""
        return self._through(0, iter((data,)))

    def flush(self) -> Iterator[bytes]:
        """Flush each decoder in turn, passing its output down the chain."""
        for index, decoder in enumerate(self._decoders):
            yield from self._through(index + 1, decoder.flush())


def _import_optional(*names: str) -> ModuleType | None:
    """The first of ``names`` that imports, or ``None``."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


_DecoderFactory = Callable[[], ContentDecoder]


def _coding_table(
    brotli: ModuleType | None, zstandard: ModuleType | None
) -> Mapping[str, _DecoderFactory]:
    """The decoder factory of each coding we can undo with these modules."""
    table: dict[str, _DecoderFactory] = {
        "identity": IdentityDecoder,
        "gzip": GZipDecoder,
        "x-gzip": GZipDecoder,
        "deflate": DeflateDecoder,
    }
    if brotli is not None:
        table["br"] = partial(BrotliDecoder, brotli)
    if zstandard is not None:
        table["zstd"] = partial(ZstdDecoder, zstandard)
    return MappingProxyType(table)


def _supported(table: Mapping[str, _DecoderFactory]) -> tuple[str, ...]:
    return tuple(name for name in ("gzip", "deflate", "br", "zstd") if name in table)


def _build_decoder(header: str | None, table: Mapping[str, _DecoderFactory]) -> ContentDecoder:
    codings = [c for c in (t.strip().lower() for t in (header or "").split(",")) if c]
    if len(codings) > MAX_CODINGS:
        raise DecodingError(f"too many content codings ({len(codings)} > {MAX_CODINGS})")
    codings = [c for c in codings if c != "identity"]
    if any(c not in table for c in codings):
        # We cannot undo the outer codings without the inner one: leave it all.
        return IdentityDecoder()
    if not codings:
        return IdentityDecoder()
    if len(codings) == 1:
        return table[codings[0]]()
    return MultiDecoder([table[c]() for c in codings])


_CODINGS = _coding_table(_import_optional("brotli", "brotlicffi"), _import_optional("zstandard"))

SUPPORTED_ENCODINGS: tuple[str, ...] = _supported(_CODINGS)
"""The content codings this install can decode, in order of preference."""


def accept_encoding_header() -> str:
    """The ``Accept-Encoding`` value naming exactly ``SUPPORTED_ENCODINGS``."""
    return ", ".join(SUPPORTED_ENCODINGS)


def decoder_for(content_encoding: str | None) -> ContentDecoder:
    """A fresh decoder for a ``Content-Encoding`` header value (``None``: no header).

    Several header lines should be joined with ``", "``. ``identity`` and empty
    entries are skipped. If any coding is unknown (or its package is not
    installed) the body is passed through untouched. Raises ``DecodingError``
    when more than ``MAX_CODINGS`` codings are listed.
    """
    if not content_encoding:  # the usual case
        return IdentityDecoder()
    return _build_decoder(content_encoding, _CODINGS)


def _is_text_codec(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    # Rules out bytes-to-bytes and str-to-str codecs such as base64 or rot13;
    # this is the flag str.encode and bytes.decode check themselves.
    return info._is_text_encoding


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'").strip()
    return None


def charset_encoding(content_type: str | None) -> str | None:
    """The `charset` of a Content-Type value when it names a text codec, else None."""
    if content_type is None:
        return None
    charset = _charset(content_type)
    return charset if charset and _is_text_codec(charset) else None


# chardet's confidence below which its guess is not used. chardet (6 and 7) rates
# short Western European text below it, often as Cyrillic or Central European;
# the non-Latin scripts it detects reliably (Cyrillic, Greek, Arabic, Hebrew,
# CJK) from a sentence on rate above it.
DETECTION_THRESHOLD = 0.2
# chardet looks at this much of a body at most.
_DETECTION_SAMPLE = 200_000
# Guesses answered by `_western`, under one spelling.
_WESTERN = frozenset(codecs.lookup(name).name for name in ("latin-1", "windows-1252"))


def _western(body: bytes) -> str:
    """windows-1252, what browsers read unlabelled Western text as; ISO-8859-1
    (which maps every byte) when the body has a byte windows-1252 leaves undefined."""
    try:
        body.decode("windows-1252")
    except UnicodeDecodeError:
        return "iso-8859-1"
    return "windows-1252"


def guess_encoding(content_type: str | None, body: bytes) -> str:
    """The text encoding of a response body (SPEC §2).

    1. The ``charset`` of ``content_type`` when it names a known text codec
       (as written there).
    2. ``"utf-8"`` when ``body`` is valid UTF-8 (so ASCII too).
    3. What chardet detects among the encodings of the modern web, when its
       confidence is at least `DETECTION_THRESHOLD` and the guess decodes the
       whole body (a guess of ISO-8859-1 or windows-1252 is answered by 4).
    4. Otherwise ``"windows-1252"``, or ``"iso-8859-1"`` when the body has one
       of the five bytes windows-1252 leaves undefined: unlabelled Latin-1
       text decodes right, never as a DOS code page such as cp850.

    Never raises.
    """
    charset = _charset(content_type) if content_type else None
    if charset and _is_text_codec(charset):
        return charset
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    result = chardet.detect(body[:_DETECTION_SAMPLE], encoding_era=chardet.EncodingEra.MODERN_WEB)
    detected = result.get("encoding")
    if (
        detected
        and (result.get("confidence") or 0.0) >= DETECTION_THRESHOLD
        and _is_text_codec(detected)
        and codecs.lookup(detected).name not in _WESTERN
    ):
        try:
            body.decode(detected)
        except UnicodeDecodeError:
            pass
        else:
            return str(detected)
    return _western(body)


class IncrementalTextDecoder:
    """Decodes a byte stream to text, replacing undecodable bytes with U+FFFD.

    Characters split across chunks are kept until complete. Raises
    ``LookupError`` when ``encoding`` is not a known text codec.
    """

    def __init__(self, encoding: str) -> None:
        if not _is_text_codec(encoding):
            raise LookupError(f"unknown text encoding: {encoding!r}")
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def decode(self, data: bytes) -> str:
        """The text ``data`` completes."""
        return self._decoder.decode(data)

    def flush(self) -> str:
        """The rest of the text; an incomplete character becomes U+FFFD."""
        return self._decoder.decode(b"", final=True)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class LineDecoder:
    """Splits streamed text into lines, without their terminators.

    Line breaks are ``\\n``, ``\\r\\n`` and ``\\r``, also when a ``\\r\\n`` is split
    across two chunks. Like ``str.splitlines``, a final line break does not
    start another, empty line.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []  # the start of an unfinished line
        self._after_cr = False  # the last chunk ended in "\r"

    def decode(self, text: str) -> list[str]:
        """The lines ``text`` completes."""
        if not text:
            return []
        if self._after_cr and text.startswith("\n"):
            text = text[1:]  # the second half of a "\r\n" already counted
        self._after_cr = text.endswith("\r")
        if not text:
            return []
        lines = _LINE_BREAK.split(text)
        if len(lines) == 1:
            self._pending.append(text)
            return []
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
        tail = lines.pop()
        self._pending = [tail] if tail else []
        return lines

    def flush(self) -> list[str]:
        """The last line, if the text did not end with a line break."""
        line = "".join(self._pending)
        self._pending = []
        self._after_cr = False
        return [line] if line else []
