"""The ``Link`` header (RFC 8288), parsed without any I/O.

``parse_link_header('<https://api/p2>; rel="next", <https://api/p9>; rel=last')``
gives ``[{"url": "https://api/p2", "rel": "next"}, {"url": "https://api/p9",
"rel": "last"}]``. Commas and semicolons inside ``<...>`` and inside quoted
strings do not split; parameter names are lower-cased (they are
case-insensitive), and the first occurrence of a parameter wins, as RFC 8288
§3 asks for ``rel``. Elements that are not ``<url>; params`` are skipped.
"""

from __future__ import annotations

import re

__all__ = ["parse_link_header"]

_ESCAPE = re.compile(r"\\(.)")


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside ``<...>`` and quoted strings."""
    parts: list[str] = []
    start = 0
    quoted = angle = escaped = False
    for index, char in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif angle:
            angle = char != ">"
        elif char == '"':
            quoted = True
        elif char == "<":
            angle = True
        elif char == separator:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _ESCAPE.sub(r"\1", value[1:-1])
    return value


def parse_link_header(value: str) -> list[dict[str, str]]:
    """The links of a ``Link`` header value, in order: each a dict with ``url``
    and the link's parameters (``rel``, ``type``, ``title``, ...). Never raises."""
    links: list[dict[str, str]] = []
    for element in _split(value, ","):
        element = element.strip()
        end = element.find(">")
        if not element.startswith("<") or end < 0:
            continue
        link = {"url": element[1:end].strip()}
        for param in _split(element[end + 1 :], ";")[1:]:
            name, _, param_value = param.partition("=")
            name = name.strip().lower()
            if name and name != "url" and name not in link:
                link[name] = _unquote(param_value.strip())
        links.append(link)
    return links
