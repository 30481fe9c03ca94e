"""httpcore: a trio-native HTTP client with strict timeouts.

`TrioClient` is the engine, for trio programs; `AsyncClient` runs the same
engine inside an asyncio event loop (trio guest mode); `Client` is the
blocking API running it in a background trio thread; `get`, `post`, ... send
one request with a short-lived `Client`.
"""

from ._asyncio import AsyncClient
from ._core.auth import Auth, BasicAuth, DigestAuth, FunctionAuth
from ._core.config import (
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_POOL_LIMITS,
    DEFAULT_TIMEOUT_CONFIG,
    PoolLimits,
    TimeoutConfig,
)
from ._core.cookies import Cookies
from ._core.exceptions import (
    CloseError,
    ConnectError,
    ConnectTimeout,
    CookieConflict,
    DecodingError,
    HTTPError,
    HTTPStatusError,
    InvalidURL,
    LocalProtocolError,
    NetworkError,
    PoolTimeout,
    ProtocolError,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    RequestError,
    RequestNotRead,
    ResponseClosed,
    ResponseNotRead,
    StreamConsumed,
    StreamError,
    TimeoutException,
    TooManyRedirects,
    TransportError,
    UnsupportedProtocol,
    WriteError,
    WriteTimeout,
)
from ._core.headers import Headers
from ._core.models import AsyncResponse, BaseResponse, Request, Response
from ._core.status_codes import StatusCode, codes
from ._core.urls import URL, Origin
from ._trio.client import TrioClient
from ._trio.dispatch import ASGIDispatch, MockDispatch
from ._trio.sync import Client, delete, get, head, options, patch, post, put, request
from ._trio.tls import SSLConfig
from ._version import __version__

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_POOL_LIMITS",
    "DEFAULT_TIMEOUT_CONFIG",
    "URL",
    "ASGIDispatch",
    "AsyncClient",
    "AsyncResponse",
    "Auth",
    "BaseResponse",
    "BasicAuth",
    "Client",
    "CloseError",
    "ConnectError",
    "ConnectTimeout",
    "CookieConflict",
    "Cookies",
    "DecodingError",
    "DigestAuth",
    "FunctionAuth",
    "HTTPError",
    "HTTPStatusError",
    "Headers",
    "InvalidURL",
    "LocalProtocolError",
    "MockDispatch",
    "NetworkError",
    "Origin",
    "PoolLimits",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Request",
    "RequestError",
    "RequestNotRead",
    "Response",
    "ResponseClosed",
    "ResponseNotRead",
    "SSLConfig",
    "StatusCode",
    "StreamConsumed",
    "StreamError",
    "TimeoutConfig",
    "TimeoutException",
    "TooManyRedirects",
    "TransportError",
    "TrioClient",
    "UnsupportedProtocol",
    "WriteError",
    "WriteTimeout",
    "__version__",
    "codes",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "request",
]
