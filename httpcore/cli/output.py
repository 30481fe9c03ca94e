"""What the command prints: heads, the verbose trace, and bodies on stdout.

Colour, pretty JSON and the progress bar come from `rich` (the ``cli`` extra)
when it is installed and the stream is a terminal; otherwise the output is
plain text, and a body on a pipe is written byte for byte as it arrives.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from .._core.headers import Headers
from .._core.models import AsyncResponse, BaseResponse, Request

if TYPE_CHECKING:
    from rich.console import Console

# A JSON body larger than this is not held in memory to be pretty-printed.
MAX_PRETTY_JSON = 10 * 1024 * 1024
# Headers that HTTP/2 does not send (the connection carries that meaning itself).
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade")
)


def load_rich() -> bool:
    """Is rich importable? (A `None` in `sys.modules` hides it, as in the tests.)"""
    try:
        import rich.console  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Terminal:
    """The two output streams, and what each one is attached to."""

    stdout: TextIO
    stderr: TextIO
    stdout_tty: bool
    stderr_tty: bool
    rich: bool

    @classmethod
    def from_sys(cls) -> Terminal:
        return cls(
            sys.stdout,
            sys.stderr,
            sys.stdout.isatty(),
            sys.stderr.isatty(),
            load_rich(),
        )

    def write_bytes(self, data: bytes) -> None:
        self.stdout.flush()
        self.stdout.buffer.write(data)
        self.stdout.buffer.flush()

    def console(self, stderr: bool) -> Console | None:
        """A rich console on a terminal stream, or None for plain output."""
        if not self.rich or not (self.stderr_tty if stderr else self.stdout_tty):
            return None
        from rich.console import Console

        return Console(
            file=self.stderr if stderr else self.stdout,
            force_terminal=True,
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    def notice(self, message: str) -> None:
        """A one-line message on stderr."""
        self.stderr.write(f"httpcore: {message}\n")
        self.stderr.flush()


def status_line(response: BaseResponse) -> str:
    return f"{response.protocol} {response.status_code} {response.reason_phrase}".rstrip()


def _header_lines(headers: Headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


def write_head(terminal: Terminal, response: BaseResponse) -> None:
    """The status line and headers (``-i``/``-I``), on stdout, coloured on a terminal."""
    console = terminal.console(stderr=False)
    if console is None:
        lines = [status_line(response)]
        lines += [f"{name}: {value}" for name, value in _header_lines(response.headers)]
        terminal.write_bytes(("\n".join(lines) + "\n\n").encode("latin-1", "replace"))
        return
    from rich.text import Text

    console.print(Text(status_line(response), style="bold"))
    for name, value in _header_lines(response.headers):
        console.print(Text.assemble((name, "cyan"), ": ", value))
    console.print()
    terminal.stdout.flush()


class Trace:
    """``-v``: every request sent and every response head, as they happen, on stderr."""

    def __init__(self, terminal: Terminal, follow: bool) -> None:
        self._terminal = terminal
        self._console = terminal.console(stderr=True)
        self._follow = follow

    def _line(self, text: str, style: str) -> None:
        if self._console is None:
            self._terminal.stderr.write(text + "\n")
            self._terminal.stderr.flush()
            return
        from rich.text import Text

        self._console.print(Text(text, style=style))

    def request(self, request: Request, protocol: str | None) -> None:
        """The request as sent (`protocol` is None when it failed before an answer)."""
        version = f" {protocol}" if protocol else ""
        self._line(f"> {request.method} {request.url.full_path}{version}", "bold cyan")
        for name, value in _header_lines(request.headers):
            if protocol == "HTTP/2" and name.lower() in _HOP_BY_HOP:
                continue
            if name.lower() in ("authorization", "proxy-authorization"):
                value = value.split(" ", 1)[0] + " ..."
            self._line(f"> {name}: {value}", "cyan")
        size = request.body.content_length
        self._line(">" if not size else f"> [{size} bytes of body]", "cyan")

    def exchange(self, request: Request, response: AsyncResponse) -> None:
        connection = response.protocol
        if response.tls_version is not None:
            connection += f", {response.tls_version}, {response.tls_cipher}"
        self._line(f"* {request.url.scheme}://{request.url.authority}: {connection}", "dim")
        self.request(request, "HTTP/2" if response.protocol == "HTTP/2" else "HTTP/1.1")
        style = "bold green" if response.status_code < 400 else "bold red"
        self._line(f"< {status_line(response)}", style)
        for name, value in _header_lines(response.headers):
            self._line(f"< {name}: {value}", "green")
        self._line("<", "green")
        if response.is_redirect and self._follow:
            self._line(f"* redirect to {response.headers['location']}", "dim")

    def done(self, response: BaseResponse, seconds: float) -> None:
        """The body's size as received, and the time from the first request to its end."""
        self._line(f"* {response.num_bytes_downloaded} bytes in {seconds:.3f} s", "dim")


def is_json(response: BaseResponse) -> bool:
    mime = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


def _is_text_type(response: BaseResponse) -> bool:
    mime = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    return mime.startswith("text/") or is_json(response) or mime.endswith("+xml")


async def write_body(terminal: Terminal, response: AsyncResponse) -> None:
    """The body on a terminal: pretty JSON, text with a final newline, and a
    notice instead of binary data."""
    length = response.headers.get("content-length", "")
    if is_json(response) and (not length.isdigit() or int(length) <= MAX_PRETTY_JSON):
        await response.read()
        if _write_json(terminal, response.content):
            return
    ended_with_newline = True
    first = True
    async for chunk in response.stream():
        if first and b"\0" in chunk and not _is_text_type(response):
            kind = response.headers.get("content-type", "unknown type")
            terminal.notice(
                f"binary body ({kind}, {length or 'unknown'} bytes) not shown on the terminal:"
                " use -o FILE, or redirect the output"
            )
            await response.close()
            return
        first = False
        terminal.write_bytes(chunk)
        ended_with_newline = chunk.endswith(b"\n")
    if not ended_with_newline:
        terminal.write_bytes(b"\n")


def _write_json(terminal: Terminal, content: bytes) -> bool:
    """Pretty-print a JSON body; False when it is not JSON after all."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    console = terminal.console(stderr=False)
    if console is None:
        terminal.write_bytes(json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n")
        return True
    from rich.json import JSON

    console.print(JSON.from_data(data, indent=2))
    terminal.stdout.flush()
    return True
