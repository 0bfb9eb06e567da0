"""A webhook load generator in its own process(es), so the client does not share the GIL (or, with
``--processes``, one core) with the service it measures.

``python -m benchmarks.loadgen --url URL --bodies FILE --secret S --out FILE [--concurrency 16]
[--processes 1] [--client raw|httpx]``

Reads one JSON body per line and signs each the way EasyPost does (``X-Hmac-Signature:
hmac-sha256-hex=…``) **before** the timed loop, then posts them over ``concurrency``
keep-alive connections in a closed loop, and writes the status counts, the acknowledgement
latencies (in body order) and the wall time as JSON to ``--out``.

Why the default client is a bare HTTP/1.1 writer: with httpx, the client spent about as much CPU
per request as the bare endpoint it was measuring (its request/response objects, header
validation, the connection pool's bookkeeping), so the "bare endpoint" baseline measured the
client (891/s). ``raw`` sends pre-built request bytes on asyncio streams and reads the status
line, the headers and a ``Content-Length`` (or chunked) body: a few microseconds per request.
``--processes P`` splits the bodies round-robin over P client processes (each with its share of
the connections) that start together behind a barrier; the wall time runs from the barrier to
the last response. ``--client httpx`` keeps the former client for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def sign(secret: str, body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def build_requests(url: str, bodies: list[bytes], secret: str) -> list[bytes]:
    """Every request as the bytes that go on the wire: signing is not part of the timed loop."""
    parts = urlsplit(url)
    path = parts.path or "/"
    host = parts.netloc
    out = []
    for body in bodies:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"X-Hmac-Signature: {sign(secret, body)}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode("latin-1") + body)
    return out


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response; return its status code (the body is read and dropped)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = -1
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length > 0:
        await reader.readexactly(length)
    return status


async def storm_raw(
    url: str, requests: list[bytes], indices: list[int], concurrency: int
) -> dict[str, Any]:
    """Post ``requests[i]`` for ``i`` in ``indices`` over ``concurrency`` keep-alive sockets."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: dict[int, float] = {}
    codes: Counter[int] = Counter()
    cursor = iter(indices)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in cursor:
                t = time.perf_counter()
                try:
                    writer.write(requests[i])
                    codes[await _read_response(reader)] += 1
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    codes[0] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                latencies[i] = time.perf_counter() - t
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(indices))))))
    t1 = time.perf_counter()
    return {"started": t0, "ended": t1, "codes": dict(codes), "latencies": latencies}


async def storm_httpx(
    url: str, bodies: list[bytes], secret: str, indices: list[int], concurrency: int
) -> dict[str, Any]:
    """The former client (httpx), with the signatures computed before the loop."""
    import httpx

    headers = [
        {"Content-Type": "application/json", "X-Hmac-Signature": sign(secret, b)} for b in bodies
    ]
    latencies: dict[int, float] = {}
    codes: Counter[int] = Counter()
    cursor = iter(indices)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in cursor:
            t = time.perf_counter()
            try:
                resp = await client.post(url, content=bodies[i], headers=headers[i])
                codes[resp.status_code] += 1
            except httpx.HTTPError:
                codes[0] += 1
            latencies[i] = time.perf_counter() - t

    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        t1 = time.perf_counter()
    return {"started": t0, "ended": t1, "codes": dict(codes), "latencies": latencies}


def _run_shard(
    client: str,
    url: str,
    bodies: list[bytes],
    secret: str,
    indices: list[int],
    concurrency: int,
    barrier: Any,
) -> dict[str, Any]:
    _use_uvloop()
    if client == "raw":
        requests = build_requests(url, bodies, secret)
        if barrier is not None:
            barrier.wait()
        return asyncio.run(storm_raw(url, requests, indices, concurrency))
    if barrier is not None:
        barrier.wait()
    return asyncio.run(storm_httpx(url, bodies, secret, indices, concurrency))


def _shard_process(args: tuple[Any, ...], out: Any) -> None:
    out.put(_run_shard(*args))


def _use_uvloop() -> None:
    """uvloop's event loop when installed (uvicorn[standard] brings it): a cheaper client."""
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:  # pragma: no cover
        pass


def storm(
    url: str,
    bodies: list[bytes],
    secret: str,
    concurrency: int,
    *,
    processes: int = 1,
    client: str = "raw",
) -> dict[str, Any]:
    """All ``bodies`` posted to ``url``; latencies come back in body order."""
    processes = max(1, min(processes, concurrency, len(bodies) or 1))
    shards = [list(range(p, len(bodies), processes)) for p in range(processes)]
    per_process = [
        concurrency // processes + (p < concurrency % processes) for p in range(processes)
    ]
    if processes == 1:
        parts = [_run_shard(client, url, bodies, secret, shards[0], concurrency, None)]
    else:
        ctx = mp.get_context("fork")  # the children inherit the bodies; nothing to pickle
        barrier = ctx.Barrier(processes)
        out = ctx.Queue()
        children = [
            ctx.Process(
                target=_shard_process,
                args=((client, url, bodies, secret, shards[p], per_process[p], barrier), out),
                daemon=True,
            )
            for p in range(processes)
        ]
        for child in children:
            child.start()
        parts = [out.get(timeout=900) for _ in children]
        for child in children:
            child.join(timeout=10)
    codes: Counter[int] = Counter()
    latencies = [0.0] * len(bodies)
    for part in parts:
        codes.update(part["codes"])
        for i, value in part["latencies"].items():
            latencies[int(i)] = value
    wall = max(p["ended"] for p in parts) - min(p["started"] for p in parts)
    return {
        "wall_seconds": wall,
        "codes": dict(codes),
        "latencies": latencies,
        "client": client,
        "processes": processes,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK:
        raise SystemExit("loopback URLs only")
    bodies = [line.encode() for line in args.bodies.read_text("utf-8").splitlines() if line]
    result = storm(
        args.url,
        bodies,
        args.secret,
        args.concurrency,
        processes=args.processes,
        client=args.client,
    )
    args.out.write_text(json.dumps(result), "utf-8")


if __name__ == "__main__":
    main()
