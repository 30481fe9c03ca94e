"""The command line: options, ``[METHOD] URL [ITEM...]``, and the help text."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import NoReturn

from .errors import UsageError

EXAMPLES = """\
examples:
  httpcore example.org                          GET http://example.org/
  httpcore -v https://example.org/              show the exchange (TLS, HTTP version) on stderr
  httpcore POST :8000/api name=ada age:=36      JSON body {"name": "ada", "age": 36}
  httpcore :8000/search q==trio X-Token:abc     query parameter and header items
  httpcore -d 'a=1&b=2' https://example.org/    a form, as curl -d
  httpcore --json @body.json https://example.org/api
  httpcore -F name=ada -F photo=@me.jpg https://example.org/upload
  httpcore -O https://example.org/big.iso       download (progress bar on a terminal)
  httpcore -C -o big.iso https://example.org/big.iso   resume a download
  httpcore -a user https://example.org/private  asks for the password

items (after the URL):
  Name:value   header           Name:   removes a default header
  name==value  query parameter
  name=value   JSON string field (or a form field with name@file)
  name:=json   raw JSON field   name@path   multipart file upload

exit status: 0 ok, 1 usage or local file error, 2 network/TLS/timeout error,
4/5 HTTP 4xx/5xx with --fail, 130 interrupted.
"""

# A first word that is one of these (any case), or any all-capitals word, is the method.
KNOWN_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)
_METHOD_RE = re.compile(r"[A-Za-z]+")
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see httpcore --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="httpcore",
        usage="httpcore [OPTIONS] [METHOD] URL [ITEM ...]",
        description="Send an HTTP request and print the response body (HTTP/1.1 and HTTP/2).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    add = parser.add_argument
    add("words", nargs="*", metavar="[METHOD] URL [ITEM]", help=argparse.SUPPRESS)

    request = parser.add_argument_group("request")
    request.add_argument("-X", "--method", help="HTTP method (default GET, or POST with a body)")
    request.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="add a header (repeatable); 'NAME:' removes a default header",
    )
    request.add_argument(
        "-p", "--param", action="append", default=[], metavar="K=V", help="add a query parameter"
    )
    request.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="DATA",
        help="request body: a string, @FILE or @- (stdin); several are joined with '&'; "
        "sent as application/x-www-form-urlencoded unless -H sets a Content-Type",
    )
    request.add_argument(
        "--json", metavar="JSON", help="JSON body (a string, @FILE or @-), checked before sending"
    )
    request.add_argument(
        "-F",
        "--form",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="multipart field; NAME=@PATH[;type=MIME][;filename=NAME] uploads a file",
    )
    request.add_argument("-A", "--user-agent", metavar="AGENT", help="User-Agent header")
    request.add_argument("-b", "--cookie", metavar="'N=V; ...'|FILE", help="send cookies")
    request.add_argument(
        "-c", "--cookie-jar", metavar="FILE", help="save cookies to FILE (Netscape format)"
    )
    request.add_argument(
        "-a", "--auth", metavar="USER[:PASS]", help="credentials (asks for PASS when omitted)"
    )
    request.add_argument(
        "--auth-type", choices=["basic", "digest"], default="basic", help="default basic"
    )

    connection = parser.add_argument_group("connection")
    version = connection.add_mutually_exclusive_group()
    version.add_argument(
        "--http2", action="store_true", help="HTTP/2 only (ALPN on https, prior knowledge on http)"
    )
    version.add_argument("--http1", action="store_true", help="HTTP/1.1 only")
    connection.add_argument("--proxy", metavar="URL", help="send the request through a proxy")
    connection.add_argument("--cacert", metavar="FILE", help="CA certificates to trust (PEM)")
    connection.add_argument("--cert", metavar="FILE", help="client certificate (PEM, with key)")
    connection.add_argument("--key", metavar="FILE", help="private key for --cert")
    connection.add_argument(
        "-k", "--no-verify", action="store_true", help="do not check the server's certificate"
    )
    connection.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="every timeout (default 30; 'none' disables)",
    )
    for phase in ("connect", "read", "write"):
        connection.add_argument(
            f"--{phase}-timeout",
            type=_seconds,
            default=...,
            metavar="SECONDS",
            help=f"the {phase} timeout",
        )
    connection.add_argument(
        "-L",
        "--follow",
        dest="follow",
        action="store_true",
        default=True,
        help="follow redirects (the default)",
    )
    connection.add_argument(
        "--no-follow", dest="follow", action="store_false", help="do not follow redirects"
    )
    connection.add_argument(
        "--max-redirects", type=_count, default=20, metavar="N", help="default 20"
    )

    output = parser.add_argument_group("output")
    output.add_argument(
        "-i", "--include", action="store_true", help="print the response head before the body"
    )
    output.add_argument(
        "-I", "--head", action="store_true", help="send HEAD and print the response head"
    )
    output.add_argument(
        "-v", "--verbose", action="store_true", help="show requests, responses, TLS on stderr"
    )
    output.add_argument("-o", "--output", metavar="FILE", help="write the body to FILE")
    output.add_argument(
        "-O",
        "--download",
        action="store_true",
        help="save the body under the name the server or the URL gives",
    )
    output.add_argument(
        "-C",
        "--continue",
        dest="resume",
        action="store_true",
        help="resume a download (-o/-O) where the file ends",
    )
    output.add_argument("-s", "--silent", action="store_true", help="no progress bar or notices")
    output.add_argument(
        "-f", "--fail", action="store_true", help="exit 4/5 on HTTP 4xx/5xx, without the body"
    )
    output.add_argument("--traceback", action="store_true", help="show Python tracebacks of errors")
    output.add_argument("--version", action="store_true", help="show versions and exit")
    return parser


def _seconds(value: str) -> float | None:
    if value.lower() == "none":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value!r}")
    return seconds


def _count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}")
    return int(value)


def split_words(words: Sequence[str]) -> tuple[str | None, str, list[str]]:
    """``[METHOD] URL [ITEM...]`` into (method, url, items)."""
    if not words:
        raise UsageError("no URL given (see httpcore --help)")
    method = None
    first = words[0]
    if (
        len(words) > 1
        and _METHOD_RE.fullmatch(first)
        and (first.upper() in KNOWN_METHODS or first.isupper())
    ):
        method, words = first.upper(), words[1:]
    return method, normalize_url(words[0]), list(words[1:])


def normalize_url(url: str) -> str:
    """Add ``http://`` to a scheme-less URL, as curl and HTTPie do (``:8000/x`` is localhost)."""
    if _SCHEME_RE.match(url):
        return url
    if url.startswith(":"):
        return "http://localhost" + url
    return "http://" + url
