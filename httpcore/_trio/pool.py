"""The connection pool, owned by a client's nursery.

Theory of operation
-------------------
Connections are grouped by key: the origin plus the TLS settings, so a
connection made with `verify=False` is never handed to a request that asked
for verification. A *slot* is one connection that exists or is being opened;
there are never more than `hard_limit` slots, nor more than `max_per_host`
for one key.

All bookkeeping is plain `def` and never awaits: choosing a connection,
evicting an expired or surplus one (closed at once with `close_nowait()`),
reserving a slot for a connection about to be opened, and handing a freed
connection or slot to the first waiter that can use it. So cancellation
cannot land in the middle of a state change. The I/O that follows a
decision (opening a connection) is wrapped in `try/except BaseException`
that gives the slot back.

Waiters queue in FIFO order. When something frees up, the pool itself
*grants* the connection or slot to the first waiter that can use it and
wakes only that task. The wait is bounded by the pool timeout, in the
waiting task.

A grant and a cancel (or the pool timeout) may reach a waiter in either
order. Granted first: trio can no longer cancel the wait, the task takes the
grant, and the next checkpoint's cancel is handled by whatever then holds the
connection. Cancelled first: in that same scheduling step the task is already
rescheduled with `Cancelled`, yet it is still queued, so the pool may still
grant to it (`Event.set()` then wakes nobody). So a waiter that gives up
looks at its grant: with none it leaves the queue; with one it hands it back
(the connection's reservation is undone, the slot is released) and the next
waiter is served. Either way the caller sees `Cancelled` or `PoolTimeout`.

Connections report the end of each request through `_on_release` (plain
`def` as well), whether they went idle or died. One that can take another
request goes on top of its key's *ready* set, so a request takes the most
recently used connection (the likeliest still alive) without looking at the
busy ones: choosing costs the same with 2,000 connections as with one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import trio

from .._core.config import PoolLimits, TimeoutConfig
from .._core.exceptions import PoolTimeout, TimeoutException, TransportError
from .._core.models import AsyncResponse, Request


class Connection(Protocol):
    """What the pool needs of an HTTP/1.1 or HTTP/2 connection."""

    key: Hashable
    is_closed: bool
    requests_handled: int
    active_streams: int
    http_version: str

    def is_available(self) -> bool: ...  # can take one more request now
    def is_idle(self) -> bool: ...  # open, with no request in flight
    def has_expired(self, now: float) -> bool: ...  # idle too long, or closed by the peer
    def reserve(self) -> None: ...
    def unreserve(self) -> None: ...  # undo an unused reserve(); reports through on_release
    def retry_is_safe(self, request: Request, error: Exception) -> bool: ...
    def close_nowait(self) -> None: ...
    async def aclose(self) -> None: ...
    async def handle_request(self, request: Request, timeout: TimeoutConfig) -> AsyncResponse: ...


@dataclass(frozen=True)
class PoolStatistics:
    """A snapshot of the pool: connections open, idle, opening; tasks waiting; streams in use."""

    connections: int
    idle: int
    opening: int
    waiters: int
    streams: int = 0


class _OpenNew:
    """A grant of a slot: the receiver must open the connection."""


class _Closed:
    """Not a grant: the pool closed while the receiver waited."""


OPEN_NEW = _OpenNew()
CLOSED = _Closed()
Grant = Connection | _OpenNew | _Closed


class _Waiter:
    __slots__ = ("avoid", "event", "grant", "key", "may_multiplex")

    def __init__(self, key: Hashable, avoid: Connection | None, may_multiplex: bool) -> None:
        self.key = key
        self.avoid = avoid
        self.may_multiplex = may_multiplex
        self.event = trio.Event()
        self.grant: Grant | None = None


Opener = Callable[[Hashable, "Callable[[Any], None]", TimeoutConfig], Awaitable[Connection]]


class ConnectionPool:
    """Connections to many origins, within the limits of a `PoolLimits`."""

    def __init__(self, limits: PoolLimits, opener: Opener) -> None:
        self._limits = limits
        self._opener = opener
        # Per key, every connection open (a dict as an ordered set: removal is O(1)).
        self._by_key: dict[Hashable, dict[Connection, None]] = {}
        # Per key, the connections that may take one more request, most recently
        # released last. An entry may be stale (the connection got busy, closed or
        # expired without a report): it is dropped when met.
        self._ready: dict[Hashable, dict[Connection, None]] = {}
        self._opening: dict[Hashable, int] = {}
        self._slots = 0
        self._waiters: deque[_Waiter] = deque()
        self._closed = False
        self._discarding: Connection | None = None
        # Origins known to answer with HTTP/1.1: no point waiting to share their connections.
        self._http1_keys: set[Hashable] = set()

    # -- bookkeeping: plain def, never awaits ------------------------------------

    def statistics(self) -> PoolStatistics:
        connections = [c for conns in self._by_key.values() for c in conns]
        return PoolStatistics(
            connections=len(connections),
            idle=sum(1 for c in connections if c.is_idle()),
            opening=sum(self._opening.values()),
            waiters=len(self._waiters),
            streams=sum(c.active_streams for c in connections),
        )

    def _try_acquire(
        self, key: Hashable, avoid: Connection | None = None, may_multiplex: bool = False
    ) -> Connection | _OpenNew | None:
        """A connection with room for one more request, a slot to open one, or None.

        `avoid` is never chosen (a stream it refused is retried elsewhere). With
        `may_multiplex`, while a connection to `key` is being opened and may turn
        out to be HTTP/2, wait for it rather than opening another.
        """
        ready = self._ready.get(key)
        if ready:
            connection = self._take_ready(ready, avoid)
            if connection is not None:
                return connection
        if may_multiplex and self._opening.get(key) and key not in self._http1_keys:
            return None
        limit = self._limits.max_per_host
        if (
            limit is not None
            and len(self._by_key.get(key, ())) + self._opening.get(key, 0) >= limit
        ):
            return None
        if self._slots >= self._limits.hard_limit and not self._evict_idle():
            return None
        self._slots += 1
        self._opening[key] = self._opening.get(key, 0) + 1
        return OPEN_NEW

    def _take_ready(
        self, ready: dict[Connection, None], avoid: Connection | None
    ) -> Connection | None:
        """Reserve the most recently released connection in `ready` that can take a request."""
        # `avoid` stays out of the way while we look, and is put back afterwards.
        held = avoid if avoid is not None and avoid in ready else None
        if held is not None:
            del ready[held]
        try:
            now = trio.current_time()
            while ready:
                connection = next(reversed(ready))
                if not connection.is_available():
                    del ready[connection]  # stale: busy, closed, or out of streams
                elif connection.is_idle() and connection.has_expired(now):
                    self._discard(connection)
                else:
                    connection.reserve()
                    if not connection.is_available():
                        del ready[connection]
                    return connection
            return None
        finally:
            if held is not None:
                self._mark_ready(held)

    def _mark_ready(self, connection: Connection) -> None:
        """`connection` may take a request: make it the first choice for its key."""
        ready = self._ready.setdefault(connection.key, {})
        ready.pop(connection, None)
        ready[connection] = None

    def _evict_idle(self) -> bool:
        """Close the longest-idle connection of any key to free a slot."""
        idle = [c for conns in self._by_key.values() for c in conns if c.is_idle()]
        if not idle:
            return False
        self._discard(min(idle, key=lambda c: getattr(c, "idle_since", 0.0)))
        return True

    def _discard(self, connection: Connection) -> None:
        """Close an idle connection the pool no longer wants.

        Its report through `_on_release` is ignored: the caller is in the middle
        of a decision about the slot this frees (and an HTTP/2 connection reports
        from inside `close_nowait()`), so no waiter may take that slot meanwhile.
        """
        self._forget(connection)
        self._discarding = connection
        connection.close_nowait()
        self._discarding = None

    def _forget(self, connection: Connection) -> None:
        ready = self._ready.get(connection.key)
        if ready is not None:
            ready.pop(connection, None)
            if not ready:
                del self._ready[connection.key]
        connections = self._by_key.get(connection.key)
        if connections is not None and connection in connections:
            del connections[connection]
            if not connections:
                del self._by_key[connection.key]
            self._slots -= 1

    def _give_back_slot(self, key: Hashable) -> None:
        self._slots -= 1
        self._opening[key] -= 1
        if not self._opening[key]:
            del self._opening[key]
        self._wake_waiters()

    def _register(self, connection: Connection) -> None:
        key = connection.key
        if self._closed:
            # Opened while the client closed: nothing would ever close it (and an
            # HTTP/2 reader would keep the client's nursery open).
            connection.close_nowait()
            self._give_back_slot(key)
            raise RuntimeError("The client was closed while this request was connecting")
        self._opening[key] -= 1
        if not self._opening[key]:
            del self._opening[key]
        self._by_key.setdefault(key, {})[connection] = None
        if connection.http_version != "HTTP/2":
            self._http1_keys.add(key)
        connection.reserve()
        if connection.is_available():
            self._mark_ready(connection)  # an HTTP/2 connection with streams to spare
        self._wake_waiters()  # an HTTP/2 connection can serve others waiting for it

    def _on_release(self, connection: Connection) -> None:
        """A connection finished a request: it went idle, or it died."""
        if connection is self._discarding:
            return
        if connection.is_closed:
            self._forget(connection)
        elif connection.is_idle() and (self._closed or self._too_many_idle()):
            self._discard(connection)
        elif connection.is_available():
            self._mark_ready(connection)
        self._wake_waiters()

    def _too_many_idle(self) -> bool:
        soft_limit = self._limits.soft_limit
        # Counting idle connections is a scan: skip it when there cannot be too many.
        if self._slots <= soft_limit:
            return False
        return sum(1 for conns in self._by_key.values() for c in conns if c.is_idle()) > soft_limit

    def _wake_waiters(self) -> None:
        if not self._waiters:
            return
        still_waiting: deque[_Waiter] = deque()
        while self._waiters:
            waiter = self._waiters.popleft()
            grant = self._try_acquire(waiter.key, waiter.avoid, waiter.may_multiplex)
            if grant is None:
                still_waiting.append(waiter)
                if self._slots >= self._limits.hard_limit and not self._any_available():
                    break  # nobody else can be served either
                continue
            waiter.grant = grant
            waiter.event.set()
        still_waiting.extend(self._waiters)
        self._waiters = still_waiting

    def _withdraw(self, waiter: _Waiter) -> None:
        """A waiter gave up (cancelled, timed out): leave the queue, or hand back its grant."""
        grant = waiter.grant
        if grant is None:
            self._waiters.remove(waiter)
        elif isinstance(grant, _OpenNew):
            self._give_back_slot(waiter.key)
        elif not isinstance(grant, _Closed):
            grant.unreserve()  # idle (or one stream freer) again; the next waiter gets it

    def _any_available(self) -> bool:
        return any(c.is_available() for conns in self._by_key.values() for c in conns)

    # -- the requests --------------------------------------------------------------

    async def _acquire(
        self,
        key: Hashable,
        timeout: TimeoutConfig,
        avoid: Connection | None = None,
        may_multiplex: bool = False,
    ) -> Connection:
        if self._closed:
            raise RuntimeError("The client is closed")
        grant = self._try_acquire(key, avoid, may_multiplex)
        if grant is None:
            waiter = _Waiter(key, avoid, may_multiplex)
            self._waiters.append(waiter)
            try:
                with trio.fail_after(_as_seconds(timeout.pool_timeout)):
                    await waiter.event.wait()
            except BaseException as exc:
                self._withdraw(waiter)
                if isinstance(exc, trio.TooSlowError):
                    raise PoolTimeout("No connection became free within the pool timeout") from exc
                raise
            granted = waiter.grant
            assert granted is not None
            if isinstance(granted, _Closed):
                raise RuntimeError("The client was closed while this request waited")
            grant = granted
        if not isinstance(grant, _OpenNew):
            return grant
        try:
            connection = await self._opener(key, self._on_release, timeout)
        except BaseException:
            self._give_back_slot(key)
            raise
        self._register(connection)
        return connection

    async def handle_request(
        self,
        key: Hashable,
        request: Request,
        timeout: TimeoutConfig,
        *,
        may_multiplex: bool = False,
    ) -> AsyncResponse:
        """Send `request` on a pooled connection; retry once, elsewhere, where SPEC §6 allows."""
        connection = await self._acquire(key, timeout, may_multiplex=may_multiplex)
        try:
            return await connection.handle_request(request, timeout)
        except TransportError as exc:
            if isinstance(exc, TimeoutException) or not connection.retry_is_safe(request, exc):
                raise
        retry = await self._acquire(key, timeout, avoid=connection, may_multiplex=may_multiplex)
        return await retry.handle_request(request, timeout)

    async def aclose(self) -> None:
        """Close every connection; waiting requests fail. Bounded in time."""
        self._closed = True
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            waiter.grant = CLOSED
            waiter.event.set()
        connections = [c for conns in self._by_key.values() for c in conns]
        for connection in connections:
            self._forget(connection)
        for connection in connections:
            await connection.aclose()


def _as_seconds(timeout: float | None) -> float:
    return float("inf") if timeout is None else timeout
