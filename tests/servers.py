"""Real servers on loopback for the tests.

`ServerThread` runs hypercorn (a real HTTP/1.1 + HTTP/2 + TLS server) with
its own `trio.run` in a background thread, so one server serves a whole test
session while each test runs in its own trio run. `raw_server` runs a small
trio TCP server inside a test, for misbehaviour no real server produces.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.events import Closed
from hypercorn.trio import serve
from hypercorn.trio.tcp_server import TCPServer

_hypercorn_protocol_send = TCPServer.protocol_send


async def _protocol_send(self: Any, event: Any) -> None:
    """hypercorn's `protocol_send`, surviving its own close race.

    hypercorn's `TCPServer._close` sends EOF without taking the send lock, so
    when a client closes a connection (or resets it) while an HTTP/2 response
    is being written, the writer's `send_all` meets the EOF in progress and
    raises `trio.BusyResourceError`, which kills the whole server thread. The
    peer is gone either way: treat it as the close it is, as hypercorn does
    for a broken stream.
    """
    try:
        await _hypercorn_protocol_send(self, event)
    except trio.BusyResourceError:
        await self.protocol.handle(Closed())


TCPServer.protocol_send = _protocol_send  # type: ignore[method-assign]


class ServerThread:
    def __init__(
        self,
        app: Any,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        **config: Any,
    ):
        self.app = app
        self.config = config
        self.certfile = certfile
        self.keyfile = keyfile
        self.url = ""
        self._token: trio.lowlevel.TrioToken | None = None
        self._shutdown: trio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=trio.run, args=(self._main,), daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(10)
        assert self.url, "server did not start"
        return self

    async def _main(self) -> None:
        config = Config()
        config.bind = ["127.0.0.1:0"]
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.test")
        config.errorlog.disabled = True
        config.keep_alive_timeout = 30
        for name, value in self.config.items():
            setattr(config, name, value)
        if self.certfile:
            config.certfile = self.certfile
            config.keyfile = self.keyfile
        self._shutdown = trio.Event()
        self._token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                partial(serve, self.app, config, shutdown_trigger=self._shutdown.wait)
            )
            self.url = binds[0].rstrip("/")
            self._ready.set()

    def stop(self) -> None:
        assert self._shutdown is not None
        trio.from_thread.run_sync(self._shutdown.set, trio_token=self._token)
        self._thread.join(10)


Handler = Callable[[trio.SocketStream], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """Serve `handler` for each connection on a loopback port; yield the base URL."""
    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        await nursery.start(trio.serve_listeners, handler, listeners)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            nursery.cancel_scope.cancel()


async def read_request_head(stream: trio.SocketStream) -> bytes:
    """Read bytes until the end of a request head (raw servers need no more)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await stream.receive_some(65536)
        if not chunk:
            break
        data += chunk
    return data


class CountingServer:
    """A keep-alive HTTP/1.1 server (h11) that counts the connections open at once."""

    def __init__(self) -> None:
        self.open_connections = 0
        self.max_open_connections = 0
        self.total_connections = 0
        self.requests = 0

    async def handle(self, stream: trio.SocketStream) -> None:
        import h11

        self.open_connections += 1
        self.total_connections += 1
        self.max_open_connections = max(self.max_open_connections, self.open_connections)
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    data = await stream.receive_some(65536)
                    connection.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    self.requests += 1
                    body = event.target
                    await trio.sleep(0.001)
                    data = connection.send(
                        h11.Response(status_code=200, headers=[("content-length", str(len(body)))])
                    )
                    data += connection.send(h11.Data(data=body))
                    data += connection.send(h11.EndOfMessage())
                    await stream.send_all(data)
                elif isinstance(event, h11.EndOfMessage):
                    if connection.our_state is h11.MUST_CLOSE:
                        return
                    connection.start_next_cycle()
                else:
                    return
        except (trio.BrokenResourceError, h11.RemoteProtocolError):
            return
        finally:
            self.open_connections -= 1
            await stream.aclose()
