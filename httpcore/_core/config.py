"""Client configuration values: timeouts, pool limits and their defaults.

Plain, validated, immutable data. The TLS settings, which build an
``ssl.SSLContext``, live with the network code in ``httpcore._trio.tls``.
"""

from __future__ import annotations

import enum
import math

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_POOL_LIMITS",
    "DEFAULT_TIMEOUT_CONFIG",
    "PoolLimits",
    "TimeoutConfig",
    "TimeoutTypes",
]


class _Unset(enum.Enum):
    """Marks a keyword argument the caller did not pass."""

    UNSET = "UNSET"


UNSET = _Unset.UNSET


def _check_seconds(name: str, value: object) -> float | None:
    """Validate one timeout value: a non-negative number of seconds, or ``None``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be >= 0 seconds or None, not {value!r}")
    return float(value)


class TimeoutConfig:
    """The four timeouts of a request, in seconds (``None`` disables one).

    ``timeout`` sets all four: a number, ``None``, or another ``TimeoutConfig``
    (copied). Each keyword then overrides one of them:

    - ``connect_timeout``: TCP connect, TLS handshake, proxy tunnel set-up;
    - ``read_timeout``: the longest wait for the next bytes of the response;
    - ``write_timeout``: the longest wait to send the next bytes of the request;
    - ``pool_timeout``: the longest wait for a free connection or HTTP/2 stream.

    ``total`` (default ``None``: no limit) is a deadline for the whole
    request: every redirect and auth round trip, pool waits, connects, and
    reading the body (for a streaming response, each read until the deadline
    passes). When it runs out, the timeout of the phase that was running
    (``ConnectTimeout``, ``ReadTimeout``, ``WriteTimeout`` or ``PoolTimeout``)
    is raised, its message saying that the total deadline was exceeded. It is
    kept when ``timeout`` is another ``TimeoutConfig``.

    Raises ``TypeError`` for a value that is not a number or ``None``, and
    ``ValueError`` for a negative number or NaN. Instances are immutable and
    hashable.
    """

    __slots__ = ("_connect", "_pool", "_read", "_total", "_write")

    def __init__(
        self,
        timeout: TimeoutTypes = 5.0,
        *,
        connect_timeout: float | _Unset | None = UNSET,
        read_timeout: float | _Unset | None = UNSET,
        write_timeout: float | _Unset | None = UNSET,
        pool_timeout: float | _Unset | None = UNSET,
        total: float | _Unset | None = UNSET,
    ) -> None:
        self._total: float | None = None
        if isinstance(timeout, TimeoutConfig):
            self._total = timeout.total
            base = (
                timeout.connect_timeout,
                timeout.read_timeout,
                timeout.write_timeout,
                timeout.pool_timeout,
            )
        else:
            everything = _check_seconds("timeout", timeout)
            base = (everything, everything, everything, everything)
        connect, read, write, pool = base
        if not isinstance(connect_timeout, _Unset):
            connect = _check_seconds("connect_timeout", connect_timeout)
        if not isinstance(read_timeout, _Unset):
            read = _check_seconds("read_timeout", read_timeout)
        if not isinstance(write_timeout, _Unset):
            write = _check_seconds("write_timeout", write_timeout)
        if not isinstance(pool_timeout, _Unset):
            pool = _check_seconds("pool_timeout", pool_timeout)
        if not isinstance(total, _Unset):
            self._total = _check_seconds("total", total)
        self._connect = connect
        self._read = read
        self._write = write
        self._pool = pool

    @classmethod
    def coerce(cls, value: TimeoutTypes) -> TimeoutConfig:
        """Turn any accepted timeout value into a ``TimeoutConfig``.

        A ``TimeoutConfig`` is returned as is; a number or ``None`` sets all
        four timeouts. Raises like the constructor.
        """
        if isinstance(value, TimeoutConfig):
            return value
        return cls(value)

    @property
    def connect_timeout(self) -> float | None:
        """Seconds allowed for connecting (TCP, TLS, proxy tunnel), or ``None``."""
        return self._connect

    @property
    def read_timeout(self) -> float | None:
        """Seconds allowed between bytes of the response, or ``None``."""
        return self._read

    @property
    def write_timeout(self) -> float | None:
        """Seconds allowed to send each part of the request, or ``None``."""
        return self._write

    @property
    def pool_timeout(self) -> float | None:
        """Seconds allowed to wait for a free connection or stream, or ``None``."""
        return self._pool

    @property
    def total(self) -> float | None:
        """Seconds allowed for the whole request, redirects and body included, or ``None``."""
        return self._total

    def _as_tuple(self) -> tuple[float | None, ...]:
        return (self._connect, self._read, self._write, self._pool, self._total)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TimeoutConfig):
            return NotImplemented
        return self._as_tuple() == other._as_tuple()

    def __hash__(self) -> int:
        return hash((TimeoutConfig, self._as_tuple()))

    def __repr__(self) -> str:
        values = (self._connect, self._read, self._write, self._pool)
        total = "" if self._total is None else f", total={self._total!r}"
        if len(set(values)) == 1:
            return f"TimeoutConfig(timeout={values[0]!r}{total})"
        return (
            f"TimeoutConfig(connect_timeout={self._connect!r}, read_timeout={self._read!r}, "
            f"write_timeout={self._write!r}, pool_timeout={self._pool!r}{total})"
        )


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, not {value!r}")
    return value


class PoolLimits:
    """How many connections the pool keeps and opens.

    - ``soft_limit``: idle keep-alive connections kept (``>= 0``);
    - ``hard_limit``: connections open at once (``>= 1``; ``soft_limit`` is clamped to it);
      a request beyond it waits up to the pool timeout;
    - ``max_per_host``: connections per origin (``None`` or ``>= 1``);
    - ``keepalive_expiry``: seconds an idle connection is kept (``None``: no
      expiry).

    Raises ``TypeError`` for values of the wrong type and ``ValueError`` for
    values out of range. Instances are immutable and hashable.
    """

    __slots__ = ("_hard_limit", "_keepalive_expiry", "_max_per_host", "_soft_limit")

    def __init__(
        self,
        soft_limit: int = 10,
        hard_limit: int = 100,
        *,
        max_per_host: int | None = None,
        keepalive_expiry: float | None = 5.0,
    ) -> None:
        self._hard_limit = _check_count("hard_limit", hard_limit, 1)
        # More idle connections than may exist at all cannot be kept: clamp, so
        # that `PoolLimits(hard_limit=1)` works with the default soft limit.
        self._soft_limit = min(_check_count("soft_limit", soft_limit, 0), self._hard_limit)
        self._max_per_host = (
            None if max_per_host is None else _check_count("max_per_host", max_per_host, 1)
        )
        self._keepalive_expiry = _check_seconds("keepalive_expiry", keepalive_expiry)

    @property
    def soft_limit(self) -> int:
        """Idle keep-alive connections kept by the pool."""
        return self._soft_limit

    @property
    def hard_limit(self) -> int:
        """Connections that may be open at once."""
        return self._hard_limit

    @property
    def max_per_host(self) -> int | None:
        """Connections that may be open at once to one origin, or ``None``."""
        return self._max_per_host

    @property
    def keepalive_expiry(self) -> float | None:
        """Seconds an idle connection is kept before closing it, or ``None``."""
        return self._keepalive_expiry

    def _as_tuple(self) -> tuple[int, int, int | None, float | None]:
        return (self._soft_limit, self._hard_limit, self._max_per_host, self._keepalive_expiry)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PoolLimits):
            return NotImplemented
        return self._as_tuple() == other._as_tuple()

    def __hash__(self) -> int:
        return hash((PoolLimits, self._as_tuple()))

    def __repr__(self) -> str:
        return (
            f"PoolLimits(soft_limit={self._soft_limit!r}, hard_limit={self._hard_limit!r}, "
            f"max_per_host={self._max_per_host!r}, keepalive_expiry={self._keepalive_expiry!r})"
        )


TimeoutTypes = TimeoutConfig | float | None

DEFAULT_TIMEOUT_CONFIG = TimeoutConfig(5.0)
DEFAULT_POOL_LIMITS = PoolLimits()
DEFAULT_MAX_REDIRECTS = 20
