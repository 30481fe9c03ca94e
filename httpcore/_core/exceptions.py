"""The exceptions httpcore raises.

Every error a caller can see is one of these; trio, h11, h2 and ssl errors are
wrapped at the network boundary with the original kept as ``__cause__``::

    HTTPError
    ├── RequestError                     (.request)
    │   ├── TransportError
    │   │   ├── TimeoutException
    │   │   │   ├── ConnectTimeout
    │   │   │   ├── ReadTimeout
    │   │   │   ├── WriteTimeout
    │   │   │   └── PoolTimeout
    │   │   ├── NetworkError
    │   │   │   ├── ConnectError
    │   │   │   ├── ReadError
    │   │   │   ├── WriteError
    │   │   │   └── CloseError
    │   │   ├── ProtocolError
    │   │   │   ├── LocalProtocolError
    │   │   │   └── RemoteProtocolError
    │   │   ├── ProxyError
    │   │   └── UnsupportedProtocol
    │   ├── DecodingError
    │   └── TooManyRedirects
    └── HTTPStatusError                  (.request, .response)
    InvalidURL(ValueError)
    CookieConflict
    StreamError(RuntimeError)
    ├── StreamConsumed
    ├── ResponseNotRead
    ├── RequestNotRead
    └── ResponseClosed
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import BaseResponse, Request


class HTTPError(Exception):
    """Base class of every error about an HTTP exchange."""


class RequestError(HTTPError):
    """An error while sending a request or receiving its response.

    ``.request`` is the request involved; it is ``None`` only for errors raised
    while a request was still being built.
    """

    def __init__(self, message: str = "", *, request: Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class TransportError(RequestError):
    """The network or the protocol failed."""


class TimeoutException(TransportError):
    """A timeout of the ``TimeoutConfig`` ran out."""


class ConnectTimeout(TimeoutException):
    """Connecting (TCP, TLS handshake, proxy tunnel) took too long."""


class ReadTimeout(TimeoutException):
    """The server sent no bytes of the response for too long."""


class WriteTimeout(TimeoutException):
    """The request's bytes could not be sent for too long."""


class PoolTimeout(TimeoutException):
    """No connection (or HTTP/2 stream) became free in time."""


class NetworkError(TransportError):
    """A socket operation failed."""


class ConnectError(NetworkError):
    """The connection could not be made (refused, unreachable, TLS failure)."""


class ReadError(NetworkError):
    """Receiving from the connection failed."""


class WriteError(NetworkError):
    """Sending on the connection failed."""


class CloseError(NetworkError):
    """Closing the connection failed."""


class ProtocolError(TransportError):
    """The HTTP protocol was broken."""


class LocalProtocolError(ProtocolError):
    """We were asked to send something HTTP does not allow."""


class RemoteProtocolError(ProtocolError):
    """The server sent something HTTP does not allow."""


class ProxyError(TransportError):
    """The proxy refused or failed to forward the request.

    ``.response`` is the proxy's answer when it answered a CONNECT with a
    non-2xx status (e.g. 407), else None.
    """

    def __init__(
        self,
        message: str = "",
        *,
        request: Request | None = None,
        response: BaseResponse | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.response = response


class UnsupportedProtocol(TransportError):
    """The URL's scheme is not http or https."""


class DecodingError(RequestError):
    """The response body could not be decoded (corrupt or too many codings)."""


class TooManyRedirects(RequestError):
    """More redirects than ``max_redirects`` were followed."""


class HTTPStatusError(HTTPError):
    """Raised by ``raise_for_status()`` for a 4xx or 5xx response."""

    def __init__(self, message: str, *, request: Request, response: BaseResponse) -> None:
        super().__init__(message)
        self.request = request
        self.response = response


class InvalidURL(ValueError):
    """A URL could not be parsed or is not acceptable."""


class CookieConflict(Exception):
    """``Cookies.get`` found more than one cookie of that name."""


class StreamError(RuntimeError):
    """A body stream was used in a way it does not allow."""


class StreamConsumed(StreamError):
    """A stream was iterated again after it had been consumed."""


class ResponseNotRead(StreamError):
    """``.content`` was asked of a streaming response that was not read."""


class RequestNotRead(StreamError):
    """``.content`` was asked of a streaming request that was not read."""


class ResponseClosed(StreamError):
    """A closed, unread response was read."""
