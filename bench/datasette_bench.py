"""Benchmark: the editors' Datasette on a workspace of 1,000,000 visits, beside bare Datasette
on the same file: the visits table page, a facet on outcome and the rate-by-chain canned query,
p50 and p95 over 200 requests each (in-process, through Datasette's own ASGI client); and the
time `publish` takes.

    .venv/bin/python bench/datasette_bench.py [--visits 1000000] [--requests 200]

Aim: within 1.2x of bare Datasette, p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from _workspace import BIN, build_visits, measure

from investigate.publish.metadata import RATE_BY_CHAIN
from investigate.publish.server import editors_datasette
from investigate.workspace import Workspace


async def timings(ds, path: str, n: int) -> list[float]:
    await ds.invoke_startup()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = await ds.client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return out


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    from datasette.app import Datasette

    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="investigate-datasette-"))
    try:
        t = time.perf_counter()
        build_visits(folder / "ws", args.visits)
        print(f"built {args.visits:,} visits in {time.perf_counter() - t:.1f} s")
        ws = Workspace(folder / "ws")
        ours = editors_datasette(ws)
        bare = Datasette([str(ws.db_path)], settings={"sql_time_limit_ms": 3000, "facet_time_limit_ms": 500})
        sql = RATE_BY_CHAIN.replace(":case", "'bench'")
        paths = {
            "visits table": ("/investigate/visits", "/investigate/visits"),
            "facet on outcome": ("/investigate/visits?_facet=outcome", "/investigate/visits?_facet=outcome"),
            "rate by chain": ("/investigate/rate_by_chain?case=bench", None),
        }
        print(f"{'page':<18}{'ours p50':>10}{'ours p95':>10}{'bare p50':>10}{'bare p95':>10}{'ratio p50':>10}")
        for label, (mine, theirs) in paths.items():
            ours_t = asyncio.run(timings(ours, mine, args.requests))
            if theirs is None:
                # Bare Datasette has no stats functions: it runs the same query as arbitrary
                # SQL with SQLite's two-argument max() in their place (same shape, same scans).
                bare_sql = sql
                for name in ("investigate_rate", "investigate_ci_low", "investigate_ci_high"):
                    bare_sql = bare_sql.replace(name + "(", "max(")
                theirs = "/investigate?sql=" + quote(bare_sql)
            theirs_t = asyncio.run(timings(bare, theirs, args.requests))
            print(f"{label:<18}{statistics.median(ours_t):>9.0f}ms{p(ours_t, .95):>8.0f}ms"
                  f"{statistics.median(theirs_t):>8.0f}ms{p(theirs_t, .95):>8.0f}ms"
                  f"{statistics.median(ours_t) / statistics.median(theirs_t):>10.2f}")
        ws.close()
        secs, mb = measure([str(BIN / "investigate"), "-w", str(folder / "ws"), "publish", "--case", "bench", "--out",
                            str(folder / "public"), "--override", "benchmark"])
        size = (folder / "public" / "public.db").stat().st_size / 1e6
        print(f"publish: {secs:.1f} s, peak {mb:.0f} MB, public.db {size:.0f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
