"""URLs and origins: parsing, IDNA, normalisation, reference resolution.

A `URL` is parsed once, with rfc3986's splitting regex, into components that are
normalised as they are stored (scheme and host lower-cased, the host IDNA-encoded,
the default port dropped, characters RFC 3986 does not allow percent-encoded, dot
segments removed from the path of a URL with a scheme). Every property is then a
slot read and `str()` is computed once, on first use. URLs are immutable; `copy_with`,
`join` and `resolve_with` return new ones.

Hosts are normalised through an LRU cache, so the IDNA codec (which costs tens of
microseconds) runs once per distinct host name. ASCII host names are only lower-cased
and checked against the RFC 3986 ``reg-name`` characters: IDNA 2008 would refuse
names such as ``my_service.local`` that are common on private networks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias
from urllib.parse import unquote, urlencode

import idna
from rfc3986.misc import SCHEME_MATCHER, URI_MATCHER, IPv6_MATCHER
from rfc3986.normalizers import remove_dot_segments

from .exceptions import InvalidURL

__all__ = ["URL", "Origin", "QueryParamTypes", "encode_query"]

PrimitiveData: TypeAlias = "str | int | float | bool | None"
QueryParamTypes: TypeAlias = (
    "Mapping[str, PrimitiveData | Sequence[PrimitiveData]]"
    " | Sequence[tuple[str, PrimitiveData | Sequence[PrimitiveData]]]"
    " | str"
)

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
# Schemes that need a host, and whose empty path means "/".
_HOST_REQUIRED = frozenset({"http", "https", "ws", "wss"})
_SSL_SCHEMES = frozenset({"https", "wss"})

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# Runs of characters a component may not hold as they are, or a '%' that does not
# start a %XX escape. Existing escapes are kept as written.
_UNRESERVED_SUB_DELIMS = r"A-Za-z0-9\-._~!$&'()*+,;="
_PATH_UNSAFE = re.compile(rf"[^{_UNRESERVED_SUB_DELIMS}:@/\[\]%]+|%(?![0-9A-Fa-f]{{2}})")
_QUERY_UNSAFE = re.compile(rf"[^{_UNRESERVED_SUB_DELIMS}:@/?\[\]%]+|%(?![0-9A-Fa-f]{{2}})")
_USERINFO_UNSAFE = re.compile(rf"[^{_UNRESERVED_SUB_DELIMS}:%]+|%(?![0-9A-Fa-f]{{2}})")
_HOST_INVALID = re.compile(rf"[^{_UNRESERVED_SUB_DELIMS}]")
# For user names and passwords given decoded: everything but unreserved and sub-delims.
_USERINFO_PART_SAFE = re.compile(rf"[^{_UNRESERVED_SUB_DELIMS}]+")

_UNSET: Any = object()


def _percent_encode_match(match: re.Match[str]) -> str:
    return "".join([f"%{byte:02X}" for byte in match.group().encode("utf-8")])


def _quote(value: str, unsafe: re.Pattern[str]) -> str:
    if unsafe.search(value) is None:
        return value
    try:
        return unsafe.sub(_percent_encode_match, value)
    except UnicodeEncodeError as exc:
        raise InvalidURL(f"Invalid character in URL component {value!r}: {exc}") from exc


# DNS limits on a host name (RFC 1035 §2.3.4).
_MAX_LABEL = 63
_MAX_NAME = 253
_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdef")
_BASE_DIGITS = "0123456789abcdef"


@functools.lru_cache(maxsize=1024)
def _normalize_host(host: str) -> str:
    """Return the host as stored: lower case, A-labels, IPv4 dotted quad, IPv6 without brackets.

    A name is percent-decoded, mapped by IDNA 2008 / UTS 46 when not ASCII, and
    then refused if it holds a character a host may not have (WHATWG URL host
    parsing), a label over 63 octets or more than 253 octets in all. A name
    whose last label is a number is an IPv4 address in one of the forms browsers
    accept (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`): it becomes a dotted
    quad, or is refused.
    """
    if host.startswith("["):
        if IPv6_MATCHER.match(host) is None:
            raise InvalidURL(f"Invalid IPv6 address {_shown(host)}")
        address, percent, zone = host[1:-1].partition("%")
        return address.lower() + percent + zone  # an RFC 6874 zone ID keeps its case
    name = host
    if "%" in name:
        try:
            name = unquote(name, errors="strict")
        except UnicodeDecodeError as exc:
            raise InvalidURL(
                f"Invalid host {_shown(host)}: percent-escapes that are not UTF-8"
            ) from exc
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        except UnicodeError as exc:  # idna.IDNAError is a UnicodeError
            raise InvalidURL(f"Invalid host {_shown(host)} (refused by IDNA 2008): {exc}") from exc
    name = name.lower()
    # The WHATWG "forbidden domain code points" (C0, space, DEL, `%` and the
    # delimiters), and the few others RFC 3986 does not allow in a reg-name.
    bad = _HOST_INVALID.search(name)
    if bad is not None:
        raise InvalidURL(f"Invalid character in host {_shown(host)}: {bad.group()!r}")
    labels = name.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()  # a trailing dot: the root of the DNS
    if _is_number(labels[-1]):
        return _parse_ipv4(labels, host)
    if len(name.rstrip(".")) > _MAX_NAME:
        raise InvalidURL(f"Invalid host {_shown(host)}: longer than {_MAX_NAME} characters")
    for label in labels:
        if len(label) > _MAX_LABEL:
            raise InvalidURL(
                f"Invalid host {_shown(host)}: label {label[:20]!r}... is longer than"
                f" {_MAX_LABEL} characters"
            )
    return name


def _shown(text: str) -> str:
    """`text` for an error message: quoted, and cut short when long."""
    return repr(text) if len(text) <= 100 else repr(text[:100]) + "..."


def _is_number(label: str) -> bool:
    """WHATWG "ends in a number": decimal digits, or 0x and hex digits."""
    if label[:2] == "0x":
        return _HEX_DIGITS.issuperset(label[2:])
    return label != "" and _DIGITS.issuperset(label)


def _parse_ipv4(labels: list[str], host: str) -> str:
    """The dotted quad of a WHATWG IPv4 host (1 to 4 parts, decimal, octal or hex)."""
    if len(labels) > 4:
        raise InvalidURL(f"Invalid IPv4 address {_shown(host)}: more than 4 parts")
    numbers = []
    for label in labels:
        if not label:
            raise InvalidURL(f"Invalid IPv4 address {_shown(host)}: an empty part")
        if label[:2] == "0x":
            digits, base = label[2:] or "0", 16
        elif len(label) > 1 and label[0] == "0":
            digits, base = label[1:], 8
        else:
            digits, base = label, 10
        digits = digits.lstrip("0") or "0"
        # A bound before int(): 2**32 has 10 digits at most in any of these bases
        # but octal (11), and int() of a huge string is slow or refused.
        if len(digits) > 11 or not all(c in _BASE_DIGITS[:base] for c in digits):
            raise InvalidURL(
                f"Invalid IPv4 address {_shown(host)}: {label[:20]!r} is not a part of one"
            )
        numbers.append(int(digits, base))
    last = numbers.pop()
    if any(number > 255 for number in numbers) or last >= 256 ** (4 - len(numbers)):
        raise InvalidURL(f"Invalid IPv4 address {_shown(host)}: a part is out of range")
    for index, number in enumerate(numbers):
        last += number << (8 * (3 - index))
    return ".".join(str((last >> shift) & 255) for shift in (24, 16, 8, 0))


def _parse_port(port: str | int | None) -> int | None:
    if port is None or port == "":
        return None
    if isinstance(port, str):
        if not (port.isascii() and port.isdigit()):
            raise InvalidURL(f"Invalid port {port[:20]!r}")
        if len(port.lstrip("0")) > 5:  # checked before int(): linear time for any length
            raise InvalidURL(f"Port {port[:20]}... is out of range 0-65535")
        port = int(port)
    if not 0 <= port <= 65535:
        raise InvalidURL(f"Port {port} is out of range 0-65535")
    return port


def _split_authority(authority: str) -> tuple[str, str, str]:
    """Split ``userinfo@host:port`` into its three raw parts (host bracketed if IPv6)."""
    userinfo, _, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]") + 1
        if end == 0:
            raise InvalidURL(f"Invalid IPv6 address in authority {authority!r}")
        host, rest = hostport[:end], hostport[end:]
        if rest and rest[0] != ":":
            raise InvalidURL(f"Invalid authority {authority!r}")
        return userinfo, host, rest[1:]
    host, _, port = hostport.partition(":")
    return userinfo, host, port


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _primitive(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(f"Query parameter values must be str, int, float, bool or None, not {value!r}")


def encode_query(params: QueryParamTypes) -> str:
    """Encode query parameters as ``application/x-www-form-urlencoded``.

    ``params`` is a mapping or a sequence of ``(key, value)`` pairs, where a list or
    tuple value becomes one pair per item; ``None`` encodes as an empty value,
    booleans as ``true``/``false``. A str is taken as an already-encoded query and
    only has characters that a query may not hold percent-encoded.
    Raises ``TypeError`` for values of another type.
    """
    if isinstance(params, str):
        return _quote(params, _QUERY_UNSAFE)
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            pairs.extend((_primitive(key), _primitive(item)) for item in value)
        else:
            pairs.append((_primitive(key), _primitive(value)))
    return urlencode(pairs)


class URL:
    """A parsed, normalised, immutable URL.

    ``URL(url, allow_relative=False, params=None)`` takes a str or another URL
    (bytes raise ``TypeError``). ``params`` (see `encode_query`) is appended to the
    query. Raises ``InvalidURL`` for a control character anywhere in the URL, a
    bad or out-of-range port, a missing host on http(s)/ws(s), a host that IDNA
    2008 refuses, or a relative URL (no scheme or no host) unless
    ``allow_relative=True``.
    """

    __slots__ = (
        "_fragment",
        "_host",
        "_path",
        "_port",
        "_query",
        "_scheme",
        "_str",
        "_userinfo",
    )

    def __init__(
        self,
        url: str | URL,
        allow_relative: bool = False,
        params: QueryParamTypes | None = None,
    ) -> None:
        if isinstance(url, str):
            if _CONTROL_CHARS.search(url) is not None:
                raise InvalidURL(f"URL {url!r} contains a control character")
            scheme, authority, path, query, fragment = URI_MATCHER.match(url).groups()
            if authority is None:
                userinfo, host, port = "", None, None
            else:
                userinfo, host, port = _split_authority(authority)
            self._setup(
                scheme.lower() if scheme else "",
                userinfo,
                host,
                port,
                path,
                query,
                fragment,
                allow_relative,
                url,
            )
        elif isinstance(url, URL):
            self._scheme: str = url._scheme
            self._userinfo: str = url._userinfo
            self._host: str | None = url._host
            self._port: int | None = url._port
            self._path: str = url._path
            self._query: str | None = url._query
            self._fragment: str | None = url._fragment
            self._str: str | None = url._str
        else:
            raise TypeError(f"URL must be a str or URL, not {type(url).__name__}")
        if params is not None:
            extra = encode_query(params)
            if extra:
                self._query = f"{self._query}&{extra}" if self._query else extra
                self._str = None

    def _setup(
        self,
        scheme: str,
        userinfo: str,
        host: str | None,
        port: str | int | None,
        path: str,
        query: str | None,
        fragment: str | None,
        allow_relative: bool,
        original: object,
    ) -> None:
        """Normalise and store raw components (``host`` None: no authority)."""
        if host is not None:
            host = _normalize_host(host)
            explicit_port = _parse_port(port)
            if explicit_port is not None and explicit_port == DEFAULT_PORTS.get(scheme):
                explicit_port = None
            if path:
                if path[0] != "/":
                    raise InvalidURL(
                        f"Invalid URL {original!r}: a path after the host must start with '/'"
                    )
            elif scheme in DEFAULT_PORTS:
                path = "/"
        else:
            explicit_port = None
        if not host and scheme in _HOST_REQUIRED:
            raise InvalidURL(f"URL {original!r} has no host")
        if not allow_relative and not (scheme and host):
            if scheme:
                raise InvalidURL(f"URL {original!r} has no host")
            raise InvalidURL(
                f"URL {original!r} is relative; pass allow_relative=True or resolve it "
                "against a base URL"
            )
        path = _quote(path, _PATH_UNSAFE)
        if scheme and ("/." in path or path[:1] == "."):
            path = remove_dot_segments(path)
        self._scheme = scheme
        self._userinfo = _quote(userinfo, _USERINFO_UNSAFE) if userinfo else ""
        self._host = host
        self._port = explicit_port
        self._path = path
        self._query = None if query is None else _quote(query, _QUERY_UNSAFE)
        self._fragment = None if fragment is None else _quote(fragment, _QUERY_UNSAFE)
        self._str = None

    @classmethod
    def _build(
        cls,
        scheme: str,
        userinfo: str,
        host: str | None,
        port: str | int | None,
        path: str,
        query: str | None,
        fragment: str | None,
    ) -> URL:
        url = cls.__new__(cls)
        url._setup(scheme, userinfo, host, port, path, query, fragment, True, "")
        return url

    # -- components ---------------------------------------------------------------

    @property
    def scheme(self) -> str:
        """The scheme, lower case ('' for a relative reference)."""
        return self._scheme

    @property
    def host(self) -> str:
        """The host: lower case, IDNA A-labels, IPv6 without brackets ('' if none)."""
        return self._host or ""

    @property
    def port(self) -> int | None:
        """The port, or the scheme's default port; None if neither is known."""
        if self._port is not None:
            return self._port
        return DEFAULT_PORTS.get(self._scheme)

    @property
    def authority(self) -> str:
        """``host[:port]`` without userinfo, the default port left out, IPv6 bracketed."""
        if self._host is None:
            return ""
        host = _bracket(self._host)
        return host if self._port is None else f"{host}:{self._port}"

    @property
    def raw_host_header(self) -> str:
        """The value of the Host header (``:authority`` on HTTP/2) for this URL.

        An IPv6 zone identifier is left out: it means something only on this
        machine (RFC 6874 §4).
        """
        if self._host is None or "%" not in self._host:
            return self.authority
        host = _bracket(self._host.partition("%")[0])
        return host if self._port is None else f"{host}:{self._port}"

    @property
    def socket_host(self) -> str:
        """The host to connect to: an IPv6 zone identifier percent-decoded (``fe80::1%eth0``)."""
        host = self.host
        return unquote(host) if "%" in host else host

    @property
    def userinfo(self) -> str:
        """The percent-encoded ``user:password`` part ('' if none)."""
        return self._userinfo

    @property
    def username(self) -> str:
        """The percent-decoded user name ('' if none)."""
        return unquote(self._userinfo.partition(":")[0])

    @property
    def password(self) -> str:
        """The percent-decoded password ('' if none)."""
        return unquote(self._userinfo.partition(":")[2])

    @property
    def path(self) -> str:
        """The percent-encoded path; '/' for an empty http(s) path."""
        return self._path

    @property
    def query(self) -> str:
        """The percent-encoded query without '?' ('' if none)."""
        return self._query or ""

    @property
    def full_path(self) -> str:
        """The request target: ``path?query``, or the path when there is no query."""
        if self._query is None:
            return self._path
        return f"{self._path}?{self._query}"

    @property
    def fragment(self) -> str:
        """The percent-encoded fragment without '#' ('' if none)."""
        return self._fragment or ""

    @property
    def is_ssl(self) -> bool:
        """True for https and wss URLs."""
        return self._scheme in _SSL_SCHEMES

    @property
    def origin(self) -> Origin:
        """The URL's `Origin` (scheme, host, port)."""
        return Origin(self)

    @property
    def is_absolute_url(self) -> bool:
        """True when the URL has both a scheme and a host."""
        return bool(self._scheme and self._host)

    @property
    def is_relative_url(self) -> bool:
        """True when the URL lacks a scheme or a host."""
        return not self.is_absolute_url

    # -- derived URLs -------------------------------------------------------------

    def copy_with(
        self,
        *,
        scheme: str | None = _UNSET,
        authority: str | None = _UNSET,
        username: str = _UNSET,
        password: str = _UNSET,
        host: str = _UNSET,
        port: int | None = _UNSET,
        path: str = _UNSET,
        query: str | None = _UNSET,
        fragment: str | None = _UNSET,
    ) -> URL:
        """Return a new URL with the given components replaced.

        ``authority`` (``userinfo@host:port``, None to remove) is applied first, then
        ``username``/``password`` (given decoded), ``host`` and ``port``. ``path``,
        ``query`` and ``fragment`` are given percent-encoded (unsafe characters are
        encoded); ``None`` removes the scheme, query or fragment. Raises ``InvalidURL``
        as the constructor does, and when a path next to a host does not start with '/'.
        """
        new_scheme = self._scheme
        if scheme is not _UNSET:
            new_scheme = (scheme or "").lower()
            if new_scheme and SCHEME_MATCHER.match(new_scheme) is None:
                raise InvalidURL(f"Invalid scheme {scheme!r}")
        userinfo = self._userinfo
        new_host = None if self._host is None else _bracket(self._host)
        new_port: str | int | None = self._port
        if authority is not _UNSET:
            if authority is None:
                userinfo, new_host, new_port = "", None, None
            else:
                userinfo, new_host, new_port = _split_authority(authority)
        if username is not _UNSET or password is not _UNSET:
            user, _, secret = userinfo.partition(":")
            if username is not _UNSET:
                user = _quote(username, _USERINFO_PART_SAFE)
            if password is not _UNSET:
                secret = _quote(password, _USERINFO_PART_SAFE)
            userinfo = f"{user}:{secret}" if secret else user
        if host is not _UNSET:
            new_host = _bracket(host) if ":" in host and not host.startswith("[") else host
        if port is not _UNSET:
            new_port = port
        return self._build(
            new_scheme,
            userinfo,
            new_host,
            new_port,
            self._path if path is _UNSET else path,
            self._query if query is _UNSET else query,
            self._fragment if fragment is _UNSET else fragment,
        )

    def resolve_with(self, base: URL | str) -> URL:
        """Resolve this URL, as a reference, against ``base`` (RFC 3986 §5.2, strict).

        ``base`` must have a scheme, else ``InvalidURL``.
        """
        base = base if isinstance(base, URL) else URL(base, allow_relative=True)
        if not base._scheme:
            raise InvalidURL(f"Base URL {str(base)!r} has no scheme")
        if self._scheme:
            return self
        query = self._query
        host: str | None
        if self._host is not None:
            host, userinfo, port, path = self._host, self._userinfo, self._port, self._path
        else:
            host, userinfo, port = base._host, base._userinfo, base._port
            if not self._path:
                path = base._path
                if query is None:
                    query = base._query
            elif self._path[0] == "/":
                path = self._path
            elif base._host is not None and not base._path:
                path = "/" + self._path
            else:
                path = base._path[: base._path.rfind("/") + 1] + self._path
        return self._build(
            base._scheme,
            userinfo,
            None if host is None else _bracket(host),
            port,
            path,
            query,
            self._fragment,
        )

    def join(self, url: URL | str) -> URL:
        """Resolve ``url`` (possibly relative) against this URL; see `resolve_with`."""
        return URL(url, allow_relative=True).resolve_with(self)

    # -- dunder -------------------------------------------------------------------

    def _unsplit(self, userinfo: str) -> str:
        parts = []
        if self._scheme:
            parts.append(self._scheme + ":")
        path = self._path
        if self._host is not None:
            parts.append("//")
            if userinfo:
                parts.append(userinfo + "@")
            parts.append(self.authority)
        elif path[:2] == "//":
            path = "/." + path  # keep a path that starts with '//' from reading as authority
        elif not self._scheme and ":" in path.partition("/")[0]:
            path = "./" + path  # keep 'a:b' from reading as scheme 'a'
        parts.append(path)
        if self._query is not None:
            parts.append("?" + self._query)
        if self._fragment is not None:
            parts.append("#" + self._fragment)
        return "".join(parts)

    def __str__(self) -> str:
        if self._str is None:
            self._str = self._unsplit(self._userinfo)
        return self._str

    def __repr__(self) -> str:
        userinfo = self._userinfo
        if ":" in userinfo:
            userinfo = userinfo.partition(":")[0] + ":[secure]"
        return f"{type(self).__name__}({self._unsplit(userinfo)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URL):
            return str(self) == str(other)
        if isinstance(other, str):
            try:
                return str(self) == str(URL(other, allow_relative=True))
            except InvalidURL:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


class Origin:
    """The (scheme, host, port) of a URL, as connections are pooled by.

    ``Origin(url)`` takes a str or `URL`; raises ``InvalidURL`` as `URL` does.
    Equality and hash are on the normalised triple, so
    ``Origin('https://example.org') == Origin('HTTPS://EXAMPLE.ORG:443')``.
    """

    __slots__ = ("host", "port", "scheme")

    def __init__(self, url: str | URL) -> None:
        parsed = url if isinstance(url, URL) else URL(url)
        self.scheme: str = parsed.scheme
        self.host: str = parsed.host
        self.port: int | None = parsed.port

    @property
    def is_ssl(self) -> bool:
        """True for https and wss origins."""
        return self.scheme in _SSL_SCHEMES

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Origin):
            return NotImplemented
        return (self.scheme, self.host, self.port) == (other.scheme, other.host, other.port)

    def __hash__(self) -> int:
        return hash((self.scheme, self.host, self.port))

    def __repr__(self) -> str:
        return f"Origin(scheme={self.scheme!r}, host={self.host!r}, port={self.port!r})"
