from __future__ import annotations

import hashlib
import re
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpcore._core.auth import (
    Auth,
    BasicAuth,
    DigestAuth,
    FunctionAuth,
    _parse_challenges,
    auth_from_url,
    build_auth,
    build_basic_auth_header,
    netrc_credentials,
)
from httpcore._core.exceptions import RemoteProtocolError, RequestNotRead
from httpcore._core.models import BaseResponse, Request
from httpcore._core.urls import URL

RFC7616_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


class FixedDigestAuth(DigestAuth):
    """DigestAuth with a known client nonce, through its documented test hook."""

    def __init__(self, username: str | bytes, password: str | bytes, cnonce: str = "0a4f113b"):
        super().__init__(username, password)
        self.cnonce = cnonce
        self.calls: list[tuple[int, str]] = []

    def _get_client_nonce(self, nonce_count: int, nonce: str) -> str:
        self.calls.append((nonce_count, nonce))
        return self.cnonce


def parse_auth_params(value: str) -> dict[str, str]:
    """Split an `Authorization: Digest ...` value into its (unquoted) parameters."""
    scheme, _, rest = value.partition(" ")
    assert scheme == "Digest"
    params: dict[str, str] = {}
    for match in re.finditer(r'([\w*]+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', rest):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1)] = raw
    return params


def reply(
    request: Request,
    status: int = 401,
    www_authenticate: str | list[str] | None = None,
    **extra: str,
) -> BaseResponse:
    headers: list[tuple[str, str]] = []
    if isinstance(www_authenticate, str):
        headers.append(("WWW-Authenticate", www_authenticate))
    elif www_authenticate is not None:
        headers += [("WWW-Authenticate", value) for value in www_authenticate]
    headers += [(name.replace("_", "-"), value) for name, value in extra.items()]
    return BaseResponse(status, headers=headers, request=request)


def answer_challenge(
    auth: Auth, request: Request, challenge: str | list[str]
) -> tuple[Generator[Request, BaseResponse, None], Request]:
    """Run a flow up to its answer to a first 401; return the flow and that request."""
    flow = auth.auth_flow(request)
    first = next(flow)
    assert "authorization" not in first.headers
    second = flow.send(reply(first, 401, challenge))
    return flow, second


def finished(flow: Generator[Request, BaseResponse, None], response: BaseResponse) -> bool:
    try:
        flow.send(response)
    except StopIteration:
        return True
    return False


# -- Auth, BasicAuth, FunctionAuth, build_auth -----------------------------------


def test_default_auth_flow_sends_the_request_unchanged() -> None:
    request = Request("GET", "https://example.org/")
    flow = Auth().auth_flow(request)
    assert next(flow) is request
    assert "authorization" not in request.headers
    assert finished(flow, reply(request, 200))
    assert Auth.requires_request_body is False
    assert Auth.requires_response_body is False


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        ("user", "pass", "Basic dXNlcjpwYXNz"),
        ("Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ("", "", "Basic Og=="),
        ("user", "p:a:ss", "Basic dXNlcjpwOmE6c3M="),
        # str is UTF-8 (RFC 7617 charset="UTF-8"), even when latin-1 could encode it
        ("ü", "pässword", "Basic w7w6cMOkc3N3b3Jk"),
        ("ü", "€", "Basic w7w64oKs"),
        (b"user", b"pass", "Basic dXNlcjpwYXNz"),
        (b"\xff", "€", "Basic /zrigqw="),
        ("test", b"\x00\xff", "Basic dGVzdDoA/w=="),
    ],
)
def test_basic_auth_header(username: str | bytes, password: str | bytes, expected: str) -> None:
    assert build_basic_auth_header(username, password) == expected
    request = Request("GET", "https://example.org/")
    flow = BasicAuth(username, password).auth_flow(request)
    sent = next(flow)
    assert sent is request
    assert sent.headers["Authorization"] == expected
    assert finished(flow, reply(sent, 401))


def test_function_auth_yields_what_the_function_returns() -> None:
    other = Request("GET", "https://example.org/other")

    def sign(request: Request) -> Request:
        other.headers["X-Signed"] = request.method
        return other

    flow = FunctionAuth(sign).auth_flow(Request("PUT", "https://example.org/"))
    sent = next(flow)
    assert sent is other
    assert sent.headers["X-Signed"] == "PUT"
    assert finished(flow, reply(sent, 200))


def test_build_auth() -> None:
    digest = DigestAuth("user", "pass")
    assert build_auth(None) is None
    assert build_auth(digest) is digest

    basic = build_auth(("user", "pass"))
    assert isinstance(basic, BasicAuth)
    assert next(basic.auth_flow(Request("GET", "http://a/"))).headers["authorization"] == (
        "Basic dXNlcjpwYXNz"
    )

    def func(request: Request) -> Request:
        return request

    function = build_auth(func)
    assert isinstance(function, FunctionAuth)
    request = Request("GET", "http://a/")
    assert next(function.auth_flow(request)) is request


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (("user",), "got 1 items"),
        (("user", "pass", "extra"), "got 3 items"),
        ("user:pass", "not str"),
        (42, "not int"),
    ],
)
def test_build_auth_rejects(value: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        build_auth(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pass@example.org/", "Basic dXNlcjpwYXNz"),
        ("https://us%40er:p%3Ass@example.org/", build_basic_auth_header("us@er", "p:ss")),
        ("https://user@example.org/", build_basic_auth_header("user", "")),
        ("https://:secret@example.org/", build_basic_auth_header("", "secret")),
        ("https://example.org/", None),
    ],
)
def test_auth_from_url(url: str, expected: str | None) -> None:
    auth = auth_from_url(URL(url))
    if expected is None:
        assert auth is None
        return
    assert isinstance(auth, BasicAuth)
    assert next(auth.auth_flow(Request("GET", url))).headers["Authorization"] == expected


# -- netrc -----------------------------------------------------------------------

NETRC = """\
machine example.org
  login alice
  password wonderland

machine Upper.Example.COM login bob password builder

machine xn--bcher-kva.example login carol password books

machine 127.0.0.1 login dave password local

machine ::1 login erin password six

machine nopass.example login frank
"""


@pytest.fixture
def netrc_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "netrc"
    path.write_text(NETRC)
    monkeypatch.setenv("NETRC", str(path))
    return path


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.org", ("alice", "wonderland")),
        ("EXAMPLE.org", ("alice", "wonderland")),
        ("example.org:8443", ("alice", "wonderland")),
        ("upper.example.com", ("bob", "builder")),
        ("xn--bcher-kva.example", ("carol", "books")),
        ("Bücher.example", ("carol", "books")),
        ("bücher.example:8080", ("carol", "books")),
        ("127.0.0.1:8000", ("dave", "local")),
        ("::1", ("erin", "six")),
        ("[::1]:8080", ("erin", "six")),
        ("nopass.example", ("frank", "")),
        ("other.example", None),
        ("☃.example", None),  # not valid IDNA: only tried as given
    ],
)
def test_netrc_credentials_from_env(netrc_path: Path, host: str, expected: object) -> None:
    assert netrc_credentials(host) == expected


def test_netrc_default_entry(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text("machine example.org login a password b\ndefault login anon password x\n")
    assert netrc_credentials("example.org", str(path)) == ("a", "b")
    assert netrc_credentials("anything.example", str(path)) == ("anon", "x")


def test_netrc_explicit_file_wins_over_env(netrc_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-netrc"
    other.write_text("machine example.org login zed password zzz\n")
    assert netrc_credentials("example.org", str(other)) == ("zed", "zzz")


def test_netrc_falls_back_to_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert netrc_credentials("example.org") is None  # no ~/.netrc
    (tmp_path / ".netrc").write_text("machine example.org login home password sweet\n")
    (tmp_path / ".netrc").chmod(0o600)
    assert netrc_credentials("example.org") == ("home", "sweet")


@pytest.mark.parametrize(
    "content",
    [
        b"machine example.org login alice password wonderland bogus\n",
        b"login alice password wonderland\n",  # no machine
        b"machine\n",
        b"machine example.org login alice\npassword wonderland foo\n",
        b"machine example.org login \xff\xfe password x\n",  # not UTF-8
    ],
)
def test_netrc_malformed_file_gives_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "netrc"
    path.write_bytes(content)
    assert netrc_credentials("example.org", str(path)) is None


def test_netrc_missing_or_unreadable_file_gives_none(tmp_path: Path) -> None:
    assert netrc_credentials("example.org", str(tmp_path / "missing")) is None
    assert netrc_credentials("example.org", str(tmp_path)) is None  # a directory


# -- Digest: worked examples ------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_digest_rfc7616_examples(algorithm: str, expected: str) -> None:
    auth = FixedDigestAuth("Mufasa", "Circle of Life", cnonce=RFC7616_CNONCE)
    request = Request("GET", "http://www.example.org/dir/index.html")
    flow, sent = answer_challenge(auth, request, RFC7616_CHALLENGE.format(algorithm=algorithm))
    assert sent is request
    assert sent.headers["Authorization"] == (
        'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
        f'algorithm={algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        f'nc=00000001, cnonce="{RFC7616_CNONCE}", qop=auth, response="{expected}", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    assert auth.calls == [(1, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v")]
    assert finished(flow, reply(sent, 200))


def test_digest_rfc2617_example() -> None:
    auth = FixedDigestAuth("Mufasa", "Circle Of Life")
    request = Request("GET", "http://www.nowhere.org/dir/index.html")
    flow, sent = answer_challenge(auth, request, RFC2617_CHALLENGE)
    # No algorithm in the challenge: MD5, and none is echoed.
    assert sent.headers["Authorization"] == (
        'Digest username="Mufasa", realm="testrealm@host.com", uri="/dir/index.html", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", nc=00000001, cnonce="0a4f113b", '
        'qop=auth, response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert finished(flow, reply(sent, 200))


# -- Digest: every algorithm and qop ---------------------------------------------


def reference_response(
    algorithm: str, qop: str | None, method: str, uri: str, body: bytes, nc: str, cnonce: str
) -> str:
    """RFC 7616 §3.4.1 spelled out, for user "user", password "pässword", realm "r"."""
    name = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}[
        algorithm.upper().removesuffix("-SESS")
    ]

    def h(text: str | bytes) -> str:
        data = text if isinstance(text, bytes) else text.encode()
        return hashlib.new(name, data).hexdigest()

    ha1 = h("user:r:pässword")
    if algorithm.upper().endswith("-SESS"):
        ha1 = h(f"{ha1}:N:{cnonce}")
    ha2 = h(f"{method}:{uri}:{h(body)}") if qop == "auth-int" else h(f"{method}:{uri}")
    if qop is None:
        return h(f"{ha1}:N:{ha2}")
    return h(f"{ha1}:N:{nc}:{cnonce}:{qop}:{ha2}")


ALGORITHMS = ["MD5", "md5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "sha-512-256-SESS"]
QOP_CHOICES = [
    ('qop="auth"', "auth"),
    ('qop="auth-int"', "auth-int"),
    ('qop="auth-int,auth"', "auth"),
    ('qop="AUTH-INT, token"', "auth-int"),
    ("qop=auth", "auth"),
    (None, None),
]


@pytest.mark.parametrize(
    ("algorithm", "offered", "chosen"),
    [
        (algorithm, offered, chosen)
        for algorithm in ALGORITHMS
        for offered, chosen in QOP_CHOICES
        # -sess without qop is refused: see test_digest_malformed_challenge
        if offered is not None or not algorithm.upper().endswith("-SESS")
    ],
)
def test_digest_algorithms_and_qop(algorithm: str, offered: str | None, chosen: str | None) -> None:
    challenge = f'Digest realm="r", nonce="N", algorithm={algorithm}'
    if offered is not None:
        challenge += ", " + offered
    auth = FixedDigestAuth("user", "pässword", cnonce="c/n+o=")
    request = Request("POST", "https://example.org/a%20b/c?x=1&y=2", content=b"hello body")
    flow, sent = answer_challenge(auth, request, challenge)
    params = parse_auth_params(sent.headers["Authorization"])
    expected = reference_response(
        algorithm, chosen, "POST", "/a%20b/c?x=1&y=2", b"hello body", "00000001", "c/n+o="
    )
    assert params["response"] == expected
    assert params["algorithm"] == algorithm
    assert params["uri"] == "/a%20b/c?x=1&y=2"
    assert "opaque" not in params
    if chosen is None:
        assert set(params) == {"username", "realm", "uri", "algorithm", "nonce", "response"}
    else:
        assert (params["qop"], params["nc"], params["cnonce"]) == (chosen, "00000001", "c/n+o=")
    assert finished(flow, reply(sent, 200))


def test_digest_requires_the_request_body() -> None:
    assert DigestAuth.requires_request_body is True
    assert DigestAuth.requires_response_body is False


def test_digest_auth_int_with_unread_stream_raises() -> None:
    request = Request("POST", "https://example.org/", content=iter([b"chunk"]))
    with pytest.raises(RequestNotRead):
        answer_challenge(DigestAuth("u", "p"), request, 'Digest realm="r", nonce="n", qop=auth-int')


def test_digest_bytes_credentials_and_utf8_username() -> None:
    challenge = 'Digest realm="r", nonce="N", qop="auth"'
    as_bytes = FixedDigestAuth(b"user", "pässword".encode(), cnonce="c")
    _, sent = answer_challenge(as_bytes, Request("GET", "http://a/"), challenge)
    params = parse_auth_params(sent.headers["Authorization"])
    assert params["username"] == "user"
    assert params["response"] == reference_response("MD5", "auth", "GET", "/", b"", "00000001", "c")

    # A non-ASCII user name goes as username* (RFC 7616 §3.4.4), hashed as UTF-8.
    unicode_user = FixedDigestAuth("Jäsøn Doe", "Secret, or not?", cnonce="c")
    _, sent = answer_challenge(unicode_user, Request("GET", "http://a/"), challenge)
    params = parse_auth_params(sent.headers["Authorization"])
    assert "username" not in params
    assert params["username*"] == "UTF-8''J%C3%A4s%C3%B8n%20Doe"
    ha1 = hashlib.md5("Jäsøn Doe:r:Secret, or not?".encode()).hexdigest()
    ha2 = hashlib.md5(b"GET:/").hexdigest()
    assert params["response"] == hashlib.md5(f"{ha1}:N:00000001:c:auth:{ha2}".encode()).hexdigest()


def test_digest_quotes_are_escaped_and_realm_bytes_kept() -> None:
    # The realm's non-ASCII bytes (UTF-8 on the wire) are hashed as received.
    realm_on_wire = 'réalm "x", y\\z'.encode().decode("latin-1")
    escaped = realm_on_wire.replace("\\", "\\\\").replace('"', '\\"')
    auth = FixedDigestAuth('us"er\\', "pw", cnonce="c")
    _, sent = answer_challenge(
        auth, Request("GET", "http://a/"), f'Digest realm="{escaped}", nonce="N", qop=auth'
    )
    header = sent.headers["Authorization"]
    assert header.startswith(f'Digest username="us\\"er\\\\", realm="{escaped}", uri="/"')
    params = parse_auth_params(header)
    assert params["realm"] == realm_on_wire
    ha1 = hashlib.md5(b'us"er\\:' + 'réalm "x", y\\z'.encode() + b":pw").hexdigest()
    ha2 = hashlib.md5(b"GET:/").hexdigest()
    assert params["response"] == hashlib.md5(f"{ha1}:N:00000001:c:auth:{ha2}".encode()).hexdigest()


# -- Digest: challenge parsing ----------------------------------------------------


@pytest.mark.parametrize(
    ("header", "realm", "nonce", "opaque"),
    [
        ('Digest realm="a", nonce="b"', "a", "b", None),
        ('DIGEST REALM="a", NONCE="b", Opaque="o"', "a", "b", "o"),
        ("Digest realm=a,nonce=b", "a", "b", None),
        ('Digest  realm = "a" , nonce= "b"', "a", "b", None),
        ('Digest realm="a, \\"b\\" c", nonce="n,n"', 'a, "b" c', "n,n", None),
        ('Digest realm="", nonce="b"', "", "b", None),
        ('Digest nonce="x/y:z=", realm=r', "r", "x/y:z=", None),
        ('Basic realm="basic", Digest realm="a", nonce="b"', "a", "b", None),
        ('Basic dXNlcjpwYXNz==, Digest realm="a", nonce="b"', "a", "b", None),
        ('Basic realm="broken" junk, Digest realm="a", nonce="b"', "a", "b", None),
        ('Digest realm="a", nonce="b", Bearer realm="c", error="x"', "a", "b", None),
        (',, Newauth, , Digest realm="a",,nonce="b", Other', "a", "b", None),
        ('stray="param", Digest realm="a", nonce="b"', "a", "b", None),
        ('=junk, Digest realm="a", nonce="b"', "a", "b", None),
        (
            'Digest realm="a", nonce="b", algorithm=unknown, Digest realm="c", nonce="d"',
            "c",
            "d",
            None,
        ),
        (['Basic realm="x"', 'Digest realm="a", nonce="b", opaque=""'], "a", "b", ""),
    ],
)
def test_digest_challenge_parsing(
    header: str | list[str], realm: str, nonce: str, opaque: str | None
) -> None:
    _, sent = answer_challenge(FixedDigestAuth("u", "p"), Request("GET", "http://a/"), header)
    params = parse_auth_params(sent.headers["Authorization"])
    assert (params["realm"], params["nonce"], params.get("opaque")) == (realm, nonce, opaque)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ('Digest realm="a"', "'realm' and 'nonce' are required"),
        ('Digest nonce="a"', "'realm' and 'nonce' are required"),
        ("Digest", "'realm' and 'nonce' are required"),
        ('Digest realm="a", nonce="b", realm="c"', "parameter 'realm' given twice"),
        ('Digest realm="a" nonce="b"', "Malformed Digest challenge: cannot parse"),
        ('Digest realm="a", nonce="b", qop="auth', "Malformed Digest challenge: cannot parse"),
        ('Digest realm="a", nonce="b", =x', "Malformed Digest challenge: cannot parse"),
        ('Digest realm="a", nonce="b", algorithm=SHA-1', "Unsupported Digest algorithm 'SHA-1'"),
        ('Digest realm="a", nonce="b", qop="auth-conf"', "Unsupported Digest qop 'auth-conf'"),
        ('Digest realm="a", nonce="b", algorithm=MD5-sess', "'MD5-sess' requires a qop"),
        (
            'Digest realm="a", nonce="b", algorithm=X, Digest realm="a", nonce="b", algorithm=Y',
            "Unsupported Digest algorithm 'X'",
        ),
    ],
)
def test_digest_malformed_challenge(header: str, message: str) -> None:
    request = Request("GET", "http://a/")
    flow = DigestAuth("u", "p").auth_flow(request)
    next(flow)
    with pytest.raises(RemoteProtocolError, match=re.escape(message)) as info:
        flow.send(reply(request, 401, header))
    assert info.value.request is request


def test_digest_algorithm_missing_from_openssl(monkeypatch: pytest.MonkeyPatch) -> None:
    real_new = hashlib.new

    def new(name: str, *args: object, **kwargs: object) -> object:
        if name == "sha512_256":
            raise ValueError("unsupported hash type")
        return real_new(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "new", new)
    request = Request("GET", "http://a/")
    flow = DigestAuth("u", "p").auth_flow(request)
    next(flow)
    with pytest.raises(RemoteProtocolError, match="not available in this Python's OpenSSL"):
        flow.send(reply(request, 401, 'Digest realm="a", nonce="b", algorithm=SHA-512-256'))

    # A server offering a fallback is answered with it.
    request = Request("GET", "http://a/")
    _, sent = answer_challenge(
        FixedDigestAuth("u", "p"),
        request,
        [
            'Digest realm="a", nonce="b", algorithm=SHA-512-256',
            'Digest realm="a", nonce="b", algorithm=SHA-256',
        ],
    )
    assert parse_auth_params(sent.headers["Authorization"])["algorithm"] == "SHA-256"


@given(
    st.dictionaries(
        st.sampled_from(["realm", "nonce", "opaque", "domain", "charset", "x-extra"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")),
    )
)
def test_challenge_parameters_round_trip(params: dict[str, str]) -> None:
    quoted = ", ".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in params.items()
    )
    challenges = _parse_challenges(f'Basic realm="b", Digest {quoted}, Bearer x=y')
    assert [c.scheme for c in challenges] == ["basic", "digest", "bearer"]
    assert challenges[1].params == params
    assert challenges[1].error is None


# -- Digest: the flow -------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 302, 403, 500])
def test_digest_flow_ends_on_a_response_other_than_401(status: int) -> None:
    request = Request("GET", "http://a/")
    flow = DigestAuth("u", "p").auth_flow(request)
    assert "authorization" not in next(flow).headers
    assert finished(flow, reply(request, status, 'Digest realm="a", nonce="b"'))
    assert "authorization" not in request.headers


@pytest.mark.parametrize(
    "header", [None, 'Basic realm="x"', "Bearer", 'Basic realm="x" junk', "Negotiate, NTLM"]
)
def test_digest_401_without_digest_challenge_is_returned(header: str | None) -> None:
    request = Request("GET", "http://a/")
    flow = DigestAuth("u", "p").auth_flow(request)
    next(flow)
    assert finished(flow, reply(request, 401, header))
    assert "authorization" not in request.headers


def test_digest_401_after_fresh_credentials_is_returned() -> None:
    auth = FixedDigestAuth("u", "wrong")
    flow, sent = answer_challenge(auth, Request("GET", "http://a/"), 'Digest realm="a", nonce="1"')
    assert finished(flow, reply(sent, 401, 'Digest realm="a", nonce="2"'))
    assert len(auth.calls) == 1


def test_digest_nonce_is_reused_with_increasing_count() -> None:
    auth = FixedDigestAuth("u", "p")
    flow, sent = answer_challenge(
        auth, Request("GET", "https://example.org/one"), 'Digest realm="a", nonce="N", qop=auth'
    )
    assert parse_auth_params(sent.headers["Authorization"])["nc"] == "00000001"
    assert finished(flow, reply(sent, 200))

    for expected_nc, path in [("00000002", "/two"), ("00000003", "/three?q")]:
        request = Request("POST", f"https://EXAMPLE.org:443{path}", content=b"x")
        flow = auth.auth_flow(request)
        sent = next(flow)
        params = parse_auth_params(sent.headers["Authorization"])
        assert (params["nonce"], params["nc"], params["uri"]) == ("N", expected_nc, path)
        assert params["response"] == reference_hash_md5(
            "u", "a", "p", "N", expected_nc, "0a4f113b", "POST", path
        )
        assert finished(flow, reply(sent, 200))
    assert [nc for nc, _ in auth.calls] == [1, 2, 3]

    # Another origin (here: another port) starts without credentials.
    request = Request("GET", "https://example.org:8443/")
    flow = auth.auth_flow(request)
    assert "authorization" not in next(flow).headers
    assert finished(flow, reply(request, 200))


def reference_hash_md5(
    user: str, realm: str, password: str, nonce: str, nc: str, cnonce: str, method: str, uri: str
) -> str:
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    return hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()


@pytest.mark.parametrize("stale", ["stale=true", "stale=FALSE", ""])
def test_digest_401_after_reused_nonce_retries_once(stale: str) -> None:
    auth = FixedDigestAuth("u", "p")
    flow, sent = answer_challenge(
        auth, Request("GET", "http://a/"), 'Digest realm="a", nonce="old", qop=auth'
    )
    assert finished(flow, reply(sent, 200))

    request = Request("GET", "http://a/next")
    flow = auth.auth_flow(request)
    sent = next(flow)
    assert parse_auth_params(sent.headers["Authorization"])["nc"] == "00000002"
    retry = flow.send(reply(sent, 401, f'Digest realm="a", nonce="new", qop=auth, {stale}'))
    assert retry is request
    params = parse_auth_params(retry.headers["Authorization"])
    assert (params["nonce"], params["nc"]) == ("new", "00000001")
    # Only one retry, even when the server says stale again.
    assert finished(flow, reply(retry, 401, 'Digest realm="a", nonce="newer", stale=true'))

    # The newest challenge is the one remembered.
    flow = auth.auth_flow(Request("GET", "http://a/"))
    params = parse_auth_params(next(flow).headers["Authorization"])
    assert params["nonce"] == "newer"
    assert "qop" not in params
    assert "nc" not in params


def test_digest_stale_after_fresh_credentials_retries_once() -> None:
    auth = FixedDigestAuth("u", "p")
    flow, sent = answer_challenge(auth, Request("GET", "http://a/"), 'Digest realm="a", nonce="1"')
    retry = flow.send(reply(sent, 401, 'Digest realm="a", nonce="2", stale=TRUE'))
    assert parse_auth_params(retry.headers["Authorization"])["nonce"] == "2"
    assert finished(flow, reply(retry, 401, 'Digest realm="a", nonce="3", stale=true'))


def test_digest_401_without_challenge_after_credentials_is_returned() -> None:
    auth = FixedDigestAuth("u", "p")
    flow, sent = answer_challenge(auth, Request("GET", "http://a/"), 'Digest realm="a", nonce="1"')
    assert finished(flow, reply(sent, 401, 'Basic realm="a"'))


def test_digest_next_nonce_from_authentication_info() -> None:
    auth = FixedDigestAuth("u", "p")
    flow, sent = answer_challenge(
        auth, Request("GET", "http://a/"), 'Digest realm="a", nonce="1", qop=auth'
    )
    assert finished(
        flow,
        reply(sent, 200, authentication_info='qop=auth, junk junk, nextnonce="2", rspauth="x"'),
    )
    flow = auth.auth_flow(Request("GET", "http://a/"))
    params = parse_auth_params(next(flow).headers["Authorization"])
    assert (params["nonce"], params["nc"]) == ("2", "00000001")
    # Without nextnonce (or with an empty one) the nonce stays.
    assert finished(flow, reply(sent, 200, authentication_info='rspauth="x", nextnonce=""'))
    flow = auth.auth_flow(Request("GET", "http://a/"))
    params = parse_auth_params(next(flow).headers["Authorization"])
    assert (params["nonce"], params["nc"]) == ("2", "00000002")
    # Authentication-Info from another origin does not touch the stored nonce.
    request = Request("GET", "http://b/")
    flow = auth.auth_flow(request)
    next(flow)
    assert finished(flow, reply(request, 200, authentication_info='nextnonce="3"'))
    flow = auth.auth_flow(Request("GET", "http://a/"))
    assert parse_auth_params(next(flow).headers["Authorization"])["nonce"] == "2"


def test_digest_default_client_nonce_is_random() -> None:
    cnonces = set()
    for _ in range(3):
        _, sent = answer_challenge(
            DigestAuth("u", "p"),
            Request("GET", "http://a/"),
            'Digest realm="a", nonce="1", qop=auth',
        )
        cnonce = parse_auth_params(sent.headers["Authorization"])["cnonce"]
        assert re.fullmatch("[0-9a-f]{32}", cnonce)
        cnonces.add(cnonce)
    assert len(cnonces) == 3
