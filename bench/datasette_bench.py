"""Benchmark: both Datasette instances at 1,000,000 visits, each page beside its floor.

    .venv/bin/python bench/datasette_bench.py [--visits 1000000 | --quick] [--requests 40]
                                              [--workspace DIR]

Pages: the editors' visits table, a facet on outcome and the rate-by-chain canned query; the
public visits table, a facet on outcome and the rates table of one case. The floor of each is
bare Datasette on the same file: no metadata, plugins or templates, suggested facets off (with
them on, bare Datasette probes every column per page: seconds at a million rows, a ceiling
rather than a floor); the public floor opens the file immutable without the inspect file. The
rate query's floor is the same SQL as arbitrary SQL with SQLite's max() in place of our stats
functions. Requests alternate ours and the floor, so both see the same machine. The build and
`publish` run in child processes (their peak memory is theirs); the peak printed for the pages
is this process's, which holds both instances.

Aim (issue 30): p95 under 100 ms for every page at a million visits. Last, the editors' canned
service queries on a customer-service case of a tenth as many tests (`--service N`; the demo's
grown by `build_service`): each scores every test in Python, so they are held to Datasette's 3 s
SQL limit (first request after a start included) and shown beside the 100 ms. Both keep what
they computed while nothing changes, so each is also timed right after a write, which makes it
read every test again.
`--quick` is 100,000 visits and 30 requests a page (about a minute). `--workspace DIR` keeps the
built workspace and public copy in DIR and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from _workspace import BIN, measure

AIM_MS = 100
BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from _workspace import build_visits
build_visits(Path(sys.argv[1]), int(sys.argv[2]))
"""


def busy_desk(ws, case_id: str, *, waiting: int, overdue: int) -> None:
    """What the editors' home page lists at deadline (issue 30's measurement: 7,692 visits
    waiting for review and 13,271 overdue promises at a million visits): ``waiting`` visits set
    back to received through the audited bulk path, ``overdue`` open promises already due."""
    if ws.db.execute("select count(*) from promises").fetchone()[0]:
        return
    ids = [r[0] for r in ws.db.execute("select id from visits where case_id = ? order by rowid limit ?",
                                       [case_id, waiting + overdue])]
    ws.update_many("visits", ids[:waiting], {"review_state": "received"}, reason="bench: waiting", action="review")
    ws.insert_many("promises", ({"visit_id": vid, "what": "callback within 48 h", "promised_at": "2026-10-01T10:00:00+02:00",
                                 "due_at": "2026-10-03T10:00:00+02:00", "created_at": "2026-10-01T10:00:00+02:00"}
                                for vid in ids[waiting:]))
    ws.db.execute("analyze")


SERVICE_BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from _workspace import build_service
build_service(Path(sys.argv[1]), int(sys.argv[2]))
"""
#: The editors' canned service queries score every test of the case in Python (when the
#: workspace or the clock has moved since they last did): their bar is Datasette's SQL time
#: limit (3 s), beside the pages' 100 ms.
SERVICE_QUERIES = {"service scorecard": "/investigate/service_scorecard.json?case={case}&_shape=array",
                   "response times": "/investigate/response_times_by_channel.json?case={case}&_shape=array"}
SQL_LIMIT_MS = 3000
AFTER_WRITE = 3  # requests of each, each right after a write


async def canned_service(ds, case: str, n: int, write=None) -> dict[str, list[tuple[float, int]]]:
    """Each canned service query n + 1 times, (ms, HTTP status), the first asked the moment the
    instance has started (the editors' instance imports its statistics then, in a thread of its
    own); then each ``AFTER_WRITE`` times more, each right after ``write()``, an audited write
    that moves the workspace's state (as a reporter's new visit does), so that nothing kept
    holds. Past the SQL limit Datasette answers 400."""
    await ds.invoke_startup()
    out = {}

    async def timed(path: str) -> tuple[float, int]:
        start = time.perf_counter()
        response = await ds.client.get(path.format(case=case))
        return (time.perf_counter() - start) * 1000, response.status_code

    for label, path in SERVICE_QUERIES.items():
        out[label] = [await timed(path) for _ in range(n + 1)]
    for label, path in SERVICE_QUERIES.items() if write is not None else ():
        out[f"{label}, written"] = runs = []
        for _ in range(AFTER_WRITE):
            write()
            runs.append(await timed(path))
    return out


def report_service(tests: int, results: dict[str, list[tuple[float, int]]]) -> bool:
    print(f"\nthe editors' canned service queries, a case of {tests:,} tests (kept until a write or the clock "
          "moves a figure; \"written\": each right after a write)")
    print(f"{'query':<28}{'first':>8}{'p50':>10}{'p95':>10}  aim")
    ok = True
    for label, runs in results.items():
        (first, _), timed = runs[0], [ms for ms, _ in runs[1:]]
        p95 = percentile(timed, .95)
        failed = [status for _, status in runs if status != 200]
        within = not failed and max(first, p95) < SQL_LIMIT_MS
        ok &= within
        print(f"{label:<28}{first:>6.0f}ms{statistics.median(timed):>8.0f}ms{p95:>8.0f}ms  "
              f"under the {SQL_LIMIT_MS / 1000:.0f} s SQL limit: {'ok' if within else 'MISSED'}"
              f"{f' (HTTP {failed[0]} on {len(failed)} of {len(runs)})' if failed else ''}; "
              f"{AIM_MS} ms: {'ok' if p95 < AIM_MS else 'missed'}")
    return ok


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def alternate(ours, floor, pairs: dict[str, tuple[str, str]], n: int) -> dict[str, tuple[list, list]]:
    """Time every page n times, ours and its floor in turn (after one warm-up each)."""
    await ours.invoke_startup()
    await floor.invoke_startup()

    async def get(ds, path) -> float:
        start = time.perf_counter()
        response = await ds.client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return elapsed

    out = {}
    for label, (mine, theirs) in pairs.items():
        first = await get(ours, mine)
        await get(floor, theirs)
        ours_t, floor_t = [first], []
        for _ in range(n):
            ours_t.append(await get(ours, mine))
            floor_t.append(await get(floor, theirs))
        out[label] = (ours_t, floor_t)
    return out


def report(title: str, results: dict[str, tuple[list, list]]) -> bool:
    """Print one table; True when every page of ours is within the aim. Ours' first request
    (a cold start: nothing kept yet) is printed apart and not in the percentiles."""
    print(f"\n{title}")
    print(f"{'page':<20}{'first':>8}{'ours p50':>10}{'ours p95':>10}{'floor p50':>11}{'floor p95':>11}"
          f"{'p95/floor':>11}  aim")
    ok = True
    for label, (timed, floor_t) in results.items():
        first, ours_t = timed[0], timed[1:]
        p95, fp95 = percentile(ours_t, .95), percentile(floor_t, .95)
        within = p95 < AIM_MS
        ok &= within
        print(f"{label:<28}{first:>6.0f}ms{statistics.median(ours_t):>8.0f}ms{p95:>8.0f}ms{statistics.median(floor_t):>9.0f}ms"
              f"{fp95:>9.0f}ms{p95 / fp95:>11.2f}  {'ok' if within else f'over {AIM_MS} ms'}")
    return ok


def main() -> int:
    from datasette.app import Datasette

    from investigate.publish.metadata import RATE_BY_CHAIN, STORE_MAP
    from investigate.publish.public import PUBLIC_DB
    from investigate.publish.server import editors_datasette, public_datasette
    from investigate.store.workspace import Workspace

    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="100,000 visits, 30 requests a page")
    parser.add_argument("--workspace", type=Path, help="build into (and reuse) this folder")
    parser.add_argument("--service", type=int, help="tests of the service case (default: a tenth of the visits, "
                                                    "at least 10,000; 0 leaves it out)")
    args = parser.parse_args()
    if args.quick:
        args.visits, args.requests = 100_000, 30
    if args.service is None:
        args.service = max(10_000, args.visits // 10)
    folder = args.workspace or Path(tempfile.mkdtemp(prefix="investigate-datasette-"))
    ws_dir, public_dir = folder / "ws", folder / "public"
    try:
        if not (ws_dir / "investigate.db").exists():
            secs, mb = measure([sys.executable, "-c", BUILD, str(ws_dir), str(args.visits),
                                str(Path(__file__).resolve().parent)])
            print(f"built {args.visits:,} visits in {secs:.1f} s (peak {mb:.0f} MB)")
        # Published on every run, into a kept folder too: the public copy measured is the one
        # the code under measurement writes (a copy kept from an earlier run had kept the default
        # facets since dropped: 309 ms p50 at a million visits where the current copy takes 36).
        shutil.rmtree(public_dir, ignore_errors=True)
        secs, mb = measure([str(BIN / "investigate"), "-w", str(ws_dir), "publish", "--case", "bench",
                            "--out", str(public_dir), "--override", "benchmark"])
        size = (public_dir / PUBLIC_DB).stat().st_size / 1e6
        print(f"publish: {secs:.1f} s, peak {mb:.0f} MB, public.db {size:.0f} MB")

        ws = Workspace(ws_dir)
        case_id = ws.db.execute("select id from cases where slug = 'bench'").fetchone()[0]
        busy_desk(ws, case_id, waiting=args.visits * 7692 // 1_000_000, overdue=args.visits * 13271 // 1_000_000)
        settings = {"suggest_facets": False}
        bare_sql = RATE_BY_CHAIN.replace(":case", "'bench'")
        for name in ("investigate_rate", "investigate_ci_low", "investigate_ci_high"):
            bare_sql = bare_sql.replace(name + "(", "max(")
        bare_map = STORE_MAP.replace(":case", "'bench'")
        editors = asyncio.run(alternate(editors_datasette(ws), Datasette([str(ws.db_path)], settings=settings), {
            "visits table": ("/investigate/visits", "/investigate/visits"),
            "facet on outcome": ("/investigate/visits?_facet=outcome", "/investigate/visits?_facet=outcome"),
            "rate by chain": ("/investigate/rate_by_chain?case=bench", "/investigate?sql=" + quote(bare_sql)),
            # Every visit by name (a view looking up each visit's case and store) and the case's
            # stores on the map as JSON (a canned query over the visit tallies).
            "visit_list view": ("/investigate/visit_list", "/investigate/visits"),
            "store map JSON": ("/investigate/store_map.json?case=bench", "/investigate?sql=" + quote(bare_map)),
            # The desk: counted from the tallies, first pages only (floor: bare Datasette's index).
            "home page": ("/", "/"),
            "to do: review p.10": ("/-/investigate/todo/review?page=10",
                                   "/investigate/visits?review_state=received&_size=50"),
            "to do: overdue": ("/-/investigate/todo/overdue", "/investigate/promises?_size=50"),
            # The case page: its checklist and rates are kept between loads while nothing is
            # written and no deadline passes; the first load after a change computes them
            # (the "first" column). Floor: bare Datasette's row page of the case.
            "case page": (f"/investigate/cases/{case_id}", f"/investigate/cases/{case_id}"),
        }, args.requests))
        public = asyncio.run(alternate(public_datasette(public_dir),
                                       Datasette(immutables=[str(public_dir / PUBLIC_DB)], settings=settings), {
            "visits table": ("/public/visits", "/public/visits"),
            "facet on outcome": ("/public/visits?_facet=outcome", "/public/visits?_facet=outcome"),
            "rates of a case": ("/public/rates?case_slug=bench", "/public/rates?case_slug=bench"),
        }, args.requests))
        ws.close()
        service = None
        if args.service:
            service_dir = folder / "service"
            if not (service_dir / "investigate.db").exists():
                secs, mb = measure([sys.executable, "-c", SERVICE_BUILD, str(service_dir), str(args.service),
                                    str(Path(__file__).resolve().parent)])
                print(f"built a service case of {args.service:,} tests in {secs:.1f} s (peak {mb:.0f} MB)")
            # In a process of its own: the first request after a start is timed as an editor meets
            # it, with nothing imported or kept by the instances above.
            child = subprocess.run([sys.executable, __file__, "--service-times", str(service_dir),
                                    str(max(3, args.requests // 4))], capture_output=True, text=True, check=True)
            service = json.loads(child.stdout)
        print(f"\n{args.visits:,} visits, {args.requests} requests a page, alternating ours and the floor")
        ok = report("editors' instance (floor: bare Datasette on investigate.db)", editors)
        ok &= report("public instance (floor: bare Datasette on public.db, immutable, no inspect file)", public)
        if service:
            ok &= report_service(args.service, service)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak memory of this process (both instances of each pair): {peak:.0f} MB")
        return 0 if ok else 1
    finally:
        if args.workspace is None:
            shutil.rmtree(folder, ignore_errors=True)


def service_times(folder: str, n: str) -> None:
    """The child of ``main`` that times the canned service queries: their times as JSON."""
    from investigate.publish.server import editors_datasette
    from investigate.store.workspace import Workspace

    from investigate.cases.cases import edit_case, get_case

    with Workspace(folder) as ws:
        case = get_case(ws, "service-test-berlin-2026")

        def write() -> None:
            edit_case(ws, case, description=f"{case['description'] or ''} (bench {time.perf_counter()})")

        print(json.dumps(asyncio.run(canned_service(editors_datasette(ws), case["slug"], int(n), write))))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--service-times"]:
        sys.exit(service_times(*sys.argv[2:4]))
    sys.exit(main())
