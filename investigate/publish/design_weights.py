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

#: Each store's first completed test per round, read from the public visits (their ids are in
#: time order): the same rows a reader of the published files picks with the same SQL.
FIRST_RESULTS = """
select case_slug, store_id, round, outcome from (
  select case_slug, store_id, round, outcome,
         row_number() over (partition by case_slug, store_id, round order by id) as nth
  from visits where attempt = 'completed'
) where nth = 1 and outcome in ('violation', 'compliant')
"""


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
