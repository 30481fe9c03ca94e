"""Raw HTTP/1.1 response heads: dropping `Set-Cookie` fields that hold control bytes.

RFC 6265bis has a user agent ignore a set-cookie-string with a control
character in it, and RFC 9110 §5.5 lets a recipient refuse a field value with
CR, LF or NUL. The codecs (`h1codec`) refuse such a head as a whole, except
when the offending field is a `Set-Cookie`: that field alone is dropped and the
rest of the head parsed again. This module is the byte-level part of that rule;
it runs only after a parser has refused a head, never on the normal path.
"""

from __future__ import annotations

import re

# Control bytes other than HTAB (CR and LF within a line included).
CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_SET_COOKIE = b"set-cookie"


def drop_bad_set_cookies(data: bytes) -> tuple[bytes, int]:
    """`data` without its `Set-Cookie` fields that hold a control byte, and how many went.

    `data` is what a server sent from the start of a response: any 1xx heads,
    the final head, then possibly body bytes (passed through untouched), or a
    head cut short (its last line is judged on what arrived of it). Lines end
    in LF, with an optional CR before it. A field is judged on its first line;
    its obsolete continuation lines (starting with a space or a tab) go with it
    (a control byte in one of those fails the head, as in any other field).
    """
    out: list[bytes] = []
    dropped = 0
    dropping = False  # the continuation lines of a dropped field follow
    status_line = True  # the next line starts a head
    final = False  # the current head is not a 1xx one
    pos = 0
    size = len(data)
    while pos < size:
        newline = data.find(b"\n", pos)
        end = size if newline == -1 else newline + 1
        line = data[pos:end]
        pos = end
        if status_line:
            status_line = False
            parts = line.split(b" ", 2)
            final = not (len(parts) > 1 and parts[1].startswith(b"1"))
        elif line.startswith((b" ", b"\t")):
            if dropping:
                continue
        elif line.split(b":", 1)[0].lower() == _SET_COOKIE and CONTROL.search(_content(line)):
            dropping = True
            dropped += 1
            continue
        elif line in (b"\r\n", b"\n"):  # the end of a head
            out.append(line)
            if final:
                out.append(data[pos:])
                break
            status_line = True
            continue
        dropping = False
        out.append(line)
    return (b"".join(out) if dropped else data), dropped


def _content(line: bytes) -> bytes:
    """A line without its line end (LF, or CR LF)."""
    if line.endswith(b"\n"):
        line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
    return line
