"""``-o``/``-O``/``--continue``: bodies streamed to disk, and the progress bar.

A download holds one chunk (at most 1 MiB) in memory at a time, whatever its
size. Files are written synchronously from the trio task: local disk writes
are short, and nothing else runs meanwhile that they could hold up.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from email.message import Message
from typing import BinaryIO, cast
from urllib.parse import unquote

from .._core.models import AsyncResponse
from .._core.urls import URL
from .errors import Failure, UsageError
from .output import Terminal

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


# -- progress ------------------------------------------------------------------------


class NoProgress:
    """What a download reports its progress to when no bar is shown."""

    def start(self, name: str, total: int | None, completed: int) -> None:
        pass

    def update(self, completed: int) -> None:
        pass

    def finish(self) -> None:
        pass


class PlainProgress(NoProgress):
    """A one-line progress report on a terminal, for when rich is not installed."""

    INTERVAL = 0.2

    def __init__(self, terminal: Terminal) -> None:
        self._terminal = terminal
        self._name = ""
        self._total: int | None = None
        self._first = 0
        self._completed = 0
        self._started = 0.0
        self._shown = 0.0

    def start(self, name: str, total: int | None, completed: int) -> None:
        self._name, self._total = name, total
        self._first = self._completed = completed
        self._started = self._shown = time.monotonic()
        self._show()

    def update(self, completed: int) -> None:
        self._completed = completed
        if time.monotonic() - self._shown >= self.INTERVAL:
            self._show()

    def finish(self) -> None:
        self._show()
        self._terminal.stderr.write("\n")
        self._terminal.stderr.flush()

    def _show(self) -> None:
        now = time.monotonic()
        self._shown = now
        rate = (self._completed - self._first) / max(now - self._started, 1e-6)
        parts = [self._name, human_bytes(self._completed)]
        if self._total is not None:
            parts[-1] += f" / {human_bytes(self._total)}"
            percent = 100 * self._completed / self._total if self._total else 100.0
            parts.append(f"{percent:.0f}%")
        parts.append(f"{human_bytes(int(rate))}/s")
        if self._total is not None and rate > 0:
            parts.append(f"ETA {human_time((self._total - self._completed) / rate)}")
        self._terminal.stderr.write("\r" + "  ".join(parts) + "\x1b[K")
        self._terminal.stderr.flush()


class RichProgress(NoProgress):
    """rich's progress bar: bytes, rate and time left."""

    def __init__(self, terminal: Terminal) -> None:
        from rich import progress

        console = terminal.console(stderr=True)
        self._progress = progress.Progress(
            progress.TextColumn("{task.description}"),
            progress.BarColumn(),
            progress.DownloadColumn(),
            progress.TransferSpeedColumn(),
            progress.TimeRemainingColumn(),
            console=console,
        )
        self._task = progress.TaskID(0)

    def start(self, name: str, total: int | None, completed: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task(name, total=total, completed=completed)

    def update(self, completed: int) -> None:
        self._progress.update(self._task, completed=completed)

    def finish(self) -> None:
        self._progress.stop()


def make_progress(terminal: Terminal, silent: bool) -> NoProgress:
    """The bar on a terminal's stderr (rich's, or a plain line), else none."""
    if silent or not terminal.stderr_tty:
        return NoProgress()
    return RichProgress(terminal) if terminal.rich else PlainProgress(terminal)


def human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value, units = size / 1024, ["KiB", "MiB", "GiB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.1f} {units[0]}"


def human_time(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# -- file names ----------------------------------------------------------------------


def safe_name(name: str) -> str | None:
    """The last path component of `name`, if it is a usable file name here."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or any(ord(c) < 32 or c == "\x7f" for c in name):
        return None
    return name.lstrip(".") or None


def name_from_url(url: URL) -> str:
    return safe_name(unquote(url.path)) or "index.html"


def name_from_response(response: AsyncResponse) -> str:
    """The file name for ``-O``: from ``Content-Disposition``, else the URL's path.

    Never a path: only the last component is kept, so a download cannot land
    outside the current directory.
    """
    disposition = response.headers.get("content-disposition")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        filename = message.get_filename()
        if filename:
            name = safe_name(filename)
            if name is not None:
                return name
    return name_from_url(response.url)


def create_unique(name: str) -> tuple[str, BinaryIO]:
    """Create `name`, or `name-1`, `name-2`, ... when it exists: never overwrite."""
    stem, dot, extension = name.partition(".")  # safe_name strips leading dots
    candidate = name
    for number in range(1, 1000):
        try:
            return candidate, open(candidate, "xb")
        except FileExistsError:
            candidate = f"{stem}-{number}{dot}{extension}"
    raise UsageError(f"cannot find a free file name for {name}")


def open_output(path: str, mode: str) -> BinaryIO:
    try:
        return cast(BinaryIO, open(path, mode))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


# -- resuming ------------------------------------------------------------------------


def existing_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def check_resumed(response: AsyncResponse, offset: int) -> None:
    """A 206 must continue exactly where the file ends."""
    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
    if match is None or int(match[1]) != offset:
        got = response.headers.get("content-range", "none")
        raise Failure(
            f"cannot resume {response.url}: asked for bytes from {offset}, got range {got}", 2
        )


# -- saving --------------------------------------------------------------------------


def file_writer(file: BinaryIO, name: str) -> Callable[[bytes], None]:
    """`file.write`, with a failure (disk full...) told as a one-line error."""

    def write(data: bytes) -> None:
        try:
            file.write(data)
        except OSError as exc:
            raise UsageError(f"cannot write {name}: {exc.strerror}") from None

    return write


async def save(
    response: AsyncResponse,
    write: Callable[[bytes], None],
    name: str,
    progress: NoProgress,
    offset: int,
) -> None:
    """Stream the decoded body to `write` chunk by chunk, reporting progress."""
    length = response.headers.get("content-length", "")
    # Both count bytes as received (before decoding), so a compressed body's bar is right.
    total = offset + int(length) if length.isdigit() else None
    progress.start(name, total, offset)
    try:
        async for chunk in response.stream():
            write(chunk)
            progress.update(offset + response.num_bytes_downloaded)
    finally:
        progress.finish()
