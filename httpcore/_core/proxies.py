"""Proxy configuration: which proxy a URL goes through, and with what credentials.

Pure logic, no I/O: the trio layer asks `ProxyMap.select(url)` for each request
and opens the connection the answer calls for.

- `Proxy`: one proxy URL (``http``, ``https``, ``socks5``, ``socks5h``), with
  its percent-decoded credentials and the ``Proxy-Authorization`` value they
  give.
- `URLPattern`: a key of a ``proxies=`` dict (``"all://"``, ``"https://"``,
  ``"all://example.com"``, ``"all://*.example.com"``,
  ``"https://example.com:8443"``) and how specific it is.
- `NoProxy`: the rules of a ``NO_PROXY`` variable (names, domain suffixes,
  ``host:port``, IP addresses, CIDR ranges, ``*``).
- `ProxyMap`: the patterns of a client (from ``proxies=`` or, with
  ``trust_env``, from the environment), most specific first.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .auth import build_basic_auth_header
from .exceptions import InvalidURL
from .tunnels import load_socksio
from .urls import URL

__all__ = [
    "PROXY_SCHEMES",
    "NoProxy",
    "ProxiesTypes",
    "Proxy",
    "ProxyMap",
    "URLPattern",
    "proxies_from_environ",
]

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_DEFAULT_PROXY_PORTS = {"http": 80, "https": 443, "socks5": 1080, "socks5h": 1080}
# SOCKS5 carries each of user name and password in one length byte (RFC 1929).
_MAX_SOCKS_CREDENTIAL = 255

ProxyValue: TypeAlias = "str | URL | None"
ProxiesTypes: TypeAlias = "str | URL | Mapping[str, str | URL | None] | None"


@dataclass(frozen=True, slots=True)
class Proxy:
    """A proxy server: where it is, how to talk to it, and its credentials.

    ``Proxy(url)`` takes a str or `URL` with the scheme ``http``, ``https``,
    ``socks5`` or ``socks5h`` (``socks5`` resolves the origin's name on the
    client, ``socks5h`` lets the proxy resolve it). Credentials in the URL are
    percent-decoded. Raises `InvalidURL` for another scheme, a URL with a path,
    query or fragment, or SOCKS credentials longer than 255 bytes.
    """

    scheme: str
    host: str
    port: int
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    # The Proxy-Authorization value (Basic) from the credentials, or None.
    authorization: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_url(cls, url: str | URL) -> Proxy:
        """Parse a proxy URL (see the class docstring)."""
        text = str(url)
        try:
            parsed = URL(url)
        except InvalidURL:
            # from None: the original message repeats the URL, password included.
            raise InvalidURL(f"Invalid proxy URL {_masked(text)!r}") from None
        if parsed.scheme not in PROXY_SCHEMES:
            raise InvalidURL(
                f"Proxy URL {_masked(text)!r} has the scheme {parsed.scheme!r}; use one of "
                + ", ".join(f"{scheme}://" for scheme in PROXY_SCHEMES)
            )
        if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
            raise InvalidURL(f"Proxy URL {_masked(text)!r} must not have a path, query or fragment")
        username, password = parsed.username, parsed.password
        proxy = cls(
            scheme=parsed.scheme,
            host=parsed.host,
            port=parsed.port or _DEFAULT_PROXY_PORTS[parsed.scheme],
            username=username,
            password=password,
            authorization=(
                build_basic_auth_header(username, password) if username or password else None
            ),
        )
        if proxy.is_socks:
            load_socksio()  # fail now, with how to install it, not at the first request
            if (
                len(username.encode()) > _MAX_SOCKS_CREDENTIAL
                or len(password.encode()) > _MAX_SOCKS_CREDENTIAL
            ):
                raise InvalidURL(
                    f"Proxy URL {proxy}: a SOCKS5 user name or password is at most 255 bytes"
                )
        return proxy

    @property
    def url(self) -> str:
        """The proxy's URL without credentials, e.g. ``http://127.0.0.1:3128``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def is_socks(self) -> bool:
        return self.scheme in ("socks5", "socks5h")

    @property
    def is_tls(self) -> bool:
        """True for an ``https://`` proxy: the connection to the proxy itself is TLS."""
        return self.scheme == "https"

    def __str__(self) -> str:
        return self.url


def _masked(url: str) -> str:
    """`url` with any password replaced, for error messages."""
    return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)


_PATTERN = re.compile(
    r"^(?P<scheme>all|http|https)://"
    r"(?P<wildcard>\*\.?)?"
    r"(?P<host>\[[^\]]*\]|[^:/\[\]]*)"
    r"(?::(?P<port>[0-9]{1,5}))?/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class URLPattern:
    """A key of a ``proxies=`` dict, and the URLs it matches.

    ``scheme://`` (``all``, ``http`` or ``https``) optionally followed by a
    host and a port. ``all://example.com`` matches that host only;
    ``all://*.example.com`` matches its subdomains (not the name itself);
    ``all://*`` any host. A pattern with a port matches only that port
    (the scheme's default port counts). Raises `ValueError` for anything else.
    """

    pattern: str
    scheme: str  # "" for all://
    host: str  # "" for any host
    subdomains: bool
    port: int | None

    @classmethod
    def parse(cls, pattern: str) -> URLPattern:
        """Parse a pattern such as ``"all://*.example.com"`` or ``"https://example.com:8443"``."""
        if not isinstance(pattern, str):
            raise TypeError(f"proxies= keys must be str patterns, not {type(pattern).__name__}")
        match = _PATTERN.match(pattern)
        if match is None:
            raise ValueError(
                f"Proxy pattern {pattern!r} is not valid: use 'all://', 'http://', 'https://',"
                " optionally followed by a host ('example.com', '*.example.com') and a port"
            )
        scheme = match["scheme"].lower()
        host = match["host"]
        wildcard = match["wildcard"]
        if wildcard == "*" and host:
            raise ValueError(
                f"Proxy pattern {pattern!r} is not valid: write '*.{host}' for its subdomains"
            )
        if host:
            try:
                host = URL(f"http://{host}/").host
            except InvalidURL as exc:
                raise ValueError(f"Proxy pattern {pattern!r} has an invalid host: {exc}") from exc
        port = None if match["port"] is None else int(match["port"])
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"Proxy pattern {pattern!r} has an invalid port")
        return cls(
            pattern=pattern,
            scheme="" if scheme == "all" else scheme,
            host=host,
            subdomains=wildcard == "*.",
            port=port,
        )

    def matches(self, url: URL) -> bool:
        if self.scheme and url.scheme != self.scheme:
            return False
        if self.port is not None and url.port != self.port:
            return False
        if not self.host:
            return True
        if self.subdomains:
            return url.host.endswith("." + self.host)
        return url.host == self.host

    @property
    def priority(self) -> tuple[bool, bool, bool, int, bool]:
        """Sort key, larger is more specific: a port, then a host (exact before
        wildcard, longer before shorter), then a scheme."""
        return (
            self.port is not None,
            bool(self.host),
            bool(self.host) and not self.subdomains,
            len(self.host),
            bool(self.scheme),
        )


class NoProxy:
    """The hosts a ``NO_PROXY`` value sends direct.

    Entries are separated by commas or white space:

    - ``*`` matches every host;
    - a name (``example.com`` or ``.example.com``; ``*.example.com`` is
      read the same way) matches the name and its subdomains, on label
      boundaries only (``example.com`` does not match ``badexample.com``);
    - an IP address (``127.0.0.1``, ``::1``, ``[::1]``) matches that address;
      a CIDR range (``10.0.0.0/8``, ``fd00::/8``) the addresses in it;
    - any of these followed by ``:port`` (IPv6 in brackets) matches only that port.

    Names are compared as written: no DNS lookup is made, so ``localhost``
    does not match ``127.0.0.1``. A URL whose host is an IP address is
    matched by address entries only (an IPv6 zone id is never read as a
    name). Entries that are none of the above are ignored.
    """

    __slots__ = ("_everything", "_names", "_networks")

    def __init__(self, value: str) -> None:
        self._everything = False
        self._names: list[tuple[str, int | None]] = []
        self._networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None]] = []
        for entry in re.split(r"[\s,]+", value.strip()):
            if entry:
                self._add(entry)

    def _add(self, entry: str) -> None:
        if entry == "*":
            self._everything = True
            return
        network = _as_network(entry)
        if network is not None:
            self._networks.append((network, None))
            return
        host, port = _split_host_port(entry)
        if port is not None and not 0 < port < 65536:
            return
        network = _as_network(host.strip("[]"))
        if network is not None:
            self._networks.append((network, port))
            return
        name = host.removeprefix("*").strip(".").lower()
        if not name:
            return
        try:
            name = URL(f"http://{name}/").host
        except InvalidURL:
            return
        self._names.append((name, port))

    def __bool__(self) -> bool:
        return self._everything or bool(self._names) or bool(self._networks)

    def matches(self, url: URL) -> bool:
        """True when requests to `url` must not go through a proxy."""
        if self._everything:
            return True
        host = url.host
        port = url.port
        address = _as_address(host)
        if address is not None:
            return any(
                address in network and (wanted is None or wanted == port)
                for network, wanted in self._networks
            )
        host = host.rstrip(".")
        return any(
            (host == name or host.endswith("." + name)) and (wanted is None or wanted == port)
            for name, wanted in self._names
        )


def _as_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # A zone id ("fe80::1%eth0", or percent-encoded "%25eth0") is not part of the address.
    try:
        return ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return None


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, _, rest = entry.partition("]")
        host += "]"
        if rest.startswith(":") and rest[1:].isdigit():
            return host, int(rest[1:])
        return host, None
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry, None


def proxies_from_environ(environ: Mapping[str, str]) -> tuple[dict[str, str], NoProxy]:
    """The proxy patterns and ``NO_PROXY`` rules of an environment.

    ``HTTP_PROXY`` serves ``http://``, ``HTTPS_PROXY`` ``https://`` and
    ``ALL_PROXY`` ``all://``; each is read in lower and upper case, and the
    lower-case one wins when both are set (as in curl). An empty variable
    counts as unset. A value without a scheme (``proxy:3128``) means
    ``http://``. The upper-case ``HTTP_PROXY`` is ignored when
    ``REQUEST_METHOD`` is set: in a CGI program it comes from a request
    header ("httpoxy").
    """

    def get(name: str) -> str:
        lower = environ.get(name.lower(), "").strip()
        if lower:
            return lower
        if name == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
            return ""
        return environ.get(name, "").strip()

    patterns: dict[str, str] = {}
    for variable, pattern in (
        ("ALL_PROXY", "all://"),
        ("HTTP_PROXY", "http://"),
        ("HTTPS_PROXY", "https://"),
    ):
        value = get(variable)
        if value:
            patterns[pattern] = value if "://" in value else "http://" + value
    return patterns, NoProxy(get("NO_PROXY"))


class ProxyMap:
    """The proxy for each URL, from ``proxies=`` or the environment.

    Build it with `ProxyMap.from_config`, which returns None when no URL
    would ever be proxied, so that the common case costs nothing per request.
    """

    __slots__ = ("_no_proxy", "_patterns")

    def __init__(
        self, patterns: list[tuple[URLPattern, Proxy | None]], no_proxy: NoProxy | None = None
    ) -> None:
        self._patterns = sorted(patterns, key=lambda item: item[0].priority, reverse=True)
        self._no_proxy = no_proxy

    @classmethod
    def from_config(
        cls, proxies: Any, *, trust_env: bool, environ: Mapping[str, str]
    ) -> ProxyMap | None:
        """The map for a client's ``proxies=`` and ``trust_env``.

        ``proxies`` is a URL (str or `URL`) for all traffic, or a dict from
        patterns to proxy URLs or None (None: direct). Given ``proxies``, the
        environment's proxy variables are not read at all; otherwise, with
        ``trust_env``, they are (see `proxies_from_environ`). Raises
        `InvalidURL` for a bad proxy URL, `ValueError` for a bad pattern and
        `TypeError` for a value of the wrong type.
        """
        no_proxy: NoProxy | None = None
        if proxies is None:
            if not trust_env:
                return None
            proxies, no_proxy = proxies_from_environ(environ)
        elif isinstance(proxies, (str, URL)):
            proxies = {"all://": proxies}
        elif not isinstance(proxies, Mapping):
            raise TypeError(
                "proxies must be a proxy URL or a dict from patterns to proxy URLs,"
                f" not {type(proxies).__name__}"
            )
        patterns: list[tuple[URLPattern, Proxy | None]] = []
        for key, value in proxies.items():
            pattern = URLPattern.parse(key)
            if value is not None and not isinstance(value, (str, URL)):
                raise TypeError(
                    f"proxies[{key!r}] must be a proxy URL or None, not {type(value).__name__}"
                )
            patterns.append((pattern, None if value is None else Proxy.from_url(value)))
        if not any(proxy is not None for _, proxy in patterns):
            return None
        return cls(patterns, no_proxy or None)

    def select(self, url: URL) -> Proxy | None:
        """The proxy for a request to `url`, or None to connect directly."""
        if self._no_proxy is not None and self._no_proxy.matches(url):
            return None
        for pattern, proxy in self._patterns:
            if pattern.matches(url):
                return proxy
        return None

    def __repr__(self) -> str:
        patterns = ", ".join(f"{p.pattern!r}: {str(proxy)!r}" for p, proxy in self._patterns)
        return f"ProxyMap({{{patterns}}})"
