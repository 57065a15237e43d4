"""Shared by the benchmarks: a workspace with many visits, built fast through insert_many (one
transaction per table, every row audited like any import)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from investigate.cases import cases  # noqa: E402
from investigate.ids import new_id  # noqa: E402
from investigate.protocol.protocols import get_protocol  # noqa: E402
from investigate.store.workspace import Workspace, init_workspace  # noqa: E402

BIN = Path(sys.executable).parent


def build_visits(root: Path, n_visits: int, *, n_stores: int = 20_000, seed: int = 11, slug: str = "bench",
                 ws: Workspace | None = None, findings: bool = False, review_state: str = "approved") -> dict:
    """``findings``: every violation gets the finding the protocol's rule gives it; ``review_state``:
    every visit's (``received`` for a queue waiting for an editor)."""
    rnd = random.Random(seed)
    own = ws is None
    ws = ws or init_workspace(root, timezone_name="Europe/Berlin")
    case = cases.create_case(ws, slug=slug, title=f"Benchmark case {slug}", protocol="tobacco-minors",
                             jurisdiction="Berlin", legal_basis="JuSchG § 10", description="Generated.")
    now = ws.now().isoformat()
    store_ids = [new_id() for _ in range(n_stores)]
    ws.insert_many("stores", ({"id": sid, "name": f"Store {i}", "channel": "in_person", "chain": f"Chain {i % 12}",
                               "district": f"District {i % 9}", "address": f"Street {i}", "city": "Berlin",
                               "lat": 52.4 + rnd.random() * 0.2, "lon": 13.3 + rnd.random() * 0.3,
                               "created_at": now} for i, sid in enumerate(store_ids)))
    outcomes = ["violation", "compliant", "compliant", "compliant", "inconclusive"]

    sold: list[str] = []

    def visits():
        for i in range(n_visits):
            outcome = rnd.choice(outcomes)
            day = 1 + i % 28
            vid = new_id()
            if findings and outcome == "violation":
                sold.append(vid)
            yield {"id": vid, "case_id": case["id"], "store_id": store_ids[rnd.randrange(n_stores)], "protocol": "tobacco-minors",
                   "kind": "undercover", "visited_at": f"2026-10-{day:02d}T{10 + i % 9}:00:00+02:00",
                   "visited_date": f"2026-10-{day:02d}", "answers": json.dumps({"sale": outcome == "violation"}),
                   "outcome": outcome, "source": "bench", "created_at": now, "round": 1, "attempt": "completed",
                   "review_state": review_state}

    ws.insert_many("visits", visits())
    ws.insert_many("findings", ({"visit_id": vid, "code": "SALE_TO_MINOR", "title": "Tobacco product sold to a minor",
                                 "statute": "JuSchG § 10", "severity": "high", "source": "rule", "created_at": now}
                                for vid in sold))
    ws.db.execute("analyze")
    if own:
        ws.close()
    return {"case": case, "store_ids": store_ids}


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    peak_mb: float  # max RSS, as /usr/bin/time -v reports it


@contextlib.contextmanager
def bench_folder(prefix: str, keep: bool = False):
    """A temporary folder for one benchmark run, removed afterwards unless ``keep``."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


TIME = Path("/usr/bin/time")


def run_child(cmd: list[str], **kwargs) -> Run:
    """Wall time, CPU time and peak memory of one child process, as ``/usr/bin/time -v``
    reports them (os.wait4's own figure would count the benchmark's memory too: a child's
    maximum RSS starts as its parent's at the fork). CPU time is what the benchmarks compare:
    on a shared machine it varies far less than wall time. Without /usr/bin/time, wait4's.

    The disk is synced first: a child started while the kernel still writes back what came
    before pays for it in system time. A bulk review of 250,000 visits right after they were
    copied took 5.7–9.4 s of system time; once they were on disk, 1.6–3.5 s in five runs of
    seven (4.5 and 7.6 in the other two: the machine's own I/O moves it too)."""
    os.sync()
    timed = TIME.exists()
    start = time.perf_counter()
    proc = subprocess.Popen([str(TIME), "-v", *map(str, cmd)] if timed else cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kwargs)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    err = err.decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{err[-3000:]}")
    if not timed:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    report = dict(line.strip().rsplit(": ", 1) for line in err.splitlines() if line.startswith("\t") and ": " in line)
    return Run(wall, float(report["User time (seconds)"]) + float(report["System time (seconds)"]),
               int(report["Maximum resident set size (kbytes)"]) / 1024)


def measure(cmd: list[str], **kwargs) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    run = run_child(cmd, **kwargs)
    return run.wall, run.peak_mb


def own_response_time(protocol, visit: dict, rnd: random.Random) -> str | None:
    """``visit``'s answers (JSON) with its time to a response moved, by its ``protocol``'s
    response clock: a time given in minutes (a call's wait) scaled by 0.5 to 1.5, a reply's
    moment (``minutes_between`` its start and it) up to four hours later."""
    if not protocol.response or not visit["answers"]:
        return visit["answers"]
    answers = json.loads(visit["answers"])
    key = protocol.response["minutes"]
    spec = next((d for d in protocol.derived if d.key == key and d.op == "minutes_between"), None)
    if spec is None and isinstance(answers.get(key), (int, float)):
        answers[key] = round(answers[key] * rnd.uniform(0.5, 1.5), 2)
    elif spec is not None and answers.get(spec.args[1]):
        moved = datetime.fromisoformat(answers[spec.args[1]]) + timedelta(minutes=rnd.randint(1, 240))
        answers[spec.args[1]] = moved.isoformat()
        answers.update({k: v for k, v in protocol.derive(answers).items() if k in answers})
    return json.dumps(answers, ensure_ascii=False)


def build_service(root: Path, n_visits: int, *, slug: str = "service-test-berlin-2026", seed: int = 13) -> dict:
    """The demo workspace with its customer-service case grown to ``n_visits``: its visits
    (answers, times, promises and all) copied with new ids, so the scores and promise states
    are the demo's own, many times over. Each copy's time to a response is its own
    (``own_response_time``), as real contacts' are: copied verbatim, 100,000 tests had the
    demo's 80 times, and a Kaplan-Meier curve quadratic in its distinct times went unseen."""
    subprocess.run([str(BIN / "investigate"), "demo", "--force", str(root)], check=True, stdout=subprocess.DEVNULL)
    ws = Workspace(root)
    case = cases.get_case(ws, slug)
    rnd = random.Random(seed)
    originals = list(ws.db.query("select * from visits where case_id = ?", [case["id"]]))
    # Each protocol looked up once: looking it up reads every protocol file's key line.
    protocols = {key: get_protocol(key, ws.root) for key in {v["protocol"] for v in originals}}
    promised = {}
    for p in ws.db.query("select * from promises where visit_id in (select id from visits where case_id = ?)",
                         [case["id"]]):
        promised.setdefault(p["visit_id"], []).append(p)
    copies = max(0, n_visits - len(originals))
    new_promises: list[dict] = []

    def visits():
        for i in range(copies):
            v = dict(originals[i % len(originals)])
            vid = new_id()
            for p in promised.get(v["id"], []):
                new_promises.append({**p, "id": new_id(), "visit_id": vid})
            yield {**v, "id": vid, "answers": own_response_time(protocols[v["protocol"]], v, rnd)}

    ws.insert_many("visits", visits())
    if new_promises:
        ws.insert_many("promises", iter(new_promises))
    ws.db.execute("analyze")
    ws.close()
    return {"case": case, "visits": len(originals) + copies}
