"""The HTTP transport's listening socket: the connections it accepts have Nagle's algorithm off."""

from __future__ import annotations

import asyncio
import socket

from modelops_mcp.surface.transports import listening_socket


def test_accepted_connections_send_small_writes_at_once() -> None:
    # asyncio turns TCP_NODELAY on for accepted sockets only when their proto says TCP; a socket made with
    # proto 0 left Nagle on, and each 2026-07-28 call waited 40 ms for the client's delayed ACK.
    async def accepted_nodelay() -> int:
        found: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            found.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        sock = listening_socket("127.0.0.1", 0)
        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(found, 10)
            writer.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0
