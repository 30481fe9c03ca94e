"""Sans-I/O handshakes that open a tunnel through a proxy: HTTP CONNECT and SOCKS5.

Each is fed the bytes read from the proxy and says what to send next; the
trio layer does the I/O (`httpcore._trio.proxy`). When the tunnel is open,
`receive` returns the bytes that arrived after the handshake (they belong to
the origin's protocol). Every failure is a `ProxyError` that says what the
proxy answered.

- `ConnectHandshake`: ``CONNECT host:port`` with h11, the reply head bounded
  in size; a non-2xx reply becomes `ConnectRefused` with the head and (when
  framed by Content-Length or chunked, up to `MAX_REFUSAL_BODY`) the body.
- `Socks5Handshake`: RFC 1928 with user name/password auth (RFC 1929), with
  socksio (the ``socks`` extra) packing and parsing each message; this module
  frames the replies, since socksio parses only whole messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import h11

from .exceptions import ProxyError

__all__ = [
    "MAX_CONNECT_HEAD_SIZE",
    "MAX_REFUSAL_BODY",
    "ConnectHandshake",
    "ConnectRefused",
    "Socks5Handshake",
    "authority_form",
    "load_socksio",
]

MAX_CONNECT_HEAD_SIZE = 100 * 1024
MAX_REFUSAL_BODY = 64 * 1024


def authority_form(host: str, port: int) -> str:
    """``host:port`` as a CONNECT target, IPv6 in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class ConnectRefused:
    """A non-2xx answer to CONNECT: status, reason, raw headers and (some of) the body."""

    status_code: int
    reason: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ConnectHandshake:
    """One ``CONNECT host:port`` exchange.

    ``request()`` gives the bytes to send; then feed every read to
    ``receive(data)`` (``b""`` at end of stream) until it returns the bytes
    after the reply (the tunnel is open) or a `ConnectRefused` (the proxy
    said no; when it has a body, keep feeding until the refusal is returned).
    Returns None while more bytes are needed. Raises `ProxyError` for a reply
    head over `MAX_CONNECT_HEAD_SIZE`, a malformed reply, or a proxy that
    closed the connection before answering.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        authorization: str | None = None,
        user_agent: str | None = None,
        max_head_size: int = MAX_CONNECT_HEAD_SIZE,
    ) -> None:
        self.target = authority_form(host, port)
        self._authorization = authorization
        self._user_agent = user_agent
        self._max_head_size = max_head_size
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head_size)
        self._received = 0
        self._refused: ConnectRefused | None = None

    def request(self) -> bytes:
        """The CONNECT request head."""
        headers = [(b"Host", self.target.encode("ascii"))]
        if self._user_agent is not None:
            headers.append((b"User-Agent", self._user_agent.encode("ascii")))
        if self._authorization is not None:
            # latin-1: the bytes of a header value as our Headers hold them
            headers.append((b"Proxy-Authorization", self._authorization.encode("latin-1")))
        data = self._conn.send(h11.Request(method="CONNECT", target=self.target, headers=headers))
        end = self._conn.send(h11.EndOfMessage())
        assert data is not None and end is not None
        return data + end

    def receive(self, data: bytes) -> bytes | ConnectRefused | None:
        """Feed bytes from the proxy; see the class docstring for what comes back."""
        if self._refused is None:
            self._received += len(data)
        self._conn.receive_data(data)
        while True:
            try:
                event: Any = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                if self._refused is not None:
                    return self._refused  # a broken refusal body: the status is what matters
                if not data:
                    raise ProxyError(
                        f"The proxy closed the connection before answering CONNECT {self.target}"
                    ) from exc
                raise ProxyError(
                    f"The proxy sent an invalid answer to CONNECT {self.target}: {exc}"
                ) from exc
            if event is h11.NEED_DATA:
                # At end of stream h11 raises (above) rather than ask for more.
                return None
            if isinstance(event, h11.Response):
                self._check_head_size()
                if 200 <= event.status_code < 300:
                    continue  # h11 now reports PAUSED: the connection switched to the tunnel
                self._refused = ConnectRefused(
                    event.status_code,
                    event.reason.decode("latin-1"),
                    list(event.headers.raw_items()),
                    b"",
                )
                if not _has_framed_body(event):
                    return self._refused
            elif isinstance(event, h11.Data):
                assert self._refused is not None
                room = MAX_REFUSAL_BODY - len(self._refused.body)
                self._refused.body += bytes(event.data[:room])
                if len(self._refused.body) >= MAX_REFUSAL_BODY:
                    return self._refused
            elif event is h11.PAUSED:
                return bytes(self._conn.trailing_data[0])
            elif isinstance(event, h11.EndOfMessage):
                return self._refused
            # InformationalResponse (1xx): wait for the final answer.

    def _check_head_size(self) -> None:
        # h11 bounds a head still incomplete in its buffer; one that arrived
        # whole in a single read is measured here.
        size = self._received - len(self._conn.trailing_data[0])
        if size > self._max_head_size:
            raise ProxyError(
                f"The proxy's answer to CONNECT {self.target} has a head larger than"
                f" {self._max_head_size} bytes"
            )


def _has_framed_body(response: h11.Response) -> bool:
    """A body we can read to its end without waiting for the proxy to close."""
    for name, value in response.headers.raw_items():
        name = name.lower()
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


def load_socksio() -> Any:
    """The socksio.socks5 module; ImportError with the way to install it otherwise."""
    try:
        from socksio import socks5
    except ImportError as exc:
        raise ImportError(
            "socks5:// and socks5h:// proxies need the socksio package:"
            " pip install 'httpcore[socks]'"
        ) from exc
    return socks5


_CLOSED_AT = {
    "method": "before choosing an authentication method (does it need a user name and password?)",
    "auth": "after the user name and password were sent (were they refused?)",
    "reply": "before answering the CONNECT command",
}
# Reply head: VER REP RSV ATYP; then the bound address (by ATYP) and a 2-byte port.
_ADDRESS_LENGTHS = {1: 4, 4: 16}


class Socks5Handshake:
    """A SOCKS5 CONNECT to ``host:port``, optionally with user name and password.

    ``host`` is sent as given: an IP address (the client resolved the name:
    ``socks5://``) or a name (the proxy resolves it: ``socks5h://``). Send
    ``data_to_send()``, feed each read to ``receive(data)`` (``b""`` at end
    of stream) and send again, until ``receive`` returns the bytes after the
    handshake (possibly empty): the tunnel is then open. Returns None while
    more bytes are needed. Raises `ProxyError` with the reason when the
    proxy refuses the credentials, wants credentials we do not have, cannot
    reach the target, closes the connection, or answers malformed data.
    """

    def __init__(self, host: str, port: int, *, username: str = "", password: str = "") -> None:
        self._socks5 = socks5 = load_socksio()
        self.target = authority_form(host, port)
        self._host = host
        self._port = port
        self._credentials = (username.encode(), password.encode()) if username or password else None
        self._conn = socks5.SOCKS5Connection()
        methods = [socks5.SOCKS5AuthMethod.NO_AUTH_REQUIRED]
        if self._credentials is not None:
            methods.append(socks5.SOCKS5AuthMethod.USERNAME_PASSWORD)
        self._conn.send(socks5.SOCKS5AuthMethodsRequest(methods))
        self._buffer = b""
        self._step = "method"  # then "auth" (with credentials), then "reply"

    def data_to_send(self) -> bytes:
        return bytes(self._conn.data_to_send())

    def receive(self, data: bytes) -> bytes | None:
        """Feed bytes from the proxy; the bytes after the handshake once it is done."""
        if not data:
            raise ProxyError(
                f"The SOCKS5 proxy closed the connection {_CLOSED_AT[self._step]} for {self.target}"
            )
        self._buffer += data
        while True:
            size = self._message_size()
            if size is None or len(self._buffer) < size:
                return None
            message, self._buffer = self._buffer[:size], self._buffer[size:]
            try:
                done = self._handle(message)
            except self._socks5.ProtocolError as exc:
                raise ProxyError(
                    f"The SOCKS5 proxy sent a malformed reply for {self.target}: {exc}"
                ) from exc
            if done:
                return self._buffer

    def _message_size(self) -> int | None:
        if self._step != "reply":
            return 2
        if len(self._buffer) < 5:
            return None
        address_type = self._buffer[3]
        if address_type == 3:  # a name: one length byte, then the name
            return 4 + 1 + self._buffer[4] + 2
        return 4 + _ADDRESS_LENGTHS.get(address_type, 0) + 2

    def _handle(self, message: bytes) -> bool:
        socks5 = self._socks5
        if self._step == "method":
            if message[0] != 5:
                raise socks5.ProtocolError(f"not a SOCKS5 answer ({message!r})")
            reply = self._conn.receive_data(message)
            if reply.method == socks5.SOCKS5AuthMethod.USERNAME_PASSWORD:
                if self._credentials is None:
                    raise ProxyError(
                        "The SOCKS5 proxy asks for a user name and password; put them in the"
                        " proxy URL (socks5://user:password@host:port)"
                    )
                self._conn.send(socks5.SOCKS5UsernamePasswordRequest(*self._credentials))
                self._step = "auth"
            elif reply.method == socks5.SOCKS5AuthMethod.NO_AUTH_REQUIRED:
                self._send_command()
            else:
                raise ProxyError(
                    "The SOCKS5 proxy accepted none of our authentication methods"
                    + ("" if self._credentials else " (it may need a user name and password)")
                )
            return False
        if self._step == "auth":
            auth_reply = self._conn.receive_data(message)
            if not auth_reply.success:
                raise ProxyError("The SOCKS5 proxy refused the user name and password")
            self._send_command()
            return False
        code = self._conn.receive_data(message).reply_code
        if code != socks5.SOCKS5ReplyCode.SUCCEEDED:
            # e.g. HOST_UNREACHABLE -> "host unreachable"
            reason = code.name.lower().replace("_", " ")
            raise ProxyError(
                f"The SOCKS5 proxy could not connect to {self.target}: {reason}"
                f" (reply code {message[1]})"
            )
        return True

    def _send_command(self) -> None:
        socks5 = self._socks5
        self._conn.send(
            socks5.SOCKS5CommandRequest.from_address(
                socks5.SOCKS5Command.CONNECT, (self._host, self._port)
            )
        )
        self._step = "reply"
