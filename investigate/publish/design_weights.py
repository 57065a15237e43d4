"""The design weight of each store's result, per round, in the public copy (issue 28).

A weighted figure (Synar's RVR = Σ wᵢvᵢ / Σ wᵢ) can only be recomputed — or combined with
another newsroom's — if each store's weight is published beside its result. The unit is the
store, as in ``numbers.design``: its first completed test of a round, when that test was a
violation or compliant. In a case drawn as a stratified sample a sampled store weighs its
stratum's N_h / m_h (the weight ``numbers.design`` gives it; stores tested outside the sample
get no row, as they enter no estimate); in any other case every store with a result weighs 1.
The stratum itself is not published (it may be a chain that is not named): only the weight.
"""

from __future__ import annotations

import sqlite3

from ..store.workspace import Workspace

def first_results_sql(key: str | None = None) -> str:
    """Each store's first completed test per round, when a violation or compliant, read from the
    public visits (their ids are in time order): the same rows a reader of the published files
    picks with the same SQL, in SQLite or DuckDB. ``key`` is a column telling publications apart
    when several are read as one (``source`` in ``network combine``). The first test's id is
    found per group and joined back: a window over every visit cost DuckDB 2.7 times the CPU and
    a third more memory (bench/network_bench.py)."""
    keyed, same = (f"{key}, ", f"f.{key} = v.{key} and ") if key else ("", "")
    return (f"select {'v.' + keyed if key else ''}v.case_slug, v.store_id, v.round, v.outcome from visits v "
            f"join (select {keyed}min(id) as id from visits where attempt = 'completed' "
            f"group by {keyed}case_slug, store_id, round) f on {same}f.id = v.id "
            "where v.outcome in ('violation', 'compliant')")


FIRST_RESULTS = first_results_sql()


def write_design_weights(ws: Workspace, out: sqlite3.Connection, case: dict, store_ids: dict[str, str],
                         design: dict | None) -> None:
    """Insert ``design_weights`` rows for ``case`` into the public copy ``out``; ``store_ids``
    maps our store ids to public ones, ``design`` is ``round_estimates`` of the case (None
    when it has no stratified sample)."""
    results = out.execute(f"select store_id, round from ({FIRST_RESULTS}) where case_slug = ? order by round, store_id",
                          [case["slug"]]).fetchall()
    if design is None:
        weights = {key: 1.0 for key in results}
    else:
        public = {pid: sid for sid, pid in store_ids.items()}
        stratum_of = dict(ws.db.execute("select store_id, stratum from sample_stores where sample_id = ?",
                                        [design["sample_id"]]).fetchall())
        per_round = {r["round"]: {s["stratum"]: s["weight"] for s in r["strata"]} for r in design["rounds"]}
        weights = {}
        for pid, rnd in results:
            stratum = stratum_of.get(public.get(pid))
            weight = per_round.get(rnd, {}).get(stratum) if stratum is not None else None
            if weight is not None:
                weights[(pid, rnd)] = weight
    out.executemany("insert into design_weights (case_slug, round, store_id, weight) values (?,?,?,?)",
                    [(case["slug"], rnd, pid, w) for (pid, rnd), w in weights.items()])
