"""Authentication as sans-I/O generator flows.

An `Auth` turns one request into the exchange that authenticates it. Its
`auth_flow(request)` is a generator: it yields each request to send and is sent
the response to it. The client drives it::

    flow = auth.auth_flow(request)
    request = next(flow)
    while True:
        response = send(request)
        try:
            request = flow.send(response)
        except StopIteration:
            break
    # `response` (the last one) goes to the user

Flows never touch the network, so they are tested with `next()` / `send()`.
Requests are authenticated in place: a flow sets headers on the request it was
given and yields that same object again when it retries.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import quote

import idna

from .exceptions import RemoteProtocolError

if TYPE_CHECKING:
    from .models import BaseResponse, Request
    from .urls import URL

__all__ = [
    "Auth",
    "AuthTypes",
    "BasicAuth",
    "DigestAuth",
    "FunctionAuth",
    "auth_from_url",
    "build_auth",
    "build_basic_auth_header",
    "netrc_credentials",
]

AuthTypes: TypeAlias = (
    "tuple[str | bytes, str | bytes] | Callable[[Request], Request] | Auth | None"
)


class Auth:
    """Base class of authentication schemes.

    Subclasses override `auth_flow`. `requires_request_body` asks the client to
    read a streamed request body into memory before the flow starts (so the flow
    may hash it and the request may be resent); `requires_response_body` asks it
    to read each response body before sending it to the flow.
    """

    requires_request_body = False
    requires_response_body = False

    def auth_flow(self, request: Request) -> Generator[Request, BaseResponse, None]:
        """Yield the requests to send; each yield is answered with its response.

        The default sends the request unchanged.
        """
        yield request


def _header_bytes(value: str) -> bytes:
    """The bytes of text taken from a header (which Headers decodes as latin-1)."""
    return value.encode("latin-1")


def build_basic_auth_header(username: str | bytes, password: str | bytes) -> str:
    """The `Authorization` value for HTTP Basic auth (RFC 7617).

    Bytes are used as given; strings are encoded as UTF-8 (RFC 7617
    `charset="UTF-8"`, what browsers and servers expect today).
    """
    user = username if isinstance(username, bytes) else username.encode("utf-8")
    secret = password if isinstance(password, bytes) else password.encode("utf-8")
    return "Basic " + base64.b64encode(user + b":" + secret).decode("ascii")


class BasicAuth(Auth):
    """HTTP Basic auth: sends `Authorization: Basic ...` with every request.

    See `build_basic_auth_header` for how strings are encoded.
    """

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self._auth_header = build_basic_auth_header(username, password)

    def auth_flow(self, request: Request) -> Generator[Request, BaseResponse, None]:
        request.headers["Authorization"] = self._auth_header
        yield request


class FunctionAuth(Auth):
    """Wraps a callable `func(request) -> request` as an `Auth`."""

    def __init__(self, func: Callable[[Request], Request]) -> None:
        self._func = func

    def auth_flow(self, request: Request) -> Generator[Request, BaseResponse, None]:
        yield self._func(request)


# -- WWW-Authenticate parsing (RFC 9110 §11) ----------------------------------

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
# Unquoted values are accepted a little beyond `token` (servers put '/' or ':'
# in them), but never starting with '=' so that token68 padding is not a value.
_PARAM_RE = re.compile(rf'({_TOKEN})\s*=\s*({_QUOTED}|[^\s",=][^\s",]*)', re.DOTALL)
_SCHEME_RE = re.compile(rf"({_TOKEN})(?:\s+(.*))?", re.DOTALL)
_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


def _split_list(value: str) -> list[str]:
    """Split a header value on the commas that are outside quoted strings."""
    elements: list[str] = []
    current: list[str] = []
    in_quotes = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif in_quotes and char == "\\":
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            elements.append("".join(current))
            current = []
            continue
        current.append(char)
    elements.append("".join(current))
    return [element.strip() for element in elements if element.strip()]


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return _ESCAPE_RE.sub(r"\1", value[1:-1])
    return value


@dataclass
class _Challenge:
    scheme: str  # lower case
    params: dict[str, str] = field(default_factory=dict)  # names in lower case
    error: str | None = None

    def add(self, match: re.Match[str]) -> None:
        name = match.group(1).lower()
        if name in self.params:
            self.error = f"parameter {name!r} given twice"
        self.params[name] = _unquote(match.group(2))


def _parse_challenges(value: str) -> list[_Challenge]:
    """Parse one `WWW-Authenticate` value into its challenges.

    A challenge with broken syntax is returned with `.error` set, so a broken
    Basic challenge does not prevent using the Digest one next to it.
    """
    challenges: list[_Challenge] = []
    for element in _split_list(value):
        param = _PARAM_RE.fullmatch(element)
        if param is not None:
            if challenges:
                challenges[-1].add(param)
            continue
        scheme = _SCHEME_RE.fullmatch(element)
        if scheme is not None:
            challenge = _Challenge(scheme.group(1).lower())
            challenges.append(challenge)
            rest = scheme.group(2)
            if rest is None or _TOKEN68_RE.fullmatch(rest):
                continue
            param = _PARAM_RE.fullmatch(rest)
            if param is not None:
                challenge.add(param)
                continue
        if challenges:
            challenges[-1].error = f"cannot parse {element!r}"
    return challenges


def _parse_params(value: str) -> dict[str, str]:
    """Parse a bare list of auth-params, such as `Authentication-Info`."""
    params: dict[str, str] = {}
    for element in _split_list(value):
        match = _PARAM_RE.fullmatch(element)
        if match is not None:
            params[match.group(1).lower()] = _unquote(match.group(2))
    return params


# -- Digest (RFC 7616, RFC 2617, RFC 2069) -------------------------------------

_DIGEST_ALGORITHMS = {
    "MD5": "md5",
    "MD5-SESS": "md5",
    "SHA-256": "sha256",
    "SHA-256-SESS": "sha256",
    "SHA-512-256": "sha512_256",
    "SHA-512-256-SESS": "sha512_256",
}


@dataclass
class _DigestChallenge:
    realm: str
    nonce: str
    algorithm: str | None  # as the server spelt it; None means MD5 (and is not echoed)
    hash_name: str
    qop: str | None  # the one we chose: "auth", "auth-int" or None (RFC 2069)
    opaque: str | None
    stale: bool
    nonce_count: int = 0


def _to_digest_challenge(challenge: _Challenge) -> _DigestChallenge:
    """Validate a parsed Digest challenge; `RemoteProtocolError` if unusable."""
    if challenge.error is not None:
        raise RemoteProtocolError(f"Malformed Digest challenge: {challenge.error}")
    params = challenge.params
    if "nonce" not in params or "realm" not in params:
        raise RemoteProtocolError("Malformed Digest challenge: 'realm' and 'nonce' are required")
    algorithm = params.get("algorithm")
    key = (algorithm or "MD5").upper()
    hash_name = _DIGEST_ALGORITHMS.get(key)
    if hash_name is None:
        raise RemoteProtocolError(f"Unsupported Digest algorithm {algorithm!r}")
    try:
        hashlib.new(hash_name, usedforsecurity=False)
    except ValueError:
        raise RemoteProtocolError(
            f"Digest algorithm {algorithm!r} is not available in this Python's OpenSSL"
        ) from None
    qop: str | None = None
    if "qop" in params:
        offered = {item.strip().lower() for item in params["qop"].split(",")}
        # "auth" is preferred: it needs no body hash, and every server offering
        # "auth-int" also accepts it when it lists both.
        if "auth" in offered:
            qop = "auth"
        elif "auth-int" in offered:
            qop = "auth-int"
        else:
            raise RemoteProtocolError(f"Unsupported Digest qop {params['qop']!r}")
    elif key.endswith("-SESS"):
        raise RemoteProtocolError(
            f"Malformed Digest challenge: algorithm {algorithm!r} requires a qop"
        )
    return _DigestChallenge(
        realm=params["realm"],
        nonce=params["nonce"],
        algorithm=algorithm,
        hash_name=hash_name,
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "").lower() == "true",
    )


def _find_digest_challenge(response: BaseResponse) -> _DigestChallenge | None:
    """The first usable Digest challenge of a response; None if it has none.

    Servers may offer one Digest challenge per algorithm, most preferred first
    (RFC 7616 §3.7); unusable ones are skipped. If every one is unusable the
    error of the first is raised.
    """
    digest = [
        challenge
        for value in response.headers.getlist("www-authenticate")
        for challenge in _parse_challenges(value)
        if challenge.scheme == "digest"
    ]
    if not digest:
        return None
    first_error: RemoteProtocolError | None = None
    for challenge in digest:
        try:
            return _to_digest_challenge(challenge)
        except RemoteProtocolError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _credential_bytes(value: str | bytes) -> bytes:
    # RFC 7616 §4 only defines UTF-8 for user names and passwords.
    return value if isinstance(value, bytes) else value.encode("utf-8")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuth(Auth):
    """HTTP Digest auth (RFC 7616, RFC 2617 and the RFC 2069 form without qop).

    The first request to an origin goes without credentials; a 401 with a
    Digest challenge is answered by resending it with `Authorization: Digest`.
    Algorithms: MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256 and
    SHA-512-256-sess; qop `auth` (preferred) and `auth-int` (hashes the
    request body, so `requires_request_body` is set). `opaque` is echoed.
    The user name and password are hashed as UTF-8 when given as str; a
    non-ASCII user name is sent as `username*` (RFC 7616 §3.4.4). `userhash`
    is not supported: the user name is always sent in clear.

    The last challenge is remembered: later requests to the same origin
    (scheme, host, port) carry credentials straight away with that nonce and an
    increasing nonce count, and a `nextnonce` from `Authentication-Info` is
    adopted. When credentials sent with a reused nonce get a 401 with a new
    challenge, or any credentials get one with `stale=true`, the request is
    retried once; a 401 otherwise ends the flow and is returned as is, as is a
    401 without a Digest challenge.

    A malformed or unsupported Digest challenge raises `RemoteProtocolError`.
    """

    requires_request_body = True

    def __init__(self, username: str | bytes, password: str | bytes) -> None:
        self._username = username
        self._password = password
        self._origin: tuple[str, str, int | None] | None = None
        self._challenge: _DigestChallenge | None = None

    def _get_client_nonce(self, nonce_count: int, nonce: str) -> str:
        """A fresh random client nonce (tests override this to get fixed values)."""
        return secrets.token_hex(16)

    def auth_flow(self, request: Request) -> Generator[Request, BaseResponse, None]:
        url = request.url
        origin = (url.scheme, url.host, url.port)
        credentials_sent = reused_nonce = retried = False
        if self._challenge is not None and self._origin == origin:
            request.headers["Authorization"] = self._authorization(request, self._challenge)
            credentials_sent = reused_nonce = True
        while True:
            response = yield request
            if response.status_code != 401:
                self._take_next_nonce(response, origin)
                return
            try:
                challenge = _find_digest_challenge(response)
            except RemoteProtocolError as exc:
                exc.request = request
                raise
            if challenge is None:
                return
            self._origin, self._challenge = origin, challenge
            if credentials_sent:
                if retried or not (reused_nonce or challenge.stale):
                    return
                retried = True
            credentials_sent, reused_nonce = True, False
            request.headers["Authorization"] = self._authorization(request, challenge)

    def _take_next_nonce(self, response: BaseResponse, origin: tuple[str, str, int | None]) -> None:
        challenge = self._challenge
        if challenge is None or self._origin != origin:
            return
        info = response.headers.get("authentication-info")
        if info is None:
            return
        next_nonce = _parse_params(info).get("nextnonce")
        if next_nonce:
            challenge.nonce = next_nonce
            challenge.nonce_count = 0

    def _authorization(self, request: Request, challenge: _DigestChallenge) -> str:
        """The `Authorization` value answering `challenge`; bumps its nonce count."""

        def digest(data: bytes) -> str:
            return hashlib.new(challenge.hash_name, data, usedforsecurity=False).hexdigest()

        challenge.nonce_count += 1
        nc = f"{challenge.nonce_count:08x}"
        nonce = challenge.nonce
        cnonce = self._get_client_nonce(challenge.nonce_count, nonce)
        uri = request.url.full_path

        a1 = b":".join(
            (
                _credential_bytes(self._username),
                _header_bytes(challenge.realm),
                _credential_bytes(self._password),
            )
        )
        ha1 = digest(a1)
        if (challenge.algorithm or "").upper().endswith("-SESS"):
            ha1 = digest(_header_bytes(f"{ha1}:{nonce}:{cnonce}"))
        a2 = f"{request.method}:{uri}".encode()
        if challenge.qop == "auth-int":
            a2 += b":" + digest(request.content).encode("ascii")
        ha2 = digest(a2)
        if challenge.qop is None:
            response = digest(_header_bytes(f"{ha1}:{nonce}:{ha2}"))
        else:
            data = f"{ha1}:{nonce}:{nc}:{cnonce}:{challenge.qop}:{ha2}"
            response = digest(_header_bytes(data))

        parts = [self._username_param(), f"realm={_quote(challenge.realm)}", f"uri={_quote(uri)}"]
        if challenge.algorithm is not None:
            parts.append(f"algorithm={challenge.algorithm}")
        parts.append(f"nonce={_quote(nonce)}")
        if challenge.qop is not None:
            parts += [f"nc={nc}", f"cnonce={_quote(cnonce)}", f"qop={challenge.qop}"]
        parts.append(f"response={_quote(response)}")
        if challenge.opaque is not None:
            parts.append(f"opaque={_quote(challenge.opaque)}")
        return "Digest " + ", ".join(parts)

    def _username_param(self) -> str:
        raw = _credential_bytes(self._username)
        if raw.isascii():
            return f"username={_quote(raw.decode('ascii'))}"
        return "username*=UTF-8''" + quote(raw, safe="")


# -- helpers for the client ----------------------------------------------------


def _netrc_candidates(host: str) -> list[str]:
    """The names a host may have in a netrc file: as given, without port, as IDNA."""
    host = host.strip().lower()
    candidates = [host]
    if host.startswith("["):
        candidates.append(host[1:].partition("]")[0])
    elif host.count(":") == 1:
        candidates.append(host.partition(":")[0])
    for name in list(candidates):
        if not name.isascii():
            with contextlib.suppress(idna.IDNAError):
                candidates.append(idna.encode(name, uts46=True).decode("ascii"))
    return candidates


_NetrcEntry = tuple[str, str, str]


@functools.lru_cache(maxsize=8)
def _load_netrc(
    path: str, inode: int, size: int, mtime_ns: int
) -> tuple[dict[str, _NetrcEntry], _NetrcEntry | None] | None:
    """A parsed netrc file, cached per file identity and modification: the
    lookup runs for every request, the parse only when the file changes."""
    try:
        with open(path, "rb") as file:
            text = file.read().decode("utf-8", errors="surrogateescape")
    except OSError:
        return None
    return _parse_netrc(text)


_NETRC_FIELDS = {"login": 0, "user": 0, "account": 1, "password": 2, "passwd": 2}


def _netrc_tokens(text: str) -> list[tuple[str | None, int, bool]]:
    """`(token, line number, quoted)` for each token: words, or "double-quoted" with
    backslash escapes (as Python's `netrc` reads them). An unterminated quote
    gives the token None."""
    tokens: list[tuple[str | None, int, bool]] = []
    for number, line in enumerate(text.splitlines()):
        i, end = 0, len(line)
        while i < end:
            if line[i].isspace():
                i += 1
                continue
            quoted = line[i] == '"'
            i += quoted
            token: list[str] = []
            while i < end and (line[i] != '"' if quoted else not line[i].isspace()):
                if line[i] == "\\" and i + 1 < end:
                    i += 1
                token.append(line[i])
                i += 1
            closed = not quoted or i < end
            i += quoted  # the closing quote
            tokens.append(("".join(token) if closed else None, number, quoted))
    return tokens


_NETRC_KEYWORDS = ("machine", "default", "macdef")


def _parse_netrc(text: str) -> tuple[dict[str, _NetrcEntry], _NetrcEntry | None]:
    """The machines (lower-case name -> entry) and `default` entry of a netrc file.

    Malformed parts are skipped, never fatal: an entry with an unknown token, a
    keyword without its value, an unterminated quote, no `login`, or bytes that
    are not UTF-8 is dropped; the other entries still count. Nothing here
    raises, so no error message can ever show a password.
    """
    lines = text.splitlines()
    tokens = _netrc_tokens(text)
    machines: dict[str, _NetrcEntry] = {}
    default: _NetrcEntry | None = None
    name: str | None = None  # the entry being read ("" for default), None between entries
    fields: list[str | None] = [None, None, None]
    valid = False

    def finish() -> None:
        nonlocal default
        if name is None or not valid or fields[0] is None:
            return
        entry = (fields[0], fields[1] or "", fields[2] or "")
        if any(_has_surrogates(part) for part in (name, *entry)):
            return  # bytes that are not UTF-8: the entry cannot be used as text
        if name:
            machines[name.lower()] = entry
        else:
            default = entry

    def value_at(index: int) -> str | None:
        """The value token at `index`: not past the end, nor a bare keyword."""
        if index >= len(tokens):
            return None
        token, _, quoted = tokens[index]
        return None if not quoted and token in _NETRC_KEYWORDS else token

    index = 0
    while index < len(tokens):
        token, number, quoted = tokens[index]
        index += 1
        if token is not None and token.startswith("#") and not quoted:
            while index < len(tokens) and tokens[index][1] == number:
                index += 1  # a comment, to the end of its line
            continue
        if not quoted and token in _NETRC_KEYWORDS:
            finish()
            name, fields, valid = None, [None, None, None], True
            if token == "default":
                name = ""
            elif token == "machine":
                name = value_at(index)
                valid = name is not None
                index += valid
            else:  # macdef: the macro runs to the first blank line, and is not for us
                blank = next(
                    (n for n in range(number + 1, len(lines)) if not lines[n].strip()), len(lines)
                )
                while index < len(tokens) and tokens[index][1] <= blank:
                    index += 1
            continue
        field = _NETRC_FIELDS.get(token) if token is not None and not quoted else None
        value = value_at(index) if field is not None else None
        if field is None or value is None or name is None:
            valid = False  # a bad token, a keyword without a value, or no machine yet
            continue
        fields[field] = value
        index += 1
    finish()
    return machines, default


def _has_surrogates(text: str) -> bool:
    return not text.isascii() and any("\udc80" <= char <= "\udcff" for char in text)


def netrc_credentials(host: str, netrc_file: str | None = None) -> tuple[str, str] | None:
    """The `(login, password)` a netrc file holds for `host`, or None.

    The file is `netrc_file`, else the one named by the `NETRC` environment
    variable, else `~/.netrc`. `host` is matched case-insensitively, as given
    and without its port (netrc has no ports); a `default` entry matches any
    host. A missing, unreadable or malformed file gives None (never raises).
    """
    if netrc_file is None:
        netrc_file = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    try:
        stat = os.stat(netrc_file)
    except OSError:
        return None
    parsed = _load_netrc(netrc_file, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if parsed is None:
        return None
    machines, default = parsed
    entry = next(
        (machines[name] for name in _netrc_candidates(host) if name in machines),
        default,
    )
    if entry is None:
        return None
    login, _, password = entry
    return (login, password or "")


def auth_from_url(url: URL) -> BasicAuth | None:
    """Basic auth from the (percent-decoded) credentials of `url`, or None."""
    if not url.userinfo or (not url.username and not url.password):
        return None
    return BasicAuth(url.username, url.password)


def build_auth(value: AuthTypes) -> Auth | None:
    """Turn any accepted `auth=` value into an `Auth` (None stays None).

    A `(username, password)` tuple gives `BasicAuth`, an `Auth` is returned
    as is, any other callable gives `FunctionAuth`; anything else raises
    `TypeError`.
    """
    if value is None or isinstance(value, Auth):
        return value
    if isinstance(value, tuple):
        if len(value) != 2:
            raise TypeError(f"auth tuple must be (username, password), got {len(value)} items")
        return BasicAuth(value[0], value[1])
    if callable(value):
        return FunctionAuth(value)
    raise TypeError(
        f"auth must be a (username, password) tuple, an Auth or a callable, "
        f"not {type(value).__name__}"
    )
