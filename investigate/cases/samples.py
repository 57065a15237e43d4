"""Drawing a sample of stores from a case's frame, reproducibly, and recording how.

The report's methodology prints the recorded draw (frame size, method, strata, seed, date,
parameters) so that anyone with the frame can draw the same stores again: the frame is
ordered by store id and ``random.Random(seed)`` does the drawing.

Sample size without ``n``: n₀ = z² p(1−p) / d², then the finite population correction
n = n₀ / (1 + (n₀ − 1) / N), rounded up (Cochran 1977, 4.2). Stratified samples allocate
proportionally to the strata's frame sizes (largest remainders), at least one per stratum.
"""

from __future__ import annotations

import math
import random
import secrets
from collections import defaultdict

from ..policy.private import refuse_private
from ..errors import InvalidInput
from ..numbers.stats import z_for
from ..store.workspace import Workspace

STRATA_COLUMNS = ("district", "chain", "city", "postcode", "state", "channel", "stratum")


def sample_size(frame_size: int, *, margin: float = 0.05, confidence: float = 0.95,
                expected_rate: float = 0.2) -> int:
    """Stores to visit for a margin of error ``margin`` at ``confidence``, with FPC."""
    if frame_size < 1:
        raise InvalidInput("the frame is empty")
    if not 0 < margin < 0.5:
        raise InvalidInput(f"margin {margin} must be between 0 and 0.5 (e.g. 0.05 for ±5 points)")
    if not 0 < confidence < 1:
        raise InvalidInput(f"confidence {confidence} must be between 0 and 1 (e.g. 0.95)")
    if not 0 < expected_rate < 1:
        raise InvalidInput(f"expected rate {expected_rate} must be between 0 and 1 (e.g. 0.2)")
    z = z_for(confidence)
    n0 = z * z * expected_rate * (1 - expected_rate) / (margin * margin)
    return min(frame_size, math.ceil(n0 / (1 + (n0 - 1) / frame_size)))


def allocate(strata_sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation with largest remainders; every stratum gets at least one."""
    total = sum(strata_sizes.values())
    if n < len(strata_sizes):
        raise InvalidInput(f"a sample of {n} cannot cover {len(strata_sizes)} strata (at least one store each)")
    exact = {h: n * size / total for h, size in strata_sizes.items()}
    alloc = {h: max(1, min(strata_sizes[h], math.floor(x))) for h, x in exact.items()}
    while sum(alloc.values()) < n:
        candidates = [h for h in alloc if alloc[h] < strata_sizes[h]]
        h = max(candidates, key=lambda k: (exact[k] - alloc[k], k))
        alloc[h] += 1
    while sum(alloc.values()) > n:
        candidates = [h for h in alloc if alloc[h] > 1]
        h = min(candidates, key=lambda k: (exact[k] - alloc[k], k))
        alloc[h] -= 1
    return alloc


def frame_stores(ws: Workspace, case: dict) -> list[dict]:
    return list(ws.db.query(
        "select s.*, cs.stratum as frame_stratum from case_stores cs join stores s on s.id = cs.store_id "
        "where cs.case_id = ? order by s.id", [case["id"]]))


def draw_sample(ws: Workspace, case: dict, *, n: int | None = None, margin: float = 0.05,
                confidence: float = 0.95, expected_rate: float = 0.2, strata: str | None = None,
                seed: int | None = None, replace: bool = False, reason: str | None = None) -> dict:
    """Draw and record a sample; returns the recorded draw and the stores drawn.

    A case has one design. A second draw would silently change the report's method and the
    weighted estimate, so it is refused unless ``replace`` is given with a ``reason``; the
    replacement is recorded and printed in the method."""
    previous = recorded_draw(ws, case)
    reason = (reason or "").strip() or None
    if previous and not (replace and reason):
        raise InvalidInput(
            f"case {case['slug']} already has a sample ({previous['method']}, n={previous['n']}, drawn "
            f"{previous['drawn_at'][:10]}): a second draw needs --replace --reason \"why the design changed\"")
    if replace and not previous:
        raise InvalidInput(f"case {case['slug']} has no sample to replace: draw without --replace")
    if reason:
        refuse_private(ws, reason, what="replacement reason", case=case)
    frame = frame_stores(ws, case)
    if not frame:
        raise InvalidInput(f"case {case['slug']} has no frame: add stores with --case (store add/import)")
    N = len(frame)
    sized_by_margin = n is None
    if n is not None:
        if n < 1:
            raise InvalidInput("--n must be at least 1")
        if n > N:
            raise InvalidInput(f"a sample of {n} is larger than the frame of {N} stores")
    else:
        n = sample_size(N, margin=margin, confidence=confidence, expected_rate=expected_rate)
    seed = seed if seed is not None else secrets.randbelow(2**31)
    rnd = random.Random(seed)
    if strata:
        if strata not in STRATA_COLUMNS:
            raise InvalidInput(f"--strata {strata!r}: choose one of {', '.join(STRATA_COLUMNS)}")
        column = "frame_stratum" if strata == "stratum" else strata
        empty = [s for s in frame if not (s[column] or "").strip()]
        if empty:
            raise InvalidInput(f"{len(empty)} store(s) of the frame have no {strata} (e.g. {empty[0]['name']!r}): "
                               "fill it in or choose other strata")
        by_stratum: dict[str, list[dict]] = defaultdict(list)
        for s in frame:
            by_stratum[s[column]].append(s)
        alloc = allocate({h: len(v) for h, v in by_stratum.items()}, n)
        drawn = []
        for h in sorted(by_stratum):
            for s in rnd.sample(by_stratum[h], alloc[h]):
                drawn.append((s, h, len(by_stratum[h]), alloc[h]))
        method = "stratified"
    else:
        drawn = [(s, None, N, n) for s in rnd.sample(frame, n)]
        method = "simple random"
    with ws.transaction():
        record = ws.insert("samples", {
            "case_id": case["id"], "method": method, "strata_column": strata, "seed": seed, "frame_size": N, "n": n,
            "margin": margin if sized_by_margin else None,
            "confidence": confidence if sized_by_margin else None,
            "expected_rate": expected_rate if sized_by_margin else None,
            "params": {"allocation": "proportional" if strata else None, "fpc": True, "frame_order": "store id"},
            "drawn_at": ws.now().isoformat(), "replaces_sample_id": previous["id"] if previous else None,
            "replace_reason": reason})
        ws.insert_many("sample_stores", ({
            "sample_id": record["id"], "store_id": s["id"], "stratum": h, "stratum_frame": size,
            "stratum_sample": k, "selection_probability": k / size} for s, h, size, k in drawn), action="insert")
    return {"sample": record, "stores": [{"id": s["id"], "name": s["name"], "stratum": h} for s, h, _, _ in drawn]}


def recorded_draw(ws: Workspace, case: dict) -> dict | None:
    """The latest recorded draw of a case, as plain data for the report's methodology."""
    if "samples" not in ws.db.table_names():
        return None
    rows = list(ws.db.query("select * from samples where case_id = ? order by drawn_at desc, rowid desc limit 1",
                            [case["id"]]))
    if not rows:
        return None
    sample = rows[0]
    strata = list(ws.db.query(
        "select stratum, max(stratum_frame) as frame, count(*) as drawn from sample_stores where sample_id = ? "
        "group by stratum order by stratum", [sample["id"]]))
    replaced = list(ws.db.query(
        "select id, method, n, frame_size, drawn_at from samples where case_id = ? and id != ? "
        "order by drawn_at, rowid", [case["id"], sample["id"]]))
    return {**sample, "strata": strata if sample["method"] == "stratified" else [], "replaced": replaced}
