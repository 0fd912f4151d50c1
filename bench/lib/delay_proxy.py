#!/usr/bin/python3
"""A TCP relay on 127.0.0.1 that adds a round-trip time, for kernels without netem.

usage: delay_proxy.py UPSTREAM_PORT RTT_MS

Prints the port it listens on as the first line. Every chunk is held for half the RTT in each
direction, and a new connection's first bytes wait one more RTT (the TCP handshake a real
network would cost), so a request on a fresh connection takes two RTTs and every later one on
the same connection one RTT, as on a link with that latency. Order within a connection is kept.
"""
import asyncio
import sys
import time


async def relay(reader, writer, one_way, not_before):
    queue = asyncio.Queue()

    async def read():
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((time.monotonic() + one_way, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((time.monotonic(), b""))

    async def write():
        try:
            while True:
                due, data = await queue.get()
                wait = max(due, not_before) - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read(), write())


async def main():
    upstream_port, rtt = int(sys.argv[1]), float(sys.argv[2]) / 1000.0
    one_way = rtt / 2

    async def handle(client_reader, client_writer):
        accepted = time.monotonic()
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            relay(client_reader, up_writer, one_way, accepted + rtt + one_way),
            relay(up_reader, client_writer, one_way, 0.0))
        for w in (up_writer, client_writer):
            w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
