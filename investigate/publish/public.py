"""The public copy: a NEW SQLite file holding only what may be published.

Nothing is copied from the workspace database wholesale. Each public table is built here
from an explicit list of columns, so a column added to the schema later stays private until
someone adds it to this module on purpose. The rules (DESIGN.md):

- only the cases chosen (``status = 'published'``, or named), each past its pre-publication
  checklist or with an override reason that is recorded;
- which visits count, who may be named and which texts may be printed is asked of the
  publication policy (``investigate.policy``), never decided here: approved undercover
  visits only; an unnamed store gets a stable pseudonym and no name, chain, address or
  coordinates; an unnamed chain is "Chain A" in the rates and in complaint counts; a business
  a tip names but no store or chain matches is "Business A";
- visit times at day precision; no tester codes, ids, ages or birth data; no observer; no
  notes of any table; no evidence file names or paths (SHA-256 sums are published: they let
  anyone check evidence shown later without revealing it); free-text answers left out;
- groups below the disclosure threshold merged (``policy.protect_groups``).

The file is written to a temporary name, checked, and renamed into place: a failed publish
never leaves a half-written public file. Only inserts are made, so the file has no free pages
that could hold deleted private data; it is VACUUMed anyway.

To publish another kind of record, add a ``_public_<name>`` builder and list it in
``BUILDERS``; add its private fields to tests/test_leak.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from .. import policy
from ..cases import editorial
from ..protocol.protocols import get_protocol
from ..protocol.values import is_na
from ..policy import OTHER, PUBLIC, gate, min_cell, protect_groups
from ..policy.naming import Naming, public_store_id
from ..policy.texts import corrections
from ..errors import NotFound, PolicyError
from ..numbers.design import round_estimates
from ..views.i18n import Formatter, translations
from ..files import file_sha256
from ..store.workspace import Workspace
from ..proof.witnessing import sign_witnessed
from . import public_service
from .design_weights import write_design_weights

PUBLIC_DB = "public.db"
PUBLIC_METADATA = "metadata.json"
INSPECT_FILE = "inspect-data.json"
#: The settings the public copy is served with, written beside it as Datasette's configuration
#: directory reads them (``datasette public/``): no suggested facets — each would count a column
#: of every visit on each page load (a million visits: the visits page took 875 ms with them,
#: 28 without) — and downloads allowed. ``datasette publish``/``package`` take them as
#: ``--extra-options``, as the README prints (Datasette 0.65 reads no settings from metadata).
PUBLIC_SETTINGS_FILE = "settings.json"
PUBLIC_SETTINGS = {"allow_download": True, "suggest_facets": False}
PUBLIC_ANSWER_TYPES = ("bool", "choice", "int", "number")


def select_cases(ws: Workspace, slugs: list[str] | None) -> list[dict]:
    """The named cases, or every case whose status is 'published'."""
    if slugs:
        chosen = []
        for slug in slugs:
            rows = list(ws.db.query("select * from cases where slug = ?", [slug]))
            if not rows:
                raise NotFound(f"no case with slug {slug!r}")
            chosen.append(rows[0])
        return chosen
    chosen = list(ws.db.query("select * from cases where status = 'published' order by slug"))
    if not chosen:
        raise PolicyError("no published case: set a case's status to published "
                          "(investigate case status SLUG published) or name it with --case")
    return chosen


SCHEMA = """
create table cases (
  slug text primary key, title text, protocol text, protocol_title text, jurisdiction text,
  legal_basis text, language text, methodology text, period_start text, period_end text,
  stores_tested integer, visits integer, violations integer, violation_rate real, ci_low real,
  ci_high real, completion_rate real, min_cell integer, tester_ages text, id_policy text,
  version integer, published_at text, checklist_overridden integer
);
create table stores (
  id text primary key, case_slug text references cases(slug), named integer, name text, label text,
  chain text, address text, city text, district text, lat real, lon real, official_record text
);
create table visits (
  id integer primary key, case_slug text references cases(slug), store_id text references stores(id),
  visit_date text, round integer, attempt text, outcome text, answers text
);
create table findings (
  id integer primary key, case_slug text references cases(slug), store_id text references stores(id),
  visit_id integer references visits(id), visit_date text, code text, title text, statute text, severity text
);
create table rates (
  id integer primary key, case_slug text references cases(slug), grouping text, grp text,
  visits integer, violations integer, eligible integer, rate text, interval text, violation_rate real,
  ci_low real, ci_high real, merged_groups integer, withheld integer
);
create table weighted_rates (
  id integer primary key, case_slug text references cases(slug), round integer, headline integer,
  stores_tested integer, strata integer, rate text, interval text, violation_rate real, ci_low real,
  ci_high real, confidence real
);
create table replies (
  id integer primary key, case_slug text references cases(slug), store_id text references stores(id),
  requested_date text, deadline_date text, answered_date text, answer text
);
create table evidence_hashes (
  id integer primary key, case_slug text references cases(slug), visit_id integer references visits(id),
  sha256 text, media_type text
);
create table corrections (
  id integer primary key, case_slug text references cases(slug), correction_date text, note text
);
create table complaint_counts (
  id integer primary key, case_slug text references cases(slug), business text, issue text,
  complaints integer, first_date text, last_date text
);
create table design_weights (
  id integer primary key, case_slug text references cases(slug), round integer, store_id text references stores(id),
  weight real
);
create table log_checkpoint (
  size integer primary key, root_hash text, made_at text, public_key text, note text
);
create table complaint_stories (
  id integer primary key, case_slug text references cases(slug), business text, issue text,
  received_date text, story text
);
"""


# Visits are inserted in time order, case by case, so their rowid order is the order a reader
# pages through. A page filtered by a case or an outcome keeps that order from the one-column
# index (its entries end in the rowid) without sorting; a facet counts a covering index: the
# outcome facet of a case's visits reads (case_slug, outcome), the case facet of an outcome's
# (outcome, case_slug).
PUBLIC_INDEXES = """
create index visits_case on visits (case_slug);
create index visits_outcome on visits (outcome);
create index visits_case_outcome on visits (case_slug, outcome);
create index visits_outcome_case on visits (outcome, case_slug);
create index visits_store on visits (store_id);
create index findings_visit on findings (visit_id);
create index findings_store on findings (store_id);
create index findings_code on findings (code);
create index findings_severity on findings (severity);
create index stores_case on stores (case_slug);
create index rates_case_grouping on rates (case_slug, grouping);
create index evidence_visit on evidence_hashes (visit_id);
"""


def _day(value: str | None) -> str | None:
    return value[:10] if value else None


class PublicAnswers:
    """The public answers of one protocol's visits as "question: answer" in the case's language
    ("product: E-Zigarette; sale: ja"): readable in Datasette, no JSON. Free text never leaves
    (PUBLIC_ANSWER_TYPES). Which questions may be shown and the words for yes and no are looked
    up once per protocol and language, not once per visit (a tenth of a big public copy)."""

    def __init__(self, protocol, texts, lang: str):
        self.kinds = {q.key: q.type for q in protocol.questions if q.type in PUBLIC_ANSWER_TYPES}
        self.texts = texts
        _ = translations(lang).gettext
        self.yes, self.no = _("yes"), _("no")

    def __call__(self, answers_json: str) -> str:
        answers = json.loads(answers_json or "{}")
        shown = []
        for key, value in sorted(answers.items()):
            kind = self.kinds.get(key)
            if kind is None or value is None:
                continue
            if is_na(value):  # "did not apply" is no yes: as stored, for every kind alike
                value = str(value)
            elif kind == "bool":
                value = self.yes if value else self.no
            elif kind == "choice":
                value = self.texts.choice(key, value)
            shown.append(f"{key}: {value}")
        return "; ".join(shown)


def _insert_visits(out: sqlite3.Connection, batch: list[tuple]) -> None:
    out.executemany("insert into visits (id, case_slug, store_id, visit_date, round, attempt, outcome, answers) "
                    "values (?,?,?,?,?,?,?,?)", batch)
    batch.clear()


def _build_case(ws: Workspace, out: sqlite3.Connection, case: dict, *, now: datetime,
                override_reason: str | None, version: int, progress=None) -> dict:
    protocol = get_protocol(case["protocol"], ws.root)
    lang = case["language"] or ws.language
    # Every protocol text in the case's language, or an error naming what is missing.
    names = policy.naming(ws, case, on=now)
    texts = protocol.texts(lang).through(names.redact)
    # Answers and finding titles as the report prints them: in the case's language, by the
    # protocol of each visit's own (a service case tests each channel with its own protocol).
    protocols_of = {case["protocol"]: (protocol, texts, PublicAnswers(protocol, texts, lang))}

    def protocol_of(key: str | None) -> tuple:
        key = key or case["protocol"]
        if key not in protocols_of:
            other = get_protocol(key, ws.root)
            other_texts = other.texts(lang).through(names.redact)
            protocols_of[key] = (other, other_texts, PublicAnswers(other, other_texts, lang))
        return protocols_of[key]
    named = names.named_stores
    cond, cond_params = policy.visit_condition(PUBLIC)
    approved = f"from visits v where v.case_id = ? and {cond}"
    args = [case["id"], *cond_params]
    # Streamed, not listed: a case of a million visits must not sit in memory as dicts.
    store_ids: dict[str, str] = {}
    _ = translations(lang).gettext
    store_word = _("Store")
    # Figures as the report prints them, in the case's language.
    fmt = Formatter(lang, ws.setting("newsroom", "timezone", None))
    def public_store(st: dict) -> tuple:
        pid = public_store_id(case, st["id"])
        store_ids[st["id"]] = pid
        is_named = st["id"] in named
        return (pid, case["slug"], int(is_named),
                st["name"] if is_named else None,
                # The PDF's pseudonym ("Store A"), from the same function: one name per store.
                names.store_label(st["id"], st["name"], store_word),
                # A named store's chain only when the chain may be named: else "Chain A" in the
                # rates would be one join away from the chain's name.
                st["chain"] if is_named and names.chain_named(st["chain"]) else None,
                st["address"] if is_named else None, st["city"], st["district"],
                st["lat"] if is_named else None, st["lon"] if is_named else None)

    # executemany throughout, not a statement per row (a third of a big case's copy was spent
    # calling execute); the visits' ids are given, in the order they were always numbered.
    out.executemany(
        "insert into stores (id, case_slug, named, name, label, chain, address, city, district, lat, lon) "
        "values (?,?,?,?,?,?,?,?,?,?,?)",
        map(public_store, ws.db.query(
            f"select s.* from stores s where s.id in (select v.store_id {approved}) order by s.id", args)))
    # The public number of only those visits a finding or an evidence file points at: a dict of
    # every visit's id grew a million-visit copy by 200 MB.
    pointed = {vid for (vid,) in ws.db.conn.execute(
        f"select f.visit_id from findings f join visits v on v.id = f.visit_id where v.case_id = ? and {cond} "
        f"union select e.visit_id from evidence e join visits v on v.id = e.visit_id where v.case_id = ? and {cond}",
        args + args)}
    visit_ids: dict[str, int] = {}
    first = last = None
    first_id = next_id = out.execute("select coalesce(max(id), 0) + 1 from visits").fetchone()[0]
    rows = ws.db.conn.execute(
        f"select v.id, v.store_id, v.visited_date, v.visited_at, v.round, v.attempt, v.outcome, v.answers, v.protocol "
        f"{approved} order by v.visited_at, v.id", args)
    batch: list[tuple] = []
    for n, (vid, store_id, visited_date, visited_at, rnd, attempt, outcome, answers, key) in enumerate(rows, 1):
        if progress and n % 1000 == 0:
            progress(1000)
        batch.append((next_id, case["slug"], store_ids[store_id], visited_date or _day(visited_at), rnd or 1,
                      attempt or "completed", outcome, protocol_of(key)[2](answers)))
        if vid in pointed:
            visit_ids[vid] = next_id
        next_id += 1
        first = first or visited_at
        last = visited_at
        if len(batch) >= 2000:
            _insert_visits(out, batch)
    _insert_visits(out, batch)
    if progress:
        progress((next_id - first_id) % 1000)
    def public_finding(f: dict) -> tuple:
        return (case["slug"], store_ids[f["store_id"]], visit_ids[f["visit_id"]], _day(f["visited_at"]),
                f["code"], protocol_of(f["protocol"])[1].finding_title(f["code"], f["title"]), names.redact(f["statute"]),
                f["severity"])

    out.executemany("insert into findings (case_slug, store_id, visit_id, visit_date, code, title, statute, severity) "
                    "values (?,?,?,?,?,?,?,?)", map(public_finding, ws.db.query(
                        "select f.visit_id, f.code, f.title, f.statute, f.severity, v.store_id, v.visited_at, v.protocol "
                        f"from findings f join visits v on v.id = f.visit_id where v.case_id = ? and {cond} "
                        "order by v.visited_at, f.code", args)))
    for e in ws.db.query(
            "select e.visit_id, e.sha256, e.media_type from evidence e join visits v on v.id = e.visit_id "
            f"where v.case_id = ? and {cond} and e.redacted_from is null order by v.visited_at, e.sha256", args):
        out.execute("insert into evidence_hashes (case_slug, visit_id, sha256, media_type) values (?,?,?,?)",
                    [case["slug"], visit_ids[e["visit_id"]], e["sha256"], e["media_type"]])
    for r in ws.db.query("select * from replies where case_id = ? order by requested_at", [case["id"]]):
        if r["store_id"] not in named or r["store_id"] not in store_ids:
            continue
        out.execute("insert into replies (case_slug, store_id, requested_date, deadline_date, answered_date, answer) "
                    "values (?,?,?,?,?,?)",
                    [case["slug"], store_ids[r["store_id"]], _day(r["requested_at"]), _day(r["deadline"]),
                     _day(r["answered_at"]), names.redact(r["answer"])])
    threshold = min_cell(ws, case)
    # The groups that are no name, in the case's language as the report prints them.
    group_words = {OTHER: _("other groups"), "(independent)": _("(independent)"), "(unknown)": _("(unknown)")}
    for grouping in (None, "chain", "district", "round"):
        rows = policy.case_rates(ws, case, scope=PUBLIC, by=grouping)
        if grouping == "chain":
            rows = [{**r, "group": names.chain_label(r["group"], _("Chain"))} if r["group"] != "(independent)" else r
                    for r in rows]
        protected = protect_groups(rows, threshold=threshold) if grouping else {"rows": rows}
        for r in protected["rows"]:
            out.execute("insert into rates (case_slug, grouping, grp, visits, violations, eligible, rate, interval, "
                        "violation_rate, ci_low, ci_high, merged_groups, withheld) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [case["slug"], grouping or "all", group_words.get(r["group"], str(r["group"])), r.get("visits"),
                         r.get("violations"),
                         r.get("eligible"), fmt.pct(r.get("rate"), r.get("eligible")),
                         fmt.interval(r.get("ci_low"), r.get("ci_high"), r.get("eligible")),
                         r.get("rate"), r.get("ci_low"), r.get("ci_high"),
                         r.get("merged_groups"), int(bool(r.get("withheld")))])
    # A stratified sample's weighted estimate, per round, as the report's headline gives it.
    design = round_estimates(ws, case, approved_only=True)
    for r in design["rounds"] if design else []:
        if r["estimate"] is None:
            continue
        out.execute("insert into weighted_rates (case_slug, round, headline, stores_tested, strata, rate, interval, "
                    "violation_rate, ci_low, ci_high, confidence) values (?,?,?,?,?,?,?,?,?,?,?)",
                    [case["slug"], r["round"], int(r["round"] == design["headline"]["round"]), r["stores_tested"],
                     len(r["strata"]) - len(r["strata_without_result"]), fmt.pct(r["estimate"], r["stores_tested"]),
                     fmt.interval(r["ci_low"], r["ci_high"], r["stores_tested"]), r["estimate"], r["ci_low"],
                     r["ci_high"], r["confidence"]])
    write_design_weights(ws, out, case, store_ids, design)
    _public_tips(ws, out, case, names, lang)
    public_service.add_service_tables(ws, out, case, names=names, lang=lang, now=now)
    for c in corrections(ws, case):
        out.execute("insert into corrections (case_slug, correction_date, note) values (?,?,?)",
                    [case["slug"], _day(c["created_at"]), names.redact(c["note"])])
    ages = [r[0] for r in ws.db.execute(
        f"select distinct v.tester_age {approved} and v.tester_age is not null order by 1", args)]
    counts = policy.case_counts(ws, case, scope=PUBLIC)
    out.execute(
        "insert into cases values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [case["slug"], names.redact(case["title"]), case["protocol"], texts.title, case["jurisdiction"],
         case["legal_basis"], case["language"], names.redact(case["description"]),
         _day(first), _day(last),
         counts["stores_tested"], counts["visits"], counts["violations"], counts["rate"], counts["ci_low"],
         counts["ci_high"], counts["completion_rate"], threshold,
         (f"{ages[0]}–{ages[-1]}" if len(ages) > 1 else str(ages[0])) if ages else None,
         # Only THAT the checklist was overridden is public; the reason is an internal note.
         texts.id_policy, version, now.date().isoformat(), int(bool(override_reason))])
    return {"slug": case["slug"], "visits": next_id - first_id, "stores": len(store_ids),
            "named_stores": sum(1 for s in store_ids if s in named)}


def _public_tips(ws: Workspace, out: sqlite3.Connection, case: dict, names: Naming, lang: str) -> None:
    """Tips that led to the case: counts per business and issue; a story only where its source
    consented to publication and it names nobody who may not be named; never a source's
    contact. A business is named by the policy's rule, at store or chain level; otherwise it
    carries the same pseudonym as everywhere else in the copy."""
    if "tips" not in ws.db.table_names():
        return
    _ = translations(lang).gettext
    counts: dict[tuple[str, str], list[str]] = {}
    for t in ws.db.query("select t.*, s.name as store_name from tips t left join stores s on s.id = t.store_id "
                         "where t.case_id = ? order by t.received_at", [case["id"]]):
        if t["store_id"]:
            business = t["store_name"] if names.store_named(t["store_id"]) else public_store_id(case, t["store_id"])
        elif t["chain"]:
            business = names.chain_label(t["chain"], _("Chain"))
        else:
            business = names.business_label(t["company_key"] or t["company"] or "", _("Business"))
        issue = names.redact(t["issue"]) or _("(no issue given)")
        counts.setdefault((business, issue), []).append(t["received_at"][:10])
        if t["consent_publish"] and t["narrative"] and not names.private_kind(t["narrative"]):
            out.execute("insert into complaint_stories (case_slug, business, issue, received_date, story) "
                        "values (?,?,?,?,?)", [case["slug"], business, issue, t["received_at"][:10], t["narrative"]])
    for (business, issue), dates in sorted(counts.items()):
        out.execute("insert into complaint_counts (case_slug, business, issue, complaints, first_date, last_date) "
                    "values (?,?,?,?,?,?)", [case["slug"], business, issue, len(dates), min(dates), max(dates)])


def leftovers(out_dir: Path) -> list[Path]:
    """Temporary files of a publish that was killed (its process is gone)."""
    from ..store.leftovers import left_by_a_killed_run

    return [path for path in Path(out_dir).glob(f".{PUBLIC_DB}.*.tmp*")
            if left_by_a_killed_run(path.name[len(PUBLIC_DB) + 2:].split(".")[0])]


def clean_leftovers(out_dir: Path) -> list[str]:
    removed = []
    for path in leftovers(out_dir):
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def build_public(ws: Workspace, out_dir: Path | str, *, slugs: list[str] | None = None,
                 override: str | None = None, now: datetime | None = None, record: bool = True,
                 progress=None, total=None, parquet: bool = False) -> dict:
    """Build ``out_dir/public.db`` and its Datasette metadata; record each case's version.

    Refuses (PolicyError) a case whose pre-publication checklist is open, unless ``override``
    gives a reason. ``total(n)`` is told how many visits will be copied and ``progress(k)``
    as they are, for a progress bar. With ``parquet``, each public table is also written as
    Parquet with a manifest (``publish.parquet``)."""
    from .public_metadata import public_metadata

    now = now or ws.now()
    out_dir = Path(out_dir)
    chosen = select_cases(ws, slugs)
    overrides = {c["id"]: gate.require_publishable(ws, c, override=override) for c in chosen}
    made_dir = not out_dir.exists()  # a refused or failed run removes the folder it made, and only that
    out_dir.mkdir(parents=True, exist_ok=True)
    if total:
        cond, cond_params = policy.visit_condition(PUBLIC)
        total(sum(ws.db.execute(f"select count(*) from visits v where v.case_id = ? and {cond}",
                                [c["id"], *cond_params]).fetchone()[0] for c in chosen))
    target = out_dir / PUBLIC_DB
    clean_leftovers(out_dir)
    tmp = out_dir / f".{PUBLIC_DB}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    summaries = []
    from ..proof import log

    # The log as it stood when this copy was made, signed: the public copy carries it so any
    # reader can later ask for a proof that the newsroom's records only grew since.
    # Signed now, recorded once the copy is in place: a failed publish leaves no checkpoint row.
    # Cosigned by the newsroom's witnesses, if it has any (issue 28).
    cp = sign_witnessed(ws, purpose="publish " + ",".join(c["slug"] for c in chosen))
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(SCHEMA + public_service.SCHEMA)
        conn.execute("insert into log_checkpoint (size, root_hash, made_at, public_key, note) values (?,?,?,?,?)",
                     [cp["size"], cp["root"], cp["made_at"], ws.setting("log", "public_key"), cp["note"]])
        with conn:
            for case in chosen:
                summaries.append(_build_case(ws, conn, case, now=now, override_reason=overrides[case["id"]],
                                             version=editorial.next_version(ws, case, "database"),
                                             progress=progress))
        # What the public pages sort and facet by, so that a million visits page fast; made
        # after the inserts (cheaper than keeping them up to date row by row).
        conn.executescript(PUBLIC_INDEXES + public_service.INDEXES)
        conn.execute("analyze")
        conn.execute("vacuum")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        if made_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    conn.close()
    os.replace(tmp, target)
    stamp = log.record_checkpoint(ws, cp).get("timestamp")
    metadata = public_metadata(ws, chosen)
    (out_dir / PUBLIC_METADATA).write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / PUBLIC_SETTINGS_FILE).write_text(json.dumps(PUBLIC_SETTINGS, indent=2), encoding="utf-8")
    _write_inspect(target, out_dir / INSPECT_FILE)
    from .parquet import remove_parquet, write_parquet

    parquet_files = None
    if parquet:
        parquet_files = write_parquet(target, [
            {"slug": c["slug"], "protocol": c["protocol"],
             "outcome_hash": get_protocol(c["protocol"], ws.root).outcome_hash} for c in chosen])
    else:  # files of an earlier publish would describe another copy than the one now in place
        remove_parquet(out_dir)
    versions = {}
    if record:
        for case in chosen:
            pub = editorial.record_publication(ws, case, kind="database", path=target,
                                               override_reason=overrides[case["id"]])
            versions[case["slug"]] = pub["version"]
    return {"database": str(target), "metadata": str(out_dir / PUBLIC_METADATA),
            "settings": str(out_dir / PUBLIC_SETTINGS_FILE), "inspect": str(out_dir / INSPECT_FILE),
            "cases": summaries, "versions": versions,
            "checkpoint": {"size": cp["size"], "root": cp["root"], "timestamp": stamp, "witnesses": cp["witnesses"]},
            "sha256": file_sha256(target),
            **({"parquet": parquet_files} if parquet_files else {})}


def _write_inspect(db_path: Path, inspect_path: Path) -> None:
    """What ``datasette inspect`` writes: table counts, so an immutable (-i) instance shows
    counts without running count(*) on every page."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = {name: {"count": conn.execute(f"select count(*) from [{name}]").fetchone()[0]}
                  for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
    finally:
        conn.close()
    digest = file_sha256(db_path)  # in chunks: the file may be hundreds of megabytes
    inspect_path.write_text(json.dumps({db_path.stem: {"hash": digest, "size": db_path.stat().st_size,
                                                       "file": db_path.name, "tables": tables}}, indent=2),
                            encoding="utf-8")


def export_public(ws: Workspace, case: dict, fmt: str, out: Path | str, *, override: str | None = None) -> dict:
    """``export --public`` with an exporter of the "tables" layout (CSV, JSON, a plugin's):
    the tables of the public database of this one case, exactly as ``publish`` would build
    them (the same gate, the same policy). The exporter is given those rows and a folder,
    never the workspace. Nothing is recorded as a publication version: the export is a copy."""
    import tempfile

    from ..formats.plugins import Table, exporters, lookup, write_export

    exporter = lookup(exporters(ws.root), fmt, "export format")
    with tempfile.TemporaryDirectory() as tmp:
        built = build_public(ws, tmp, slugs=[case["slug"]], override=override, record=False)
        conn = sqlite3.connect(built["database"])
        conn.row_factory = sqlite3.Row
        try:
            tables = {}
            for (table,) in conn.execute("select name from sqlite_master where type = 'table' order by name").fetchall():
                cur = conn.execute(f"select * from [{table}]")
                tables[table] = Table([d[0] for d in cur.description], [dict(r) for r in cur])
            files = write_export(exporter, tables, out)
        finally:
            conn.close()
    return {"case": case["slug"], "format": fmt, "out": str(out), "public": True, "files": files}