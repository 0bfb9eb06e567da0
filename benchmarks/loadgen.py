"""A webhook load generator in its own process, so the client does not share the GIL with the
service it measures.

``python -m benchmarks.loadgen --url URL --bodies FILE --secret S --out FILE [--concurrency 16]``

Reads one JSON body per line, signs each the way EasyPost does (``X-Hmac-Signature:
hmac-sha256-hex=…``), posts them with ``concurrency`` connections in a closed loop, and writes
the status counts, the acknowledgement latencies and the wall time as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import httpx


def sign(secret: str, body: bytes) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


async def storm(url: str, bodies: list[bytes], secret: str, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = [0.0] * len(bodies)
    codes: Counter[int] = Counter()
    cursor = iter(range(len(bodies)))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for i in cursor:
            body = bodies[i]
            headers = {"Content-Type": "application/json", "X-Hmac-Signature": sign(secret, body)}
            t = time.perf_counter()
            try:
                resp = await client.post(url, content=body, headers=headers)
                codes[resp.status_code] += 1
            except httpx.HTTPError:
                codes[0] += 1
            latencies[i] = time.perf_counter() - t

    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return {"wall_seconds": wall, "codes": dict(codes), "latencies": latencies}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    if httpx.URL(args.url).host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback URLs only")
    bodies = [line.encode() for line in args.bodies.read_text("utf-8").splitlines() if line]
    result = asyncio.run(storm(args.url, bodies, args.secret, args.concurrency))
    args.out.write_text(json.dumps(result), "utf-8")


if __name__ == "__main__":
    main()
