"""The public signatures of the clients: one definition, shown to IDEs and to ``help()``.

`TrioClient`, `Client` and `AsyncClient` take the same constructor arguments
and the same per-request options. They are written down once, here:

- The constructor is `ClientBase.__init__`, which all three clients inherit.
  Its parameters are plain, explicit and typed, so IDEs, type checkers,
  ``inspect.signature`` and ``help()`` all see them. It validates nothing
  itself: it packs the arguments into a `ClientConfig` and hands that to the
  subclass's ``_configure``. Each subclass gets its own copy of ``__init__``
  named after it (see `ClientBase.__init_subclass__`), so a wrong keyword
  raises ``TypeError: Client.__init__() got an unexpected keyword argument``,
  naming the class the caller used.
- The per-request options are `TypedDict` classes (`RequestOptions`,
  `SendOptions`, ...) that the methods take as ``**options:
  Unpack[RequestOptions]`` (PEP 692): type checkers check each keyword and
  its type, and IDEs complete them. At run time `takes()` gives each method a
  ``__signature__`` built from the same `TypedDict` and `DEFAULTS`, so
  ``inspect.signature`` and ``help()`` list every keyword with its default, and
  `check_options()` refuses an unknown keyword with the ``TypeError`` Python
  itself would raise, naming the class and method the caller used.

Why not explicit keyword parameters on every method: eleven methods on three
clients (and the module-level functions) would repeat the same twelve
parameters some forty times, and they would drift. Why not generated code:
``exec``-made functions are invisible to IDEs and type checkers. The cost of
this design is one set comparison per call (about 0.1 µs).
"""

from __future__ import annotations

import inspect
import os
import ssl
import types
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypedDict, TypeVar

from .._core.config import (
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_POOL_LIMITS,
    DEFAULT_TIMEOUT_CONFIG,
    PoolLimits,
    TimeoutConfig,
    TimeoutTypes,
)
from .._core.models import AsyncResponse, Request

if TYPE_CHECKING:
    from .._core.auth import AuthTypes
    from .._core.content import FileTypes
    from .._core.cookies import CookieTypes
    from .._core.headers import HeaderTypes
    from .._core.urls import URL, QueryParamTypes

__all__ = [
    "DEFAULTS",
    "BuildOptions",
    "ClientBase",
    "ClientConfig",
    "Dispatch",
    "NoBodyOptions",
    "OneOffBodyOptions",
    "OneOffOptions",
    "RequestOptions",
    "SendOptions",
    "StreamOptions",
    "check_options",
    "normalise_event_hooks",
    "takes",
]


class _Unset:
    """The default of a per-request `timeout`: the client's timeouts apply."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

VerifyTypes: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
CertTypes: TypeAlias = "str | tuple[str, str] | tuple[str, str, str | None]"
RequestData: TypeAlias = (
    "Mapping[str, Any] | bytes | str | Iterable[bytes] | Iterable[str]"
    " | AsyncIterable[bytes] | AsyncIterable[str]"
)
RequestFiles: TypeAlias = "Mapping[str, FileTypes] | Iterable[tuple[str, FileTypes]]"
#: ``{"request": [hook, ...], "response": [hook, ...]}``; either key may be left out.
EventHooks: TypeAlias = "Mapping[str, Iterable[Callable[[Any], Any]]]"


class Dispatch(Protocol):
    """The network stack under a client: anything that sends one request."""

    async def send(
        self, request: Request, *, verify: Any, cert: Any, timeout: TimeoutConfig
    ) -> AsyncResponse: ...

    async def close(self) -> None: ...


# -- the per-request options ------------------------------------------------------------


class _BodyOptions(TypedDict, total=False):
    data: RequestData | None
    """A form (dict), bytes or str, or an iterator of bytes (async for async clients)."""
    files: RequestFiles | None
    """Files to upload as ``multipart/form-data`` (with `data` as extra fields)."""
    json: Any
    """A JSON-serialisable object sent as ``application/json``."""


class _MessageOptions(TypedDict, total=False):
    params: QueryParamTypes | None
    """Query parameters merged into the URL (and the client's `params`)."""
    headers: HeaderTypes
    """Headers merged over the client's default headers."""
    cookies: CookieTypes | None
    """Cookies sent with this request besides the client's jar."""


class _ExchangeOptions(TypedDict, total=False):
    auth: AuthTypes
    """``(user, password)``, an `Auth`, or a callable; overrides the client's."""
    allow_redirects: bool
    """Follow redirects (default ``True``); see `AsyncResponse.next`."""
    verify: VerifyTypes | None
    """TLS verification for this request (``None``: the client's)."""
    cert: CertTypes | None
    """A client certificate for this request (``None``: the client's)."""
    timeout: TimeoutTypes
    """Timeouts for this request (left out: the client's; ``None`` disables them)."""


class _StreamOption(TypedDict, total=False):
    stream: bool
    """Return before the body is read (the caller reads or closes the response)."""


class BuildOptions(_BodyOptions, _MessageOptions, total=False):
    """The keyword arguments of ``build_request``: what goes into the `Request`."""


class SendOptions(_StreamOption, _ExchangeOptions, total=False):
    """The keyword arguments of ``send``: how the request is sent."""


class StreamOptions(BuildOptions, _ExchangeOptions, total=False):
    """The keyword arguments of ``stream``: ``request``'s, less `stream` itself."""


class RequestOptions(StreamOptions, _StreamOption, total=False):
    """The keyword arguments of ``request``, ``post``, ``put``, ``patch`` and ``delete``."""


class NoBodyOptions(_MessageOptions, _ExchangeOptions, _StreamOption, total=False):
    """The keyword arguments of ``get``, ``options`` and ``head`` (no body)."""


class OneOffOptions(_MessageOptions, _ExchangeOptions, total=False):
    """The keyword arguments of ``httpcore.get``, ``options`` and ``head``."""

    trust_env: bool
    """Honour proxy, TLS and netrc environment settings (default ``True``)."""


class OneOffBodyOptions(OneOffOptions, _BodyOptions, total=False):
    """The keyword arguments of ``httpcore.request``, ``post``, ``put``, ``patch``, ``delete``."""


#: Every option's default, in the order signatures list them.
DEFAULTS: dict[str, Any] = {
    "data": None,
    "files": None,
    "json": None,
    "params": None,
    "headers": None,
    "cookies": None,
    "auth": None,
    "stream": False,
    "allow_redirects": True,
    "verify": None,
    "cert": None,
    "timeout": UNSET,
    "trust_env": True,
}

F = TypeVar("F", bound=Callable[..., Any])


def _annotation(value: Any) -> Any:
    """The annotation as written (``'HeaderTypes'``), not the ForwardRef TypedDict made of it."""
    return getattr(value, "__forward_arg__", value)


def takes(options: type[Any], *, first: tuple[str, ...] = (), **defaults: Any) -> Callable[[F], F]:
    """Give a function that takes ``**options`` a ``__signature__`` listing each option.

    `options` is one of the TypedDicts above, listed in the order of `DEFAULTS`
    except for the names in `first`, which come first; `defaults` overrides
    entries of `DEFAULTS` for this function.
    """
    hints = options.__annotations__
    names = [*first, *(name for name in DEFAULTS if name in hints and name not in first)]
    assert set(names) == set(hints), f"{options.__name__} has options without a default"
    keywords = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=defaults.get(name, DEFAULTS[name]),
            annotation=_annotation(hints[name]),
        )
        for name in names
    ]

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        leading = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
        fn.__signature__ = signature.replace(parameters=[*leading, *keywords])  # type: ignore[attr-defined]
        return fn

    return decorate


def option_names(options: type[Any]) -> frozenset[str]:
    """The keyword names a TypedDict of options allows."""
    return frozenset(options.__annotations__)


def check_options(
    options: Mapping[str, object], allowed: frozenset[str], owner: object, method: str
) -> None:
    """Refuse a keyword that is not an option, as Python does for a plain signature.

    The message names the caller's class and method, e.g. ``Client.get() got
    an unexpected keyword argument 'foo'`` (`owner` is the client, or None for
    a module-level function).
    """
    if allowed.issuperset(options):
        return
    unexpected = next(name for name in options if name not in allowed)
    where = method if owner is None else f"{type(owner).__name__}.{method}"
    raise TypeError(f"{where}() got an unexpected keyword argument {unexpected!r}")


def normalise_event_hooks(hooks: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """``event_hooks=`` as ``{"request": [...], "response": [...]}`` of fresh lists.

    Raises ``ValueError`` for a key other than those two and ``TypeError``
    for a hook that is not callable.
    """
    normalised: dict[str, list[Any]] = {"request": [], "response": []}
    for kind, kind_hooks in (hooks or {}).items():
        if kind not in normalised:
            raise ValueError(f"event_hooks keys are 'request' and 'response', not {kind!r}")
        for hook in kind_hooks:
            if not callable(hook):
                raise TypeError(f"an event hook must be callable, not {hook!r}")
            normalised[kind].append(hook)
    return normalised


# -- the constructor ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The constructor's arguments, as given, handed to each client's ``_configure``."""

    auth: Any
    cookies: Any
    verify: Any
    cert: Any
    timeout: Any
    pool_limits: PoolLimits
    max_redirects: int
    dispatch: Dispatch | None
    headers: Any
    params: Any
    base_url: Any
    http1: bool
    http2: bool
    proxies: Any
    trust_env: bool
    event_hooks: Any
    retries: int


class ClientBase(ABC):
    """The constructor shared by `TrioClient`, `Client` and `AsyncClient`."""

    def __init__(
        self,
        auth: AuthTypes = None,
        cookies: CookieTypes | None = None,
        verify: VerifyTypes = True,
        cert: CertTypes | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT_CONFIG,
        pool_limits: PoolLimits = DEFAULT_POOL_LIMITS,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        dispatch: Dispatch | None = None,
        *,
        headers: HeaderTypes = None,
        params: QueryParamTypes | None = None,
        base_url: URL | str | None = None,
        http1: bool = True,
        http2: bool = True,
        proxies: Any = None,
        trust_env: bool = True,
        event_hooks: EventHooks | None = None,
        retries: int = 0,
    ) -> None:
        self._configure(
            ClientConfig(
                auth=auth,
                cookies=cookies,
                verify=verify,
                cert=cert,
                timeout=timeout,
                pool_limits=pool_limits,
                max_redirects=max_redirects,
                dispatch=dispatch,
                headers=headers,
                params=params,
                base_url=base_url,
                http1=http1,
                http2=http2,
                proxies=proxies,
                trust_env=trust_env,
                event_hooks=event_hooks,
                retries=retries,
            )
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            return
        # A copy of the shared __init__ named after `cls`: Python's own TypeError
        # for a wrong argument names the function's __qualname__.
        shared = ClientBase.__init__
        init = types.FunctionType(
            shared.__code__.replace(co_qualname=f"{cls.__qualname__}.__init__"),
            shared.__globals__,
            "__init__",
            shared.__defaults__,
            shared.__closure__,
        )
        init.__kwdefaults__ = shared.__kwdefaults__
        init.__annotations__ = shared.__annotations__
        init.__doc__ = shared.__doc__
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        init.__module__ = cls.__module__
        cls.__init__ = init  # type: ignore[method-assign]

    _event_hooks: dict[str, list[Callable[[Any], Any]]]

    @property
    def event_hooks(self) -> dict[str, list[Callable[[Any], Any]]]:
        """``{"request": [...], "response": [...]}``: the hooks, which may be changed in place."""
        return self._event_hooks

    @event_hooks.setter
    def event_hooks(self, hooks: Mapping[str, Any] | None) -> None:
        self._event_hooks = normalise_event_hooks(hooks)

    @abstractmethod
    def _configure(self, config: ClientConfig) -> None:
        """Set the client up from its constructor's arguments."""


#: The option names each method accepts, for `check_options`.
BUILD = option_names(BuildOptions)
SEND = option_names(SendOptions)
STREAM = option_names(StreamOptions)
REQUEST = option_names(RequestOptions)
NO_BODY = option_names(NoBodyOptions)
ONE_OFF = option_names(OneOffOptions)
ONE_OFF_BODY = option_names(OneOffBodyOptions)
