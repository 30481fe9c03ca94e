"""A scriptable raw HTTP/2 server (h2 library) for misbehaviour real servers avoid.

Each connection runs `handler(conn)`, where `conn` wraps an h2 server
connection over a trio stream: the handler reads events and writes frames
exactly as the test wants (GOAWAY mid-flight, REFUSED_STREAM, tiny windows...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import h2.config
import h2.connection
import h2.events
import trio

from tests.servers import raw_server


class H2ServerConnection:
    def __init__(self, stream: trio.SocketStream, settings: dict[int, int] | None) -> None:
        self.stream = stream
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=config)
        # hpack's pure-Python Huffman coder takes seconds for the huge headers some
        # tests send; plain literals encode at once and are just as valid.
        encode = self.h2.encoder.encode
        self.h2.encoder.encode = lambda headers, huffman=True: encode(headers, huffman=False)  # type: ignore[method-assign]
        self.h2.initiate_connection()
        if settings:
            self.h2.update_settings(settings)
        self.pending: list[h2.events.Event] = []
        self.events_seen: list[h2.events.Event] = []

    async def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            await self.stream.send_all(data)

    async def next_event(self) -> h2.events.Event | None:
        """The next event from the client, or None when it closed the connection."""
        while not self.pending:
            try:
                data = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:
                return None
            if not data:
                return None
            self.pending.extend(self.h2.receive_data(data))
            await self.flush()
        event = self.pending.pop(0)
        self.events_seen.append(event)
        return event

    async def wait_for(self, kind: type, count: int = 1) -> list[Any]:
        found: list[Any] = []
        while len(found) < count:
            event = await self.next_event()
            if event is None:
                break
            if isinstance(event, kind):
                found.append(event)
        return found

    async def send_goaway(self, last_stream_id: int, error_code: int = 0) -> None:
        """A raw GOAWAY frame: unlike h2's close_connection(), this server may still
        finish the streams up to `last_stream_id` afterwards, as real servers do."""
        from hyperframe.frame import GoAwayFrame

        await self.flush()
        frame = GoAwayFrame(0, last_stream_id=last_stream_id, error_code=error_code)
        await self.stream.send_all(frame.serialize())

    async def respond(
        self, stream_id: int, body: bytes = b"ok", status: int = 200, extra: Any = ()
    ) -> None:
        headers = [(b":status", str(status).encode()), (b"content-length", str(len(body)).encode())]
        self.h2.send_headers(stream_id, headers + list(extra), end_stream=not body)
        if body:
            self.h2.send_data(stream_id, body, end_stream=True)
        await self.flush()


Handler = Callable[[H2ServerConnection], Awaitable[None]]


@asynccontextmanager
async def h2_server(
    handler: Handler, settings: dict[int, int] | None = None
) -> AsyncIterator[tuple[str, list[H2ServerConnection]]]:
    """Serve h2c (prior knowledge) on loopback; yield the URL and the connections seen."""
    connections: list[H2ServerConnection] = []

    async def serve(stream: trio.SocketStream) -> None:
        conn = H2ServerConnection(stream, settings)
        connections.append(conn)
        await conn.flush()
        try:
            await handler(conn)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await stream.aclose()

    async with raw_server(serve) as url:
        yield url, connections
