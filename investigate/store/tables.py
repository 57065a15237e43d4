"""What the schema says beyond its tables: which tables the audit chain covers, which columns
enter it only as keyed hashes, which tables people name by short ids, and the visit tallies'
counting SQL with the indexes a bulk insert builds after its rows, and how rows are read in
time order (``by_time``, ``every_row``)."""

from __future__ import annotations


#: Tables whose every write is recorded in the audit chain. Caches and derived tables
#: (geocoding answers, distance results) are not evidence and are left out.
AUDITED_TABLES = [
    "cases",
    "stores",
    "testers",
    "visits",
    "findings",
    "evidence",
    "promises",
    "replies",
    "case_stores",
    "reviews",
    "signoffs",
    "publications",
    "corrections",
    "samples",
    "sample_stores",
    "tips",
    "tip_sources",
    "reply_items",
    "companies",
    "stories",
    "story_sources",
    "story_events",
    "story_documents",
    "story_reply_items",
    "protocol_versions",
    "story_document_sources",
    "witnessed_logs",
    "log_witnesses",
]


#: Columns whose values never enter the audit log in clear: the log holds a keyed hash
#: (HMAC-SHA256 with the workspace's secret key) instead, which still proves the row unchanged
#: but cannot be reversed by trying every phone number. See ``Workspace.audit_view``.
#: A tip's words are its source's too (issue 31): a bundle carries the audit log, and its entries
#: held every tip's narrative and company, of every case. A story person's address and what a
#: document says about its sender and recipients are theirs (issue 23).
SECRET_COLUMNS = {"tip_sources": ("contact",), "story_sources": ("name", "contact", "address"),
                  "story_document_sources": ("sender", "recipients", "found"),
                  "tips": ("company", "narrative", "wants")}


#: Columns the audit log holds as their SHA-256 (unkeyed: anyone holding the row can check it):
#: long texts read out of a file that is itself evidence. A 425 MB e-mail's text was kept twice,
#: in its row and in the log entry that wrote it; the log proves it as well by its hash.
DIGEST_COLUMNS = {"story_documents": ("text",)}


def by_time(column: str, *, whole: bool) -> str:
    """``column`` as an ORDER BY term for rows in time order. A whole listing is sorted ("+"
    keeps SQLite from walking a time index): an index walk finds each next row where it was
    written, in time order only if it was written in it, and a merge of reporters' bundles, an
    import of last year's files or the benchmark's 28-day cycle put each next row on another
    page. A million visits of the benchmark listed in 5.9 s of CPU through the index and in 3.5
    s read in the table's order and sorted (the sort spills to a temporary file: 16 MB peak);
    written in time order the two are alike (0.37 and 0.38 s for 100,000). A page (a limit)
    walks the index: twenty rows read, not a million sorted. But the few rows of one store are
    a whole listing too, even under a limit: walking the case's time index to find them reads
    every visit of the case (a store's visits for a reply request took 115 ms at 100,000 visits,
    0.1 ms found through the rates index and sorted)."""
    return f"+{column}" if whole else column


def every_row(table: str, alias: str, *, whole: bool) -> str:
    """``table alias`` for a FROM clause, ``not indexed`` when every row of it is read (no
    condition, no limit). Asked for all visits in time order, SQLite walked the rates index
    (case, kind, store, …) and looked each visit up from there: a page read per visit, 980,000
    reads for a million, where the table read in its own order takes 120,000 (the review queue's
    query 5.3 → 3.3 s of CPU)."""
    return f"{table} {alias} not indexed" if whole else f"{table} {alias}"


#: Tables whose rows people name by a short id (``store.lookup.NOUNS``); each has an index on the
#: id's random end, which is what a UUIDv7's short form is.
SHORT_ID_TABLES = ("cases", "stores", "testers", "visits", "findings", "evidence", "promises", "replies", "tips",
                   "companies")


# The columns the rates count by, as ``visit_tallies`` stores them, each with the value a NULL
# counts as (visits.case_id, kind, store_id and outcome are NOT NULL): a visit without review
# state is 'received', without round the first, without attempt a completed one, as the rates and
# fieldwork figures read them, so their own conditions apply to the tallies as written. Round and
# attempt are counted since issue 30: completion and "sold at least once" read them per store,
# and had grouped every visit of the case for each `case show`. TALLIED spells it in SQL,
# ``tally_key`` in Python.
TALLY_NULLS = {"case_id": None, "kind": None, "store_id": None, "outcome": None, "review_state": "received",
               "round": 1, "attempt": "completed"}


def tallied(nulls: dict) -> dict[str, str]:
    """Column -> the SQL of its counted value over a row alias ``{r}``."""
    return {c: f"{{r}}.{c}" if null is None else f"coalesce({{r}}.{c}, {null!r})" for c, null in nulls.items()}


TALLIED = tallied(TALLY_NULLS)


def tally_key(values: tuple) -> tuple:
    """The tally a visit counts in, from its TALLY_NULLS columns' values: TALLIED, in Python."""
    return tuple(null if value is None else value for value, null in zip(values, TALLY_NULLS.values()))


def tally(row: str, change: int, columns: dict[str, str] = TALLIED) -> str:
    """The statement that counts ``row`` (new or old) in or out of its tally. ``columns``: a
    shipped migration's own (it made the table of its day)."""
    if change > 0:
        values = ", ".join(v.format(r=row) for v in columns.values())
        return (f"insert into visit_tallies ({', '.join(columns)}, visits) values ({values}, 1) "
                "on conflict do update set visits = visits + 1;")
    where = " and ".join(f"{k} = {v.format(r=row)}" for k, v in columns.items())
    return (f"update visit_tallies set visits = visits - 1 where {where}; "
            f"delete from visit_tallies where {where} and visits = 0;")


#: The same counts without the store: one case's few rows, what its rate and its rates per round
#: are summed from (a million visits of twenty thousand stores fill sixty thousand tallies, 50 ms
#: to sum). Kept by triggers on the visit tallies themselves, so that every way those change (a
#: visit's triggers, a bulk import's recount, a bulk review's net counts) moves these too.
CASE_TALLIED = [c for c in TALLY_NULLS if c != "store_id"]


def _case_tally(row: str, change: str) -> str:
    key = " and ".join(f"{c} = {row}.{c}" for c in CASE_TALLIED)
    return (f"insert into case_tallies ({', '.join(CASE_TALLIED)}, visits) "
            f"values ({', '.join(f'{row}.{c}' for c in CASE_TALLIED)}, {change}) "
            "on conflict do update set visits = visits + excluded.visits; "
            f"delete from case_tallies where {key} and visits = 0;")


CASE_TALLY_TRIGGERS = {
    "case_tallies_insert": f"after insert on visit_tallies begin {_case_tally('new', 'new.visits')} end",
    "case_tallies_update": ("after update of visits on visit_tallies begin "
                            f"{_case_tally('new', 'new.visits - old.visits')} end"),
    "case_tallies_delete": f"after delete on visit_tallies begin {_case_tally('old', '-old.visits')} end",
}


#: Findings counted per case, store, kind and review state of their visit, kept by triggers on
#: findings and on a visit moving between those: `case show` prints how many a case holds, and
#: the naming asks which stores have a finding on a visit that counts (every checklist, report
#: and public copy). Both walked every finding of the workspace and looked its visit up (0.7 s
#: at a million visits each time).
FINDING_KEY = ("case_id", "store_id", "kind", "review_state")
_VISIT_KEY = "v.case_id, v.store_id, v.kind, coalesce(v.review_state, 'received')"


def _finding_tally(visit_id: str, change: str) -> str:
    """Count the findings ``change`` (an SQL expression) in or out at the tally of the visit
    ``visit_id`` (an SQL expression), removing a tally that reaches zero."""
    key = ", ".join(FINDING_KEY)
    return (f"insert into finding_tallies ({key}, findings) select {_VISIT_KEY}, {change} from visits v "
            f"where v.id = {visit_id} on conflict do update set findings = findings + excluded.findings; "
            f"delete from finding_tallies where findings = 0 and ({key}) = "
            f"(select {_VISIT_KEY} from visits v where v.id = {visit_id});")


def _visit_moves(row: str, sign: str) -> str:
    """A visit's findings counted out of (``-``) or into (``+``) the tally ``row`` (old or new) names."""
    key = ", ".join(FINDING_KEY)
    values = f"{row}.case_id, {row}.store_id, {row}.kind, coalesce({row}.review_state, 'received')"
    count = f"(select count(*) from findings where visit_id = {row}.id)"
    return (f"insert into finding_tallies ({key}, findings) values ({values}, {sign}{count}) "
            "on conflict do update set findings = findings + excluded.findings; "
            f"delete from finding_tallies where findings = 0 and ({key}) = ({values});")


FINDING_TALLY_TRIGGERS = {
    "finding_tallies_insert": f"after insert on findings begin {_finding_tally('new.visit_id', '1')} end",
    "finding_tallies_delete": f"after delete on findings begin {_finding_tally('old.visit_id', '-1')} end",
    "finding_tallies_move": (f"after update of visit_id on findings begin {_finding_tally('old.visit_id', '-1')} "
                             f"{_finding_tally('new.visit_id', '1')} end"),
    # A review moves a visit between tallies: one lookup per visit (whether it has a finding).
    "finding_tallies_visit": (
        "after update of case_id, store_id, kind, review_state on visits "
        "when exists (select 1 from findings where visit_id = new.id) begin "
        f"{_visit_moves('old', '-')} {_visit_moves('new', '')} end"),
}


def finding_tally_triggers() -> dict[str, str]:
    """Trigger name -> its CREATE statement."""
    return {name: f"create trigger {name} {body}" for name, body in FINDING_TALLY_TRIGGERS.items()}


#: Row triggers that only keep counts, and the one query that counts a bulk insert's rows instead
#: (rows past a rowid, grouped by the tally they count in; ``Workspace.insert_many`` drops the
#: trigger for its transaction and adds the counts up: an upsert per imported visit cost 35 µs,
#: half as much again as the rest of an import). DDL is transactional in SQLite: no other
#: connection ever sees the trigger missing.
BULK_RECOUNTS = {
    "visits": ("visit_tallies_insert", (
        f"select {', '.join(v.format(r='v') for v in TALLIED.values())}, count(*) from visits v where v.rowid > ? "
        f"group by {', '.join(map(str, range(1, len(TALLIED) + 1)))}")),
    "findings": ("finding_tallies_insert", (
        f"select {_VISIT_KEY}, count(*) from findings f join visits v on v.id = f.visit_id where f.rowid > ? "
        "group by 1, 2, 3, 4"))}


#: The tables whose rows a bulk insert into another brings along, recounted with it: an import
#: writes each batch's findings after its visits (``insert_many``'s ``on_batch``). The findings'
#: trigger is dropped for the whole import and their rows counted once at its end, where each
#: batch had dropped it, counted its own and made it again: 500 times for a million visits, each
#: new schema making SQLite prepare every statement again.
RECOUNTED_ALONG = {"visits": ("findings",)}


#: Row triggers that move a row between tallies when a counted column changes, and the
#: statements that move many rows at once: ``Workspace.update_many`` drops the trigger for its
#: transaction, adds up how many of its rows leave and enter each tally (``tally_key``), and
#: writes the net counts once at the end, removing the emptied tallies. Three statements per
#: approved visit, or two grouped ones per batch, had cost a bulk review a third of its time.
#: The case tallies' triggers are dropped with it and their net counts written the same way
#: (``case_tally_key``): each of the visit tallies' upserts and prunes fired two statements more,
#: a third of a 25,000-visit review.
BULK_RETALLIES = {"visits": ("visit_tallies_update", (
    f"insert into visit_tallies ({', '.join(TALLIED)}, visits) values ({', '.join('?' for _ in TALLIED)}, ?) "
    "on conflict do update set visits = visits + excluded.visits"), "delete from visit_tallies where visits = 0")}
BULK_CASE_RETALLY = (tuple(CASE_TALLY_TRIGGERS), (
    f"insert into case_tallies ({', '.join(CASE_TALLIED)}, visits) values ({', '.join('?' for _ in CASE_TALLIED)}, ?) "
    "on conflict do update set visits = visits + excluded.visits"), "delete from case_tallies where visits = 0")
_CASE_KEY = [i for i, c in enumerate(TALLY_NULLS) if c in CASE_TALLIED]


def case_tally_key(key: tuple) -> tuple:
    """The case tally a visit tally (``tally_key``) counts in: its values without the store."""
    return tuple(key[i] for i in _CASE_KEY)


#: The findings' tallies of the visits a bulk update moves, the same way: the trigger
#: ``finding_tallies_visit`` dropped, each visit's findings counted out of its old tally and into
#: its new one, and the net counts written once at the end. A trigger on the updated table makes
#: SQLite keep a statement journal for every multi-row UPDATE (a trigger may abort it midway):
#: 836,000 page writes for 250,000 approved visits, a sixth of the review's CPU.
BULK_FINDING_RETALLY = ("finding_tallies_visit", (
    f"insert into finding_tallies ({', '.join(FINDING_KEY)}, findings) values (?, ?, ?, ?, ?) "
    "on conflict do update set findings = findings + excluded.findings"),
    "delete from finding_tallies where findings = 0")
_FINDING_KEY = [list(TALLY_NULLS).index(c) for c in FINDING_KEY]


def finding_tally_key(key: tuple) -> tuple:
    """The findings' tally a visit tally (``tally_key``) names: its case, store, kind and review state."""
    return tuple(key[i] for i in _FINDING_KEY)


#: The indexes a big bulk insert builds after its rows rather than row by row
#: (``Workspace.insert_many``). For the visits, every one but ``(case_id, visited_at)``, which
#: the importer reads for each row that may be a correction (``imports._same_minute_visit``).
#: The random-keyed ones (a store, the short id) took a million inserts all over their B-trees;
#: the rest grow at their ends but still cost a search from the root per row and index: in
#: SQLite alone, 100,000 visits cost 1.75 s more with the eleven indexes kept than with none,
#: and 0.91 s more with them built after the rows (a sort, then pages filled in order).
DEFERRED_INDEXES = {"visits": ("idx_visits_store_id", "idx_visits_rates", "idx_visits_short_id",
                               "idx_visits_tester_id_visited_at", "idx_visits_visited_at",
                               "idx_visits_case_id_outcome", "idx_visits_case_id_review_state",
                               "idx_visits_outcome", "idx_visits_review_state", "idx_visits_protocol_case",
                               "idx_visits_observer"),
                    # every business asked at once: their items come store by store, their visits at random
                    "reply_items": ("idx_reply_items_visit_id",)}
