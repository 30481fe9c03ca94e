"""Which proxy a URL takes: proxy URLs, patterns, the environment, NO_PROXY (sans-I/O)."""

from __future__ import annotations

import sys

import pytest

import httpcore
from httpcore._core.auth import build_basic_auth_header
from httpcore._core.proxies import NoProxy, Proxy, ProxyMap, URLPattern, proxies_from_environ


def _select(proxies: object, url: str, environ: dict[str, str] | None = None) -> str | None:
    proxy_map = ProxyMap.from_config(proxies, trust_env=True, environ=environ or {})
    if proxy_map is None:
        return None
    proxy = proxy_map.select(httpcore.URL(url))
    return None if proxy is None else str(proxy)


# -- proxy URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://proxy:3128", ("http", "proxy", 3128)),
        ("http://proxy", ("http", "proxy", 80)),
        ("https://proxy", ("https", "proxy", 443)),
        ("socks5://proxy", ("socks5", "proxy", 1080)),
        ("SOCKS5H://Proxy:9050/", ("socks5h", "proxy", 9050)),
        ("http://[::1]:8080", ("http", "::1", 8080)),
    ],
)
def test_proxy_url(url: str, expected: tuple[str, str, int]) -> None:
    proxy = Proxy.from_url(url)
    assert (proxy.scheme, proxy.host, proxy.port) == expected
    assert proxy.authorization is None


def test_proxy_url_str_has_no_credentials() -> None:
    proxy = Proxy.from_url("http://user:secret@[::1]:8080")
    assert str(proxy) == "http://[::1]:8080"
    assert "secret" not in repr(proxy)


def test_proxy_credentials_are_percent_decoded() -> None:
    proxy = Proxy.from_url("http://us%65r%40corp:p%3Ass%20word@proxy:3128")
    assert (proxy.username, proxy.password) == ("user@corp", "p:ss word")
    assert proxy.authorization == build_basic_auth_header("user@corp", "p:ss word")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://proxy", "has the scheme 'ftp'"),
        ("http://proxy/path", "must not have a path"),
        ("http://proxy?x=1", "must not have a path"),
        ("http://user:secret@proxy:99999", "Invalid proxy URL 'http://user:\\*\\*\\*@proxy"),
        ("socks5://" + "u" * 256 + ":p@proxy", "at most 255 bytes"),
    ],
)
def test_bad_proxy_urls(url: str, message: str) -> None:
    with pytest.raises(httpcore.InvalidURL, match=message) as info:
        Proxy.from_url(url)
    assert "secret" not in str(info.value)


def test_socks_without_socksio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "socksio", None)
    with pytest.raises(ImportError, match=r"pip install 'httpcore\[socks\]'"):
        Proxy.from_url("socks5://proxy")


# -- patterns -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("all://", "http://example.com", True),
        ("all://", "https://example.com:8443", True),
        ("http://", "http://example.com", True),
        ("http://", "https://example.com", False),
        ("https://", "https://example.com", True),
        ("all://example.com", "https://example.com", True),
        ("all://example.com", "http://www.example.com", False),
        ("all://*.example.com", "http://www.example.com", True),
        ("all://*.example.com", "http://a.b.example.com", True),
        ("all://*.example.com", "http://example.com", False),
        ("all://*.example.com", "http://badexample.com", False),
        ("all://*", "http://anything.example", True),
        ("https://example.com:8443", "https://example.com:8443", True),
        ("https://example.com:8443", "https://example.com", False),
        ("https://example.com:443", "https://example.com", True),
        ("all://EXAMPLE.com", "http://example.COM", True),
        ("all://bücher.example", "http://xn--bcher-kva.example", True),
        ("all://[::1]", "http://[::1]:8000", True),
        ("all://127.0.0.1:8000", "http://127.0.0.1:8000/x", True),
    ],
)
def test_pattern_matching(pattern: str, url: str, matches: bool) -> None:
    assert URLPattern.parse(pattern).matches(httpcore.URL(url)) is matches


@pytest.mark.parametrize(
    "pattern",
    ["example.com", "ftp://", "all:/", "all://*example.com", "all://a/b", "all://a:0", "all://a b"],
)
def test_bad_patterns(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"Proxy pattern"):
        URLPattern.parse(pattern)


def test_pattern_keys_must_be_str() -> None:
    with pytest.raises(TypeError, match="keys must be str"):
        ProxyMap.from_config({1: "http://p"}, trust_env=False, environ={})


def test_most_specific_pattern_wins() -> None:
    proxies = {
        "all://": "http://all:1",
        "https://": "http://https:1",
        "all://*.example.com": "http://wild:1",
        "all://www.example.com": "http://exact:1",
        "https://www.example.com:8443": "http://port:1",
        "all://direct.example.com": None,
    }
    assert _select(proxies, "http://other.org") == "http://all:1"
    assert _select(proxies, "https://other.org") == "http://https:1"
    assert _select(proxies, "https://api.example.com") == "http://wild:1"
    assert _select(proxies, "https://www.example.com") == "http://exact:1"
    assert _select(proxies, "https://www.example.com:8443") == "http://port:1"
    assert _select(proxies, "https://direct.example.com") is None


def test_one_url_for_everything() -> None:
    assert _select("http://p:1", "https://example.com") == "http://p:1"
    assert _select(httpcore.URL("socks5h://p:1"), "http://example.com") == "socks5h://p:1"


def test_no_pattern_matches() -> None:
    assert _select({"https://": "http://p:1"}, "http://example.com") is None


def test_a_map_that_proxies_nothing_is_none() -> None:
    assert ProxyMap.from_config({"all://": None}, trust_env=True, environ={}) is None
    assert ProxyMap.from_config(None, trust_env=False, environ={"HTTP_PROXY": "p"}) is None
    assert ProxyMap.from_config(None, trust_env=True, environ={"NO_PROXY": "*"}) is None


@pytest.mark.parametrize("value", [3128, ["http://p"], {"all://": 3128}])
def test_proxies_of_the_wrong_type(value: object) -> None:
    with pytest.raises(TypeError, match="proxy URL"):
        ProxyMap.from_config(value, trust_env=False, environ={})


def test_repr_shows_no_credentials() -> None:
    proxy_map = ProxyMap.from_config("http://u:secret@p:1", trust_env=False, environ={})
    assert repr(proxy_map) == "ProxyMap({'all://': 'http://p:1'})"


# -- the environment ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "url", "expected"),
    [
        ({"HTTP_PROXY": "http://up:1"}, "http://a.org", "http://up:1"),
        ({"HTTP_PROXY": "http://up:1"}, "https://a.org", None),
        ({"http_proxy": "http://low:1"}, "http://a.org", "http://low:1"),
        (
            {"HTTP_PROXY": "http://up:1", "http_proxy": "http://low:1"},
            "http://a.org",
            "http://low:1",
        ),
        ({"HTTP_PROXY": "http://up:1", "http_proxy": ""}, "http://a.org", "http://up:1"),
        ({"HTTPS_PROXY": "http://s:1"}, "https://a.org", "http://s:1"),
        ({"https_proxy": "https://s:1"}, "https://a.org", "https://s:1"),
        ({"ALL_PROXY": "socks5h://all:1"}, "https://a.org", "socks5h://all:1"),
        ({"all_proxy": "socks5://all:1"}, "http://a.org", "socks5://all:1"),
        ({"ALL_PROXY": "http://all:1", "HTTPS_PROXY": "http://s:1"}, "https://a", "http://s:1"),
        ({"ALL_PROXY": "http://all:1", "HTTPS_PROXY": "http://s:1"}, "http://a", "http://all:1"),
        ({"HTTP_PROXY": "proxy.corp:3128"}, "http://a.org", "http://proxy.corp:3128"),
        ({"HTTP_PROXY": "  "}, "http://a.org", None),
        # httpoxy: in a CGI program HTTP_PROXY comes from the request's Proxy header.
        ({"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}, "http://a.org", None),
        ({"http_proxy": "http://ok:1", "REQUEST_METHOD": "GET"}, "http://a.org", "http://ok:1"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "a.org"}, "http://a.org", None),
        ({"HTTP_PROXY": "http://p:1", "no_proxy": "a.org"}, "http://b.org", "http://p:1"),
        (
            {"HTTP_PROXY": "http://p:1", "NO_PROXY": "b", "no_proxy": "a.org"},
            "http://b",
            "http://p:1",
        ),
    ],
)
def test_environment(environ: dict[str, str], url: str, expected: str | None) -> None:
    assert _select(None, url, environ) == expected


def test_explicit_proxies_replace_the_environment() -> None:
    environ = {"HTTP_PROXY": "http://env:1", "NO_PROXY": "*"}
    assert _select({"https://": "http://p:1"}, "http://a.org", environ) is None
    assert _select("http://p:1", "http://a.org", environ) == "http://p:1"


def test_proxies_from_environ_shape() -> None:
    patterns, no_proxy = proxies_from_environ({"HTTPS_PROXY": "p:1", "NO_PROXY": ""})
    assert patterns == {"https://": "http://p:1"}
    assert not no_proxy


def test_bad_environment_proxy_is_an_error() -> None:
    with pytest.raises(httpcore.InvalidURL, match="scheme 'ftp'"):
        _select(None, "http://a.org", {"HTTP_PROXY": "ftp://p"})


# -- NO_PROXY -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypass"),
    [
        ("*", "http://anything.example", True),
        ("example.com", "http://example.com", True),
        ("example.com", "http://www.example.com", True),
        ("example.com", "http://badexample.com", False),
        (".example.com", "http://example.com", True),
        (".example.com", "http://a.b.example.com", True),
        ("*.example.com", "http://www.example.com", True),
        ("Example.COM.", "http://www.example.com./", True),
        ("example.com", "http://example.org", False),
        ("other.org, example.com", "http://example.com", True),
        ("other.org example.com", "http://example.com", True),
        ("example.com:8080", "http://example.com:8080", True),
        ("example.com:8080", "http://example.com", False),
        ("bücher.example", "http://www.xn--bcher-kva.example", True),
        ("127.0.0.1", "http://127.0.0.1:8000", True),
        ("127.0.0.1", "http://127.0.0.2", False),
        ("127.0.0.1:8000", "http://127.0.0.1:8000", True),
        ("127.0.0.1:8000", "http://127.0.0.1:9000", False),
        ("10.0.0.0/8", "http://10.20.30.40", True),
        ("10.0.0.0/8", "http://11.0.0.1", False),
        ("10.1.2.3/8", "http://10.9.9.9", True),
        ("::1", "http://[::1]:8000", True),
        ("[::1]", "http://[::1]", True),
        ("::1/128", "http://[::1]", True),
        ("fd00::/8", "http://[fd12::1]", True),
        ("fd00::/8", "http://[fe80::1]", False),
        ("[::1]:8000", "http://[::1]:8000", True),
        ("[::1]:8000", "http://[::1]:9000", False),
        # Names never match addresses (no DNS lookups), nor addresses names.
        ("localhost", "http://127.0.0.1", False),
        ("127.0.0.1", "http://localhost", False),
        ("0.1", "http://10.0.0.1", False),
        # Entries that are none of the forms are ignored.
        ("exa mple.com,", "http://example.com", False),
        ("example.com:99999", "http://example.com", False),
        (".", "http://example.com", False),
        ("*.", "http://example.com", False),
        ("a_b!.com", "http://a_b!.com", True),
        ("bad..name", "http://example.com", False),
        ("☃.example", "http://xn--n3h.example", False),
        ("", "http://example.com", False),
    ],
)
def test_no_proxy(no_proxy: str, url: str, bypass: bool) -> None:
    assert NoProxy(no_proxy).matches(httpcore.URL(url)) is bypass


ZONED = ["[fe80::1%25eth0]", "[fe80::1%eth0]", "[fe80::1%25eth0]:8000", "[fe80::1%25eth0.lan]"]


@pytest.mark.parametrize("authority", ZONED)
@pytest.mark.parametrize(
    "entry",
    # The zone id, its tail, or a name ending like it: never a host suffix.
    [
        "eth0",
        ".eth0",
        "*.eth0",
        "0",
        "1",
        ".1",
        "0.1",
        "lan",
        ".lan",
        "eth0.lan",
        "25eth0",
        "%25eth0",
        "1%25eth0",
        "fe80::2",
    ],
)
def test_no_proxy_never_reads_a_zone_id_as_a_name(authority: str, entry: str) -> None:
    url = httpcore.URL(f"http://{authority}/")
    assert not NoProxy(entry).matches(url)
    environ = {"HTTP_PROXY": "http://p:1", "NO_PROXY": entry}
    assert _select(None, str(url), environ) == "http://p:1"


@pytest.mark.parametrize("authority", ZONED)
@pytest.mark.parametrize(
    "entry", ["fe80::1", "[fe80::1]", "fe80::/10", "fe80::1/128", "fe80::1%eth0", "*"]
)
def test_no_proxy_matches_a_zoned_address_by_its_address(authority: str, entry: str) -> None:
    # An IPv6 literal with a zone id is an address: address entries apply to it.
    url = httpcore.URL(f"http://{authority}/")
    assert NoProxy(entry).matches(url)
    environ = {"HTTP_PROXY": "http://p:1", "NO_PROXY": f"eth0, {entry}"}
    assert _select(None, str(url), environ) is None


def test_no_proxy_is_false_when_empty() -> None:
    assert not NoProxy(" , ")
    assert NoProxy("*")
    assert NoProxy("10.0.0.0/8")
