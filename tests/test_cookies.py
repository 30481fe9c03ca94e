from __future__ import annotations

import re
import time
from email.utils import formatdate
from http.cookiejar import CookieJar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpcore._core.cookies import Cookies
from httpcore._core.exceptions import CookieConflict
from httpcore._core.models import BaseResponse, Request
from httpcore._core.urls import URL


def response_setting(url: str, *set_cookies: str) -> BaseResponse:
    headers = [("Set-Cookie", value) for value in set_cookies]
    return BaseResponse(200, headers=headers, request=Request("GET", url))


def header_for(cookies: Cookies, url: str) -> str | None:
    request = Request("GET", url)
    cookies.set_cookie_header(request)
    return request.headers.get("Cookie")


# -- construction ----------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        {"a": "1", "b": "2"},
        [("a", "1"), ("b", "2")],
    ],
)
def test_build_from_dict_or_pairs(source: object) -> None:
    cookies = Cookies(source)  # type: ignore[arg-type]
    assert dict(cookies) == {"a": "1", "b": "2"}
    assert len(cookies) == 2
    assert bool(cookies)
    # Cookies given by name go to every host and path.
    assert header_for(cookies, "https://anything.example/x/y") == "a=1; b=2"


def test_build_empty() -> None:
    cookies = Cookies()
    assert len(cookies) == 0
    assert not cookies
    assert list(cookies) == []
    assert cookies.get("a") is None
    assert isinstance(cookies.jar, CookieJar)


def test_build_from_cookie_jar_uses_it_as_is() -> None:
    jar = CookieJar()
    cookies = Cookies(jar)
    assert cookies.jar is jar
    cookies["a"] = "1"
    assert [c.name for c in jar] == ["a"]


def test_build_from_cookies_copies() -> None:
    original = Cookies()
    original.set("a", "1", domain="example.org", path="/app")
    copy = Cookies(original)
    assert copy.jar is not original.jar
    copy["b"] = "2"
    original.delete("a")
    assert "b" not in original
    assert copy.get("a", domain="example.org", path="/app") == "1"


def test_update_from_every_kind() -> None:
    class KeysOnly:
        """Has keys() and [] but is no Mapping."""

        def keys(self) -> list[str]:
            return ["k"]

        def __getitem__(self, key: str) -> str:
            return key.upper()

    other = Cookies()
    other.set("c", "3", domain="example.org")
    jar = CookieJar()
    Cookies(jar).set("d", "4", path="/d")

    cookies = Cookies()
    cookies.update({"a": "1"})
    cookies.update([("b", "2")])
    cookies.update(other)
    cookies.update(jar)
    cookies.update(KeysOnly())  # type: ignore[arg-type]
    cookies.update(e="5")
    cookies.update()
    assert sorted(cookies.items()) == [
        ("a", "1"),
        ("b", "2"),
        ("c", "3"),
        ("d", "4"),
        ("e", "5"),
        ("k", "K"),
    ]
    assert cookies.get("c", domain="example.org") == "3"
    assert cookies.get("d", path="/d") == "4"


@given(st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz_-", min_size=1), st.text("xyz0189")))
def test_mapping_round_trip(values: dict[str, str]) -> None:
    cookies = Cookies(values)
    assert dict(cookies) == values
    assert len(cookies) == len(values)
    assert set(cookies) == set(values)
    for name in values:
        del cookies[name]
    assert len(cookies) == 0


# -- by name, domain and path ------------------------------------------------------


def test_set_get_and_mapping_access() -> None:
    cookies = Cookies()
    cookies.set("a", "1")
    cookies["b"] = "2"
    assert cookies["a"] == "1"
    assert cookies.get("b") == "2"
    assert cookies.get("missing") is None
    assert cookies.get("missing", "fallback") == "fallback"
    with pytest.raises(KeyError):
        cookies["missing"]
    assert "a" in cookies
    assert "missing" not in cookies


def test_setting_again_replaces_the_value() -> None:
    cookies = Cookies({"a": "1"})
    cookies["a"] = "2"
    assert len(cookies) == 1
    assert cookies["a"] == "2"


def test_get_narrowed_by_domain_and_path() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    cookies.set("a", "2", domain="other.org")
    cookies.set("a", "3", domain="other.org", path="/sub")
    assert cookies.get("a", domain="example.org") == "1"
    assert cookies.get("a", domain="other.org", path="/") == "2"
    assert cookies.get("a", path="/sub") == "3"
    assert cookies.get("a", domain="nowhere.org") is None
    assert cookies.get("a", domain="nowhere.org", default="x") == "x"


def test_get_conflict() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    cookies.set("a", "2", domain="other.org")
    with pytest.raises(CookieConflict, match=re.escape("example.org/, other.org/")):
        cookies.get("a")
    with pytest.raises(CookieConflict):
        cookies["a"]
    with pytest.raises(CookieConflict):
        cookies.get("a", path="/")


def test_get_domain_finds_host_only_and_dotted_cookies() -> None:
    cookies = Cookies()
    cookies.extract_cookies(
        response_setting("https://example.org/", "host=1", "dom=2; Domain=example.org")
    )
    assert {c.domain for c in cookies.jar} == {"example.org", ".example.org"}
    assert cookies.get("host", domain="example.org") == "1"
    assert cookies.get("dom", domain="example.org") == "2"
    assert cookies.get("dom", domain=".example.org") == "2"
    assert cookies.get("host", domain=".example.org") == "1"


def test_cookie_without_value_reads_as_empty() -> None:
    cookies = Cookies()
    cookies.extract_cookies(response_setting("https://example.org/", "flag"))
    assert cookies["flag"] == ""
    assert header_for(cookies, "https://example.org/") == "flag"


def test_delete() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    cookies.set("a", "2", domain="other.org")
    cookies.set("a", "3", domain="other.org", path="/sub")
    cookies.set("b", "4")
    cookies.delete("a", domain="other.org", path="/sub")
    assert len(cookies) == 3
    cookies.delete("a", domain="other.org")
    assert cookies["a"] == "1"
    cookies.delete("nothing")  # no error
    del cookies["a"]
    assert list(cookies) == ["b"]
    with pytest.raises(KeyError):
        del cookies["a"]
    cookies.delete("b")
    assert not cookies


def test_clear() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    cookies.set("b", "2", domain="example.org", path="/sub")
    cookies.set("c", "3", domain="other.org", path="/sub")
    cookies.set("d", "4")
    cookies.clear(path="/sub")
    assert sorted(cookies) == ["a", "d"]
    cookies.clear(domain="example.org")
    assert list(cookies) == ["d"]
    cookies.clear()
    assert len(cookies) == 0


def test_repr() -> None:
    cookies = Cookies()
    assert repr(cookies) == "<Cookies[]>"
    cookies.set("a", "1")
    cookies.set("b", "2", domain="example.org", path="/p")
    assert repr(cookies) == "<Cookies[<Cookie a=1 for */>, <Cookie b=2 for example.org/p>]>"


# -- extracting from responses -------------------------------------------------------


def test_extract_several_set_cookie_headers() -> None:
    cookies = Cookies({"old": "x"})
    cookies.set("gone", "x", domain="www.example.org")
    cookies.set("expired", "x", domain="www.example.org")
    past = formatdate(time.time() - 3600, usegmt=True)
    future = formatdate(time.time() + 3600, usegmt=True)
    cookies.extract_cookies(
        response_setting(
            "https://www.example.org/login",
            "host_only=1",
            "wide=2; Domain=example.org",
            "scoped=3; Path=/app/api",
            "secret=4; Secure; HttpOnly",
            f"lasting=5; Expires={future}",
            "gone=; Max-Age=0",
            f"expired=; Expires={past}",
        )
    )
    assert cookies.get("gone") is None
    assert cookies.get("expired") is None
    assert sorted(cookies) == ["host_only", "lasting", "old", "scoped", "secret", "wide"]

    def names(url: str) -> list[str]:
        header = header_for(cookies, url) or ""
        return sorted(pair.split("=")[0] for pair in header.split("; ") if pair)

    assert names("https://www.example.org/app/api/x") == [
        "host_only",
        "lasting",
        "old",
        "scoped",
        "secret",
        "wide",
    ]
    # Path=/app/api: not for other paths.
    assert names("https://www.example.org/app") == ["host_only", "lasting", "old", "secret", "wide"]
    # Secure: only over https.
    assert names("http://www.example.org/") == ["host_only", "lasting", "old", "wide"]
    # Domain=example.org reaches sibling hosts, host-only cookies do not.
    assert names("https://api.example.org/") == ["old", "wide"]
    assert names("https://example.net/") == ["old"]


def test_extracted_cookie_expires_later() -> None:
    cookies = Cookies()
    cookies.extract_cookies(response_setting("https://example.org/", "short=1; Max-Age=1"))
    assert header_for(cookies, "https://example.org/") == "short=1"
    cookie = next(iter(cookies.jar))
    cookie.expires = int(time.time()) - 1  # as if its second had passed
    assert header_for(cookies, "https://example.org/") is None


@pytest.mark.parametrize(
    ("url", "set_cookie"),
    [
        ("https://www.example.com/", "a=1; Domain=.com"),
        ("https://www.example.com/", "a=1; Domain=com"),
        ("https://www.example.com/", "a=1; Domain=other.org"),
        ("https://www.example.com/", "a=1; Domain=ample.com"),
        ("https://a.example.co.uk/", "a=1; Domain=co.uk"),
        ("https://a.example.co.uk/", "a=1; Domain=.co.uk"),
        ("https://shop.example.com.au/", "a=1; Domain=com.au"),
        ("https://www.example.com/", "a=1; Domain=sub.www.example.com"),
        ("https://10.0.0.1/", "a=1; Domain=0.0.1"),
        ("https://10.0.0.1/", "a=1; Domain=.0.1"),
    ],
)
def test_foreign_set_cookie_is_refused(url: str, set_cookie: str) -> None:
    cookies = Cookies()
    cookies.extract_cookies(response_setting(url, set_cookie))
    assert len(cookies) == 0


@pytest.mark.parametrize(
    ("url", "set_cookie", "domain"),
    [
        ("https://a.example.co.uk/", "a=1; Domain=example.co.uk", ".example.co.uk"),
        ("https://www.example.com/", "a=1; Domain=.example.com", ".example.com"),
        ("https://www.example.com/", "a=1; Domain=www.example.com", ".www.example.com"),
        ("https://10.0.0.1/", "a=1; Domain=10.0.0.1", "10.0.0.1"),  # host-only on an IP
        ("https://10.0.0.1/", "a=1", "10.0.0.1"),
        ("http://localhost:8000/", "a=1", "localhost.local"),
    ],
)
def test_own_domain_is_accepted(url: str, set_cookie: str, domain: str) -> None:
    cookies = Cookies()
    cookies.extract_cookies(response_setting(url, set_cookie))
    assert [(c.name, c.domain) for c in cookies.jar] == [("a", domain)]
    assert header_for(cookies, url) == "a=1"


# -- Cookie headers for requests -------------------------------------------------------


def test_set_cookie_header_without_match_adds_nothing() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    request = Request("GET", "https://other.org/")
    cookies.set_cookie_header(request)
    assert "cookie" not in request.headers
    assert cookies.cookie_header_for(URL("https://other.org/")) is None
    assert Cookies().cookie_header_for(URL("https://example.org/")) is None


def test_set_cookie_header_replaces_header() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    request = Request("GET", "https://example.org/", headers={"Cookie": "old=1"})
    cookies.set_cookie_header(request)
    assert request.headers.getlist("Cookie") == ["a=1"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/", "root=1"),
        ("https://example.org/docs", "deep=2; root=1"),
        ("https://example.org/docs/page?q=1#frag", "deep=2; root=1"),
        ("https://example.org/docsx", "root=1"),
        ("https://sub.example.org/docs/", "deep=2; root=1"),
        ("http://example.org/docs/", "root=1"),
        ("https://user:pw@example.org:8443/docs/", "deep=2; root=1"),
        ("https://example.net/docs/", None),
    ],
)
def test_path_domain_and_secure_matching(url: str, expected: str | None) -> None:
    cookies = Cookies()
    cookies.set("root", "1", domain="example.org", path="/")
    cookies.extract_cookies(
        response_setting(
            "https://www.example.org/", "deep=2; Domain=example.org; Path=/docs; Secure"
        )
    )
    assert cookies.cookie_header_for(URL(url)) == expected
    assert header_for(cookies, url) == expected


def test_request_with_cookies_gets_the_header() -> None:
    cookies = Cookies()
    cookies.set("a", "1", domain="example.org")
    assert Request("GET", "https://example.org/", cookies=cookies).headers["Cookie"] == "a=1"
    assert "cookie" not in Request("GET", "https://example.com/", cookies=cookies).headers
    request = Request("GET", "https://example.org/", cookies={"b": "2"})
    assert request.headers["Cookie"] == "b=2"
    assert isinstance(request.cookies, Cookies)
