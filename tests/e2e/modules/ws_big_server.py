#!/usr/bin/python3
"""A third-party websocket peer (python3-websockets) for ws_limits.sh.

ws_big_server.py SIZE [FRAGMENTS]: sends each client one binary message of
SIZE bytes, whole or in FRAGMENTS fragments, then waits for the client to
close; prints "listening on PORT" first, then "closed CODE" per connection
(the close code the client sent)."""
import asyncio
import sys

import websockets

SIZE = int(sys.argv[1])
FRAGMENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1


async def handler(ws, path=None):
    data = b"x" * SIZE
    try:
        if FRAGMENTS == 1:
            await ws.send(data)
        else:
            step = SIZE // FRAGMENTS + 1
            await ws.send([data[i:i + step] for i in range(0, SIZE, step)])
        await ws.wait_closed()
    except websockets.ConnectionClosed:
        pass
    print(f"closed {ws.close_code}", flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"ws_big_server: listening on {port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
