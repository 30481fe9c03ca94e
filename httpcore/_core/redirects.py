"""The redirect policy, as pure functions of a request and its response.

`build_redirect_request` turns a redirect response into the next request to
send: the new URL, the method and body it keeps or drops, and the headers that
may follow it. The client owns the loop (the `max_redirects` count, history,
auth flows and netrc lookups for the new host).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cookies import Cookies
from .exceptions import RemoteProtocolError, StreamConsumed, UnsupportedProtocol
from .models import Request

if TYPE_CHECKING:
    from .content import RequestBody
    from .models import BaseResponse
    from .urls import URL

__all__ = ["build_redirect_request", "is_same_origin_for_credentials", "redirect_method"]

# Headers that only make sense for the body they came with.
_BODY_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding")
# Headers that must not reach another origin.
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")


def redirect_method(method: str, status_code: int) -> str:
    """The method of the request that follows a `status_code` redirect of a `method` request.

    301 turns POST into GET; 302 and 303 turn every method but HEAD into GET
    (as browsers do); any other status keeps the method.
    """
    method = method.upper()
    if status_code in (302, 303) and method != "HEAD":
        return "GET"
    if status_code == 301 and method == "POST":
        return "GET"
    return method


def is_same_origin_for_credentials(old_url: URL, new_url: URL) -> bool:
    """Whether credentials sent to `old_url` may also be sent to `new_url`.

    True for the same scheme, host and port, and for the upgrade of the same
    host from http on port 80 to https on port 443.
    """
    if (old_url.scheme, old_url.host, old_url.port) == (new_url.scheme, new_url.host, new_url.port):
        return True
    return (
        old_url.scheme == "http"
        and new_url.scheme == "https"
        and old_url.host == new_url.host
        and old_url.port == 80
        and new_url.port == 443
    )


def build_redirect_request(request: Request, response: BaseResponse) -> Request:
    """The request to send next, following the redirect `response` to `request`.

    Raises `RemoteProtocolError` when the `Location` header is missing or not a
    URL, `UnsupportedProtocol` when it leads to a scheme other than http and
    https, and `StreamConsumed` when the body must be resent but cannot be
    (a streamed body on a 307 or 308).

    Cookies that the redirect response sets are added to a copy of the
    request's cookies, so the next hop sends them; cookies are then selected
    afresh for the new URL.
    """
    url = _redirect_url(request, response)
    method = redirect_method(request.method, response.status_code)
    headers = request.headers.copy()
    headers.pop("host", None)  # Request computes it for the new URL

    explicit_cookie = request._explicit_cookie
    if not is_same_origin_for_credentials(request.url, url):
        for name in _CREDENTIAL_HEADERS:
            headers.pop(name, None)
        explicit_cookie = None
    if explicit_cookie is None:
        headers.pop("cookie", None)  # from the jar: chosen afresh for the new URL

    body: RequestBody | None = None
    if method == request.method and response.status_code not in (302, 303):
        if not request.body.can_replay:
            raise StreamConsumed(
                f"Cannot follow the {response.status_code} redirect: the request body was a"
                " stream that cannot be sent again (read() the request first to allow it)"
            )
        body = request.body
    else:
        for name in _BODY_HEADERS:
            headers.pop(name, None)

    cookies = request.cookies
    if "set-cookie" in response.headers:
        cookies = Cookies(cookies)
        cookies._extract(response.headers, request.url)

    return Request(method, url, headers=headers, cookies=cookies, body=body)


def _redirect_url(request: Request, response: BaseResponse) -> URL:
    # An empty Location would redirect to the same URL again and again.
    locations = {value.strip() for value in response.headers.getlist("location")} - {""}
    if len(locations) != 1:
        problem = "no Location header" if not locations else "several Location headers"
        raise RemoteProtocolError(
            f"Redirect response {response.status_code} has {problem}", request=request
        )
    location = _as_utf8(locations.pop())
    try:
        url = request.url.join(location)
    except ValueError as exc:  # InvalidURL
        raise RemoteProtocolError(
            f"Redirect to an invalid Location {location!r}: {exc}", request=request
        ) from exc
    if not url.fragment and request.url.fragment:
        url = url.copy_with(fragment=request.url.fragment)
    if url.scheme not in ("http", "https"):
        raise UnsupportedProtocol(
            f"Redirect to {str(url)!r}: the scheme {url.scheme!r} is not supported",
            request=request,
        )
    return url


def _as_utf8(location: str) -> str:
    """Header bytes arrive decoded as latin-1; servers mostly send UTF-8 in `Location`."""
    try:
        return location.encode("latin-1").decode("utf-8")
    except UnicodeError:  # already text, or not UTF-8: take the characters as they are
        return location
