"""The CONNECT and SOCKS5 handshakes, byte by byte, without sockets."""

from __future__ import annotations

import h11
import pytest

from httpcore import ProxyError
from httpcore._core.tunnels import (
    MAX_REFUSAL_BODY,
    ConnectHandshake,
    ConnectRefused,
    Socks5Handshake,
)

# -- CONNECT --------------------------------------------------------------------------


def _server_sees(data: bytes) -> h11.Request:
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    event = server.next_event()
    assert isinstance(event, h11.Request)
    return event


def test_connect_request() -> None:
    handshake = ConnectHandshake("example.com", 443, authorization="Basic eA==", user_agent="ua")
    request = _server_sees(handshake.request())
    assert request.method == b"CONNECT"
    assert request.target == b"example.com:443"
    assert list(request.headers) == [
        (b"host", b"example.com:443"),
        (b"user-agent", b"ua"),
        (b"proxy-authorization", b"Basic eA=="),
    ]


def test_connect_request_ipv6_and_no_credentials() -> None:
    handshake = ConnectHandshake("::1", 8443)
    request = _server_sees(handshake.request())
    assert request.target == b"[::1]:8443"
    assert [name for name, _ in request.headers] == [b"host"]


def _started(host: str = "example.com") -> ConnectHandshake:
    handshake = ConnectHandshake(host, 443)
    handshake.request()
    return handshake


def test_established_returns_the_bytes_after_the_head() -> None:
    handshake = _started()
    assert handshake.receive(b"HTTP/1.1 200 Connection") is None
    assert handshake.receive(b" established\r\n\r\n\x16\x03") == b"\x16\x03"


def test_established_after_an_informational_response() -> None:
    handshake = _started()
    assert handshake.receive(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n") == b""


def test_refused_without_a_body() -> None:
    handshake = _started()
    outcome = handshake.receive(
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b'Proxy-Authenticate: Basic realm="p"\r\nContent-Length: 0\r\n\r\n'
    )
    assert isinstance(outcome, ConnectRefused)
    assert (outcome.status_code, outcome.reason, outcome.body) == (
        407,
        "Proxy Authentication Required",
        b"",
    )
    assert (b"proxy-authenticate", b'Basic realm="p"') in [
        (name.lower(), value) for name, value in outcome.headers
    ]


def test_refused_with_an_unframed_body_does_not_wait_for_it() -> None:
    handshake = _started()
    outcome = handshake.receive(b"HTTP/1.0 403 Forbidden\r\n\r\nnot allowed")
    assert isinstance(outcome, ConnectRefused)
    assert outcome.body == b""


def test_refused_with_a_body_in_pieces() -> None:
    handshake = _started()
    assert handshake.receive(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 10\r\n\r\nfirst") is None
    outcome = handshake.receive(b"-half")
    assert isinstance(outcome, ConnectRefused)
    assert outcome.body == b"first-half"


def test_refused_with_a_chunked_body() -> None:
    handshake = _started()
    outcome = handshake.receive(
        b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnot\r\n0\r\n\r\n"
    )
    assert isinstance(outcome, ConnectRefused)
    assert outcome.body == b"not"


def test_refused_with_a_huge_body_keeps_the_start() -> None:
    handshake = _started()
    head = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 1000000\r\n\r\n"
    assert handshake.receive(head + b"x" * 1000) is None
    outcome = handshake.receive(b"y" * MAX_REFUSAL_BODY)
    assert isinstance(outcome, ConnectRefused)
    assert len(outcome.body) == MAX_REFUSAL_BODY
    assert outcome.body.startswith(b"x" * 1000 + b"y")


@pytest.mark.parametrize(
    "rest",
    [b"", b"zz\r\n"],  # the proxy closes mid-body; a broken chunk size
)
def test_refused_with_a_body_cut_short(rest: bytes) -> None:
    handshake = _started()
    head = b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n"
    assert handshake.receive(head) is None
    outcome = handshake.receive(rest)
    assert isinstance(outcome, ConnectRefused)
    assert outcome.body == b"no"


def test_proxy_closes_before_answering() -> None:
    handshake = _started()
    handshake.receive(b"HTTP/1.1 200")
    with pytest.raises(ProxyError, match="closed the connection before answering CONNECT"):
        handshake.receive(b"")


def test_garbage_answer() -> None:
    handshake = _started()
    with pytest.raises(ProxyError, match=r"invalid answer to CONNECT example\.com:443"):
        handshake.receive(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")


def test_huge_head_in_one_read() -> None:
    handshake = ConnectHandshake("example.com", 443, max_head_size=1000)
    handshake.request()
    with pytest.raises(ProxyError, match="head larger than 1000 bytes"):
        handshake.receive(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 2000 + b"\r\n\r\n")


def test_huge_head_arriving_in_pieces() -> None:
    handshake = ConnectHandshake("example.com", 443, max_head_size=1000)
    handshake.request()
    assert handshake.receive(b"HTTP/1.1 200 OK\r\n") is None
    with pytest.raises(ProxyError, match="invalid answer"):
        for _ in range(10):
            handshake.receive(b"X: " + b"a" * 200 + b"\r\n")


# -- SOCKS5 ---------------------------------------------------------------------------

OK_IPV4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90"


def test_socks5_without_auth() -> None:
    handshake = Socks5Handshake("127.0.0.1", 8000)
    assert handshake.data_to_send() == b"\x05\x01\x00"
    assert handshake.receive(b"\x05\x00") is None
    assert handshake.data_to_send() == b"\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x40"
    assert handshake.receive(OK_IPV4 + b"after") == b"after"


def test_socks5_sends_a_name_as_a_name() -> None:
    handshake = Socks5Handshake("example.com", 443)
    handshake.data_to_send()
    handshake.receive(b"\x05\x00")
    assert handshake.data_to_send() == b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"


@pytest.mark.parametrize(
    "reply",
    [
        OK_IPV4,
        b"\x05\x00\x00\x03\x09localhost\x00\x50",
        b"\x05\x00\x00\x04" + b"\x00" * 15 + b"\x01\x00\x50",
    ],
)
def test_socks5_reply_byte_by_byte(reply: bytes) -> None:
    handshake = Socks5Handshake("::1", 80)
    handshake.data_to_send()
    handshake.receive(b"\x05\x00")
    assert handshake.data_to_send()[3] == 4  # an IPv6 address
    for byte in reply[:-1]:
        assert handshake.receive(bytes([byte])) is None
    assert handshake.receive(reply[-1:]) == b""


def test_socks5_with_credentials() -> None:
    handshake = Socks5Handshake("127.0.0.1", 80, username="user", password="pässword")
    assert handshake.data_to_send() == b"\x05\x02\x00\x02"
    assert handshake.receive(b"\x05\x02") is None
    assert handshake.data_to_send() == b"\x01\x04user\x09p\xc3\xa4ssword"
    assert handshake.receive(b"\x01\x00") is None
    assert handshake.data_to_send().startswith(b"\x05\x01\x00\x01")
    assert handshake.receive(OK_IPV4) == b""


def test_socks5_credentials_not_needed() -> None:
    handshake = Socks5Handshake("127.0.0.1", 80, username="user", password="pass")
    handshake.data_to_send()
    handshake.receive(b"\x05\x00")
    assert handshake.data_to_send().startswith(b"\x05\x01\x00\x01")


def test_socks5_refused_credentials() -> None:
    handshake = Socks5Handshake("127.0.0.1", 80, username="user", password="wrong")
    handshake.receive(b"\x05\x02")
    with pytest.raises(ProxyError, match="refused the user name and password") as info:
        handshake.receive(b"\x01\x01")
    assert "wrong" not in str(info.value)


def test_socks5_wants_credentials_we_do_not_have() -> None:
    handshake = Socks5Handshake("127.0.0.1", 80)
    with pytest.raises(ProxyError, match="asks for a user name and password"):
        handshake.receive(b"\x05\x02")


@pytest.mark.parametrize(
    ("credentials", "method", "message"),
    [
        ({}, b"\xff", "none of our authentication methods \\(it may need"),
        ({"username": "u", "password": "p"}, b"\xff", "none of our authentication methods$"),
        ({}, b"\x01", "none of our authentication methods"),  # GSSAPI
    ],
)
def test_socks5_no_acceptable_method(
    credentials: dict[str, str], method: bytes, message: str
) -> None:
    handshake = Socks5Handshake("127.0.0.1", 80, **credentials)
    with pytest.raises(ProxyError, match=message):
        handshake.receive(b"\x05" + method)


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1, "general server failure"), (4, "host unreachable"), (5, "connection refused")],
)
def test_socks5_connect_failure_names_the_reason(code: int, reason: str) -> None:
    handshake = Socks5Handshake("example.com", 443)
    handshake.receive(b"\x05\x00")
    reply = b"\x05" + bytes([code]) + OK_IPV4[2:]
    with pytest.raises(ProxyError, match=f"could not connect to example.com:443: {reason}"):
        handshake.receive(reply)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([b"\x04\x00"], "malformed reply"),
        ([b"\x05\x00", b"\x04\x00\x00\x01" + b"\x00" * 6], "malformed reply"),
        ([b"\x05\x00", b"\x05\x00\x00\x07" + b"\x00" * 6], "malformed reply"),
        ([b"\x05\x00", b"\x05\x63\x00\x01" + b"\x00" * 6], "malformed reply"),
    ],
)
def test_socks5_malformed_replies(steps: list[bytes], message: str) -> None:
    handshake = Socks5Handshake("example.com", 443)
    with pytest.raises(ProxyError, match=message):
        for step in steps:
            handshake.receive(step)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "before choosing an authentication method"),
        ([b"\x05\x02"], "after the user name and password were sent"),
        ([b"\x05\x02", b"\x01\x00"], "before answering the CONNECT command"),
    ],
)
def test_socks5_proxy_closes(steps: list[bytes], message: str) -> None:
    handshake = Socks5Handshake("example.com", 443, username="u", password="p")
    for step in steps:
        handshake.receive(step)
    with pytest.raises(ProxyError, match=message):
        handshake.receive(b"")
