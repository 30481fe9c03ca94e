"""`Cookies`: a mutable mapping of cookie names to values over a `CookieJar`.

The matching rules (path, `Secure` only over https, expiry) are those of
`http.cookiejar`'s `DefaultCookiePolicy`; which `Domain` a `Set-Cookie` may
name follows RFC 6265 §5.3 with the public suffix list (`publicsuffixlist`,
which bundles the list: no network):

- a cookie without `Domain` is host-only: sent back to that very host only;
- `Domain` must be the request host or a parent of it on a label boundary
  (case-insensitive), and not a public suffix (`com`, `co.uk`, `github.io`,
  and any name the list does not know, such as `test`); a `Domain` equal to
  the request host makes a host-only cookie even when it is a public suffix
  (`localhost`);
- on an IP-address host (IPv6 zone identifiers included) cookies are
  host-only: a `Domain` naming another address, or part of one, is refused;
- a `Set-Cookie` holding a control character (NUL, CR, LF, other C0, DEL)
  is ignored as a whole.

`http.cookiejar` speaks urllib: two small adapters give it a urllib-shaped
view of our requests and responses.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
import re
import urllib.request
from collections.abc import Iterable, Iterator, MutableMapping
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Protocol, TypeVar, cast, overload

from publicsuffixlist import PublicSuffixList

from .exceptions import CookieConflict
from .headers import as_received

if TYPE_CHECKING:
    from http.client import HTTPResponse
    from typing import TypeAlias

    from _typeshed import SupportsKeysAndGetItem

    from .headers import Headers
    from .urls import URL

    CookieTypes: TypeAlias = (
        "Cookies | CookieJar | SupportsKeysAndGetItem[str, str] | Iterable[tuple[str, str]]"
    )

_T = TypeVar("_T")


class _Message(Protocol):
    """What the cookie jar needs of a request: its URL and its headers."""

    @property
    def url(self) -> URL: ...

    @property
    def headers(self) -> Headers: ...


class _Reply(Protocol):
    """What the cookie jar needs of a response: its headers and its request's URL."""

    @property
    def headers(self) -> Headers: ...

    @property
    def request(self) -> _Message: ...


# Control characters RFC 6265 never allows in a cookie (TAB is whitespace there).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    """The bundled public suffix list, parsed on first use (it takes tens of milliseconds)."""
    return PublicSuffixList()


def _ip_address(host: str) -> str | None:
    """`host` (as `URL.host` has it) without an IPv6 zone identifier, if it is an IP address."""
    address = host.partition("%")[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def _jar_host(url: URL) -> str:
    """The name `http.cookiejar` stores a host-only cookie of `url` under.

    That is its "effective request host": IPv6 in brackets, `.local` added
    to a name without a dot.
    """
    host = f"[{url.host}]" if ":" in url.host else url.host
    return host if "." in host else host + ".local"


class _CookiePolicy(DefaultCookiePolicy):
    """The stdlib policy, with RFC 6265 domain rules and the public suffix list.

    Host-only cookies (no `Domain`) go back only to the host that set them
    (`DomainStrictNonDomain`); cookies the program sets without a domain go
    to every host.
    """

    def __init__(self) -> None:
        super().__init__(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)

    def set_ok_domain(self, cookie: Cookie, request: urllib.request.Request) -> bool:
        if not cookie.domain_specified:
            return True  # host-only: the jar has stored the request's own host
        host = cast("_RequestAdapter", request).url.host
        domain = cookie.domain.lstrip(".").lower()
        if _ip_address(host) is not None:
            if domain not in (host, _ip_address(host)):
                return False  # another address, or part of one (`Domain=0.1`)
        elif domain != host and not host.endswith("." + domain):
            return False  # not a parent of the host on a label boundary (`ample.com`)
        elif not _public_suffixes().is_public(domain):
            return True
        elif domain != host:
            return False  # `co.uk`, `github.io`, `com`, `test`
        # RFC 6265 §5.3 steps 5-6: an IP address, or a public suffix naming the
        # host itself (`localhost`), makes a host-only cookie.
        cookie.domain = _jar_host(cast("_RequestAdapter", request).url)
        cookie.domain_specified = cookie.domain_initial_dot = False
        return True

    def return_ok_domain(self, cookie: Cookie, request: urllib.request.Request) -> bool:
        if not cookie.domain:
            return True  # set by the program for every host
        if _ip_address(cast("_RequestAdapter", request).url.host) is not None:
            return cookie.domain == _jar_host(cast("_RequestAdapter", request).url)
        return super().return_ok_domain(cookie, request)

    def domain_return_ok(self, domain: str, request: urllib.request.Request) -> bool:
        # The stdlib compares the bracketed IPv6 host by suffix; `return_ok_domain`
        # decides for IP hosts.
        if _ip_address(cast("_RequestAdapter", request).url.host) is not None:
            return True
        return bool(super().domain_return_ok(domain, request))


class _RequestAdapter(urllib.request.Request):
    """A urllib request for `url`, collecting the `Cookie` header the jar adds."""

    def __init__(self, url: URL) -> None:
        # No userinfo and no fragment: urllib would read `user@host` as the host.
        super().__init__(f"{url.scheme}://{url.authority}{url.full_path}")
        self.url = url


def _is_bad_set_cookie(name: bytes, value: bytes) -> bool:
    return name.lower() == b"set-cookie" and _CONTROL.search(value.decode("latin-1")) is not None


class _ResponseAdapter:
    """The `info().get_all()` view of our headers that `CookieJar` reads."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def info(self) -> _ResponseAdapter:
        return self

    def get_all(self, name: str, default: list[str]) -> list[str]:
        return self._headers.getlist(name) or default


class Cookies(MutableMapping[str, str]):
    """Cookies by name, stored in an `http.cookiejar.CookieJar` (`.jar`).

    Built from a dict or a list of `(name, value)` pairs (cookies for every
    host, path `/`), from another `Cookies` (its cookies are copied into a new
    jar), or from a `CookieJar` (used as is, with its own policy).

    The mapping interface works by name: `cookies[name]` raises `KeyError`
    when no cookie has that name and `CookieConflict` when several do (for
    several domains or paths); iteration yields the name of every cookie.
    """

    def __init__(self, cookies: CookieTypes | None = None) -> None:
        if isinstance(cookies, CookieJar):
            self.jar = cookies
        else:
            self.jar = CookieJar(policy=_CookiePolicy())
            self.update(cookies)

    # -- exchange with requests and responses ------------------------------------

    def extract_cookies(self, response: _Reply) -> None:
        """Store the cookies of `response`'s `Set-Cookie` headers that its request's URL may set.

        Refused cookies (foreign domain, bad path...) are dropped silently; a
        cookie with `Max-Age=0` or an `Expires` in the past deletes the one
        it names.
        """
        self._extract(response.headers, response.request.url)

    def _extract(self, headers: Headers, url: URL) -> None:
        if "set-cookie" not in headers and "set-cookie2" not in headers:
            return  # the common case, on every response: skip the jar's machinery
        if any(_CONTROL.search(value) for value in headers.getlist("set-cookie")):
            # A cookie with a control byte would break every later request: drop it.
            clean = [(n, v) for n, v in headers.raw if not _is_bad_set_cookie(n, v)]
            headers = type(headers)._from_trusted_raw(clean)
        # CookieJar.extract_cookies wants an http.client.HTTPResponse; it only
        # calls .info().get_all() on it.
        response = cast("HTTPResponse", _ResponseAdapter(headers))
        self.jar.extract_cookies(response, _RequestAdapter(url))

    def cookie_header_for(self, url: URL) -> str | None:
        """The `Cookie` header value for a request to `url`; None when no cookie matches."""
        if not len(self.jar):
            return None  # no cookie at all: skip building urllib's request
        adapter = _RequestAdapter(url)
        self.jar.add_cookie_header(adapter)
        return adapter.get_header("Cookie")

    def set_cookie_header(self, request: _Message) -> None:
        """Set `request.headers["Cookie"]` to the cookies matching `request.url`.

        The header is left alone when no cookie matches.
        """
        value = self.cookie_header_for(request.url)
        if value is not None:
            # Cookie values are the bytes a server sent, read as latin-1: send them back so.
            request.headers["Cookie"] = as_received(value)

    def _bound_to(self, url: URL) -> Cookies:
        """A copy in which the cookies for every host are host-only cookies of `url`'s host.

        Per-request cookies are meant for the request's host: a redirect to
        another host must not carry them.
        """
        host = _jar_host(url)
        bound = Cookies()
        for cookie in self.jar:
            cookie = copy.copy(cookie)
            if not cookie.domain:
                cookie.domain = host
            bound.jar.set_cookie(cookie)
        return bound

    # -- by name, domain and path ------------------------------------------------

    def set(self, name: str, value: str, domain: str = "", path: str = "/") -> None:
        """Set a cookie; `domain=""` sends it to every host."""
        cookie = Cookie(
            version=0,
            name=name,
            value=value,
            port=None,
            port_specified=False,
            domain=domain,
            domain_specified=bool(domain),
            domain_initial_dot=domain.startswith("."),
            path=path,
            path_specified=bool(path),
            secure=False,
            expires=None,
            discard=True,
            comment=None,
            comment_url=None,
            rest={},
            rfc2109=False,
        )
        self.jar.set_cookie(cookie)

    @overload
    def get(
        self, name: str, default: None = None, domain: str | None = None, path: str | None = None
    ) -> str | None: ...

    @overload
    def get(
        self, name: str, default: str | _T, domain: str | None = None, path: str | None = None
    ) -> str | _T: ...

    def get(
        self,
        name: str,
        default: str | _T | None = None,
        domain: str | None = None,
        path: str | None = None,
    ) -> str | _T | None:
        """The value of the cookie `name`, or `default` when there is none.

        `domain` and `path` narrow the search (a leading dot does not matter:
        `domain="example.org"` also finds a cookie for `.example.org`). Raises `CookieConflict` when
        several cookies match.
        """
        found = self._matching(name, domain, path)
        if not found:
            return default
        if len(found) > 1:
            where = ", ".join(f"{c.domain or '*'}{c.path}" for c in found)
            raise CookieConflict(f"Several cookies named {name!r} ({where})")
        return found[0].value or ""

    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> None:
        """Remove every cookie named `name` (narrowed by `domain` and `path`)."""
        for cookie in self._matching(name, domain, path):
            self.jar.clear(cookie.domain, cookie.path, cookie.name)

    def clear(self, domain: str | None = None, path: str | None = None) -> None:
        """Remove every cookie, or those of `domain` and/or `path`."""
        for cookie in self._matching(None, domain, path):
            self.jar.clear(cookie.domain, cookie.path, cookie.name)

    def _matching(self, name: str | None, domain: str | None, path: str | None) -> list[Cookie]:
        # A leading dot is ignored: "example.org" finds ".example.org" and back.
        domains = None if domain is None else {domain.lstrip("."), "." + domain.lstrip(".")}
        return [
            cookie
            for cookie in list(self.jar)
            if (name is None or cookie.name == name)
            and (domains is None or cookie.domain in domains)
            and (path is None or cookie.path == path)
        ]

    # -- mapping interface -------------------------------------------------------

    def update(self, cookies: CookieTypes | None = None, /, **kwargs: str) -> None:
        """Add cookies: those of a `Cookies` or `CookieJar` with their domain
        and path, names and values of a mapping or of pairs for every host."""
        if isinstance(cookies, Cookies):
            cookies = cookies.jar
        if isinstance(cookies, CookieJar):
            for cookie in cookies:
                self.jar.set_cookie(copy.copy(cookie))
        elif hasattr(cookies, "keys"):
            mapping = cast("SupportsKeysAndGetItem[str, str]", cookies)
            for name in mapping.keys():  # noqa: SIM118 (no __iter__ promised)
                self.set(name, mapping[name])
        elif cookies is not None:
            for name, value in cookies:
                self.set(name, value)
        for name, value in kwargs.items():
            self.set(name, value)

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        if not self._matching(name, None, None):
            raise KeyError(name)
        self.delete(name)

    def __iter__(self) -> Iterator[str]:
        return (cookie.name for cookie in list(self.jar))

    def __len__(self) -> int:
        return len(self.jar)

    def __bool__(self) -> bool:
        return any(True for _ in self.jar)

    def __repr__(self) -> str:
        cookies = ", ".join(
            f"<Cookie {c.name}={c.value} for {c.domain or '*'}{c.path}>" for c in self.jar
        )
        return f"<Cookies[{cookies}]>"
