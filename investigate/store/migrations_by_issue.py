"""The migrations each issue added after the first schema, named by issue (``i8_editorial``,
``i16_visit_tallies``…). Shipped migrations are never edited; ``schema`` runs them in order."""

from __future__ import annotations

from sqlite_utils import Database

from .tables import (CASE_TALLIED, CASE_TALLY_TRIGGERS, SHORT_ID_TABLES, TALLIED, finding_tally_triggers,
                     tallied, tally)


def editorial(db: Database) -> None:
    """Issue 8: review history, sign-offs, publications with versions, corrections, retests."""
    db["reviews"].create(
        {"id": str, "visit_id": str, "state": str, "comment": str, "reviewer": str, "at": str},
        pk="id",
        foreign_keys=[("visit_id", "visits", "id")],
        not_null={"visit_id", "state", "at"},
    )
    db["reviews"].create_index(["visit_id", "at"])
    db["signoffs"].create(
        {"id": str, "case_id": str, "role": str, "signed_by": str, "note": str, "at": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"case_id", "role", "signed_by", "at"},
    )
    db["signoffs"].create_index(["case_id"])
    db["publications"].create(
        {"id": str, "case_id": str, "kind": str, "edition": str, "version": int, "sha256": str,
         "size": int, "path": str, "language": str, "override_reason": str, "created_at": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"case_id", "kind", "version", "sha256", "created_at"},
    )
    db["publications"].create_index(["case_id", "kind", "version"], unique=True)
    db["corrections"].create(
        {"id": str, "case_id": str, "note": str, "created_at": str, "first_version": int},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"case_id", "note", "created_at"},
    )
    db["corrections"].create_index(["case_id", "created_at"])
    cases = db["cases"]
    cases.add_column("parent_case_id", str)
    cases.add_column("planned_start", str)
    cases.add_column("min_cell", int)


def geo_sampling(db: Database) -> None:
    """Issue 3: recorded sample draws (audited: part of the methodology), the geocoding cache
    and distance results (derived data, not audited)."""
    db["samples"].create(
        {"id": str, "case_id": str, "method": str, "strata_column": str, "seed": int, "frame_size": int,
         "n": int, "margin": float, "confidence": float, "expected_rate": float, "params": str, "drawn_at": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"case_id", "method", "seed", "frame_size", "n", "drawn_at"},
    )
    db["samples"].create_index(["case_id", "drawn_at"])
    db["sample_stores"].create(
        {"id": str, "sample_id": str, "store_id": str, "stratum": str, "stratum_frame": int,
         "stratum_sample": int, "selection_probability": float},
        pk="id",
        foreign_keys=[("sample_id", "samples", "id"), ("store_id", "stores", "id")],
        not_null={"sample_id", "store_id"},
    )
    db["sample_stores"].create_index(["sample_id", "store_id"], unique=True)
    db["geocode_cache"].create(
        {"query_key": str, "query": str, "provider": str, "domain": str, "found": int, "lat": float,
         "lon": float, "precision": str, "display_name": str, "raw": str, "fetched_at": str},
        pk="query_key",
    )
    db["near_results"].create(
        {"id": int, "case_id": str, "store_id": str, "place_name": str, "place_kind": str, "place_lat": float,
         "place_lon": float, "distance_m": float, "radius_m": float, "places_file": str, "computed_at": str},
        pk="id",
    )
    db["near_results"].create_index(["case_id", "store_id"])


def tips(db: Database) -> None:
    """Issue 7: tips and complaints. The source's contact lives in its own table so that no
    table view of tips can show it; editors see it on the tip's own page only."""
    db["tips"].create(
        {"id": str, "received_at": str, "channel": str, "store_id": str, "chain": str, "company": str,
         "company_key": str, "product": str, "issue": str, "sub_issue": str, "narrative": str, "wants": str,
         "consent_publish": int, "status": str, "case_id": str, "source": str, "external_id": str,
         "state": str, "postcode": str, "match_note": str, "created_at": str},
        pk="id",
        foreign_keys=[("store_id", "stores", "id"), ("case_id", "cases", "id")],
        not_null={"received_at", "channel", "status", "source"},
    )
    db["tips"].create_index(["source", "external_id"], unique=True)
    db["tips"].create_index(["company_key", "issue"])
    db["tips"].create_index(["store_id"])
    db["tips"].create_index(["status"])
    db["tip_sources"].create(
        {"id": str, "tip_id": str, "contact": str},
        pk="id",
        foreign_keys=[("tip_id", "tips", "id")],
        not_null={"tip_id"},
    )
    db["tip_sources"].create_index(["tip_id"], unique=True)


def rates_index(db: Database) -> None:
    """A covering index for the rates: counting a million visits reads only this index."""
    db["visits"].create_index(["case_id", "kind", "store_id", "outcome", "review_state"],
                              index_name="idx_visits_rates")


def teamwork(db: Database) -> None:
    """Issue 6: a workspace identity, other workspaces' audit chains kept verifiable after a
    merge, and the conflicts a merge found and did not overwrite."""
    import uuid

    db["workspace_meta"].create({"key": str, "value": str}, pk="key")
    db["workspace_meta"].insert({"key": "workspace_id", "value": str(uuid.uuid4())})
    db["foreign_audit"].create(
        {"origin": str, "seq": int, "at": str, "actor": str, "action": str, "table_name": str, "row_id": str,
         "row_hash": str, "data": str, "prev_hash": str, "hash": str},
        pk=("origin", "seq"),
    )
    db["merge_conflicts"].create(
        {"id": int, "origin": str, "table_name": str, "row_id": str, "ours_hash": str, "theirs_hash": str,
         "theirs": str, "detected_at": str},
        pk="id",
    )
    db["merge_conflicts"].create_index(["table_name", "row_id", "theirs_hash"], unique=True)


def browse_indexes(db: Database) -> None:
    """Issue 5: what the editors' Datasette sorts and facets by, so a million visits page fast:
    the default sort (visited_at) and the default facets (outcome, protocol, review state)."""
    visits = db["visits"]
    visits.create_index(["visited_at"], index_name="idx_visits_visited_at")
    visits.create_index(["outcome"], index_name="idx_visits_outcome")
    visits.create_index(["protocol"], index_name="idx_visits_protocol")
    visits.create_index(["review_state"], index_name="idx_visits_review_state")
    db["promises"].create_index(["due_at"], index_name="idx_promises_due_at")
    db["replies"].create_index(["deadline"], index_name="idx_replies_deadline")


def companies(db: Database) -> None:
    """Issue 13: a company (the business) and its contact points. A store row stays what it
    was — a branch, a hotline number, an e-mail address or a web form, by its channel — and
    now may belong to a company, so that visits of every channel add up per company."""
    db["companies"].create(
        {"id": str, "name": str, "name_key": str, "sector": str, "country": str, "notes": str, "created_at": str},
        pk="id",
        not_null={"name"},
    )
    db["companies"].create_index(["name_key"])
    db["stores"].add_column("company_id", str)
    db["stores"].create_index(["company_id"], index_name="idx_stores_company_id")


def publication_policy(db: Database) -> None:
    """Issue 11: what a reply request put to the business (so that a finding approved after
    it is not covered), a reason for a deadline shorter than the case's window, reply windows
    in working days, sign-offs that know what they signed, and sample replacements."""
    db["reply_items"].create(
        {"id": str, "reply_id": str, "visit_id": str, "finding_id": str, "covered_hash": str,
         "created_at": str},
        pk="id",
        foreign_keys=[("reply_id", "replies", "id"), ("visit_id", "visits", "id")],
        not_null={"reply_id", "visit_id", "covered_hash"},
    )
    db["reply_items"].create_index(["reply_id"])
    db["reply_items"].create_index(["visit_id"])
    db["replies"].add_column("short_deadline_reason", str)
    db["cases"].add_column("reply_calendar", str)
    db["cases"].add_column("holidays", str)
    db["signoffs"].add_column("audit_seq", int)
    db["samples"].add_column("replaces_sample_id", str)
    db["samples"].add_column("replace_reason", str)


def provable_log(db: Database) -> None:
    """Issue 12: the audit entries as an RFC 6962 tree (perfect subtrees stored as the log
    grows; derived, rebuilt from the entries when missing) and every signed checkpoint made."""
    db.execute("create table if not exists log_nodes (level integer, idx integer, hash blob, "
               "primary key (level, idx)) without rowid")
    db.execute("create table if not exists log_checkpoints (id integer primary key, size integer, "
               "root_hash text, note text, made_at text, purpose text, tsa_url text, tsa_token blob, "
               "stamped_at text)")


def stories(db: Database) -> None:
    """Issue 18: one person's story. A case of kind ``story`` has one ``stories`` row (the
    business, the tip it came from, how the person is described in print, their consent to be
    named, the outcome); the person's name and contact live apart in ``story_sources`` (like
    ``tip_sources``: never public, never in a bundle without ``--with-sources``); the timeline's
    dated events may carry a promise made to the person; the person's documents are content-
    addressed like evidence; ``story_reply_items`` records which events a reply request put to
    the business, hashed as findings are."""
    db["cases"].add_column("kind", str)
    db["stories"].create(
        {"id": str, "case_id": str, "company_id": str, "tip_id": str, "person_label": str, "name_consent": int,
         "consent_at": str, "outcome": str, "outcome_at": str, "created_at": str},
        pk="id",
        # No foreign key to tips: a tip is a source and travels in a bundle only with --with-sources,
        # while the story travels always.
        foreign_keys=[("case_id", "cases", "id"), ("company_id", "companies", "id")],
        not_null={"case_id", "company_id"},
    )
    db["stories"].create_index(["case_id"], unique=True)
    db["story_sources"].create(
        {"id": str, "story_id": str, "name": str, "contact": str},
        pk="id",
        foreign_keys=[("story_id", "stories", "id")],
        not_null={"story_id"},
    )
    db["story_sources"].create_index(["story_id"], unique=True)
    db["story_events"].create(
        {"id": str, "case_id": str, "at": str, "what": str, "channel": str, "source": str, "promise": str,
         "due_at": str, "kept": int, "kept_at": str, "created_at": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
        not_null={"case_id", "at", "what", "source"},
    )
    db["story_events"].create_index(["case_id", "at"])
    db["story_documents"].create(
        {"id": str, "case_id": str, "event_id": str, "sha256": str, "size": int, "media_type": str,
         "original_name": str, "sent_at": str, "sender": str, "subject": str, "text": str, "added_at": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id"), ("event_id", "story_events", "id")],
        not_null={"case_id", "sha256"},
    )
    db["story_documents"].create_index(["case_id"])
    db["story_reply_items"].create(
        {"id": str, "reply_id": str, "event_id": str, "covered_hash": str, "created_at": str},
        pk="id",
        foreign_keys=[("reply_id", "replies", "id"), ("event_id", "story_events", "id")],
        not_null={"reply_id", "event_id", "covered_hash"},
    )
    db["story_reply_items"].create_index(["reply_id"])


def versions_are_content(db: Database) -> None:
    """Issue 14: editions of one content in several languages share a version number, so a
    version may hold several files; each remembers what it says (``content``). Cases carry
    their title and method text per language."""
    db["publications"].add_column("content", str)
    # A case's title and method text in the other languages it publishes in: {"da": {...}}.
    db["cases"].add_column("texts", str)
    create_visit_list(db)


def protocol_versions(db: Database) -> None:
    """Issue 17: every protocol version a visit was judged by, kept by its content hash with
    its TOML text, and each visit naming the version and hash that judged it — so that an
    edited protocol file cannot change the rules under old visits."""
    db["protocol_versions"].create(
        # Content only, no time of first use: the same version kept by two reporters is the
        # same row, so bundles merge it without a conflict.
        {"id": str, "key": str, "version": int, "content_hash": str, "text": str},
        pk="id",
        not_null={"key", "version", "content_hash", "text"},
    )
    db["protocol_versions"].create_index(["content_hash"], unique=True)
    db["protocol_versions"].create_index(["key", "version"], unique=True)
    db["visits"].add_column("protocol_version", int)
    db["visits"].add_column("protocol_hash", str)


def case_rotation(db: Database) -> None:
    """Issue 17: a case's own rotation rules (JSON: max visits per store per round, tester
    lockout days, strict), which win over its protocol's ``[rotation]``."""
    db["cases"].add_column("rotation", str)


def near_approximate(db: Database) -> None:
    """Issue 17: a distance measured from a street's or town's centre is marked approximate."""
    db["near_results"].add_column("approximate", int)


def short_ids(db: Database) -> None:
    """Issue 16: ids became UUIDv7 (time first, so that big imports append to the indexes);
    their short form is their last group, found through these indexes."""
    for table in SHORT_ID_TABLES:
        db.execute(f"create index if not exists idx_{table}_short_id on [{table}] (substr(id, 25))")


def rates_index_covers_fieldwork(db: Database) -> None:
    """Issue 16: the rates index also holds round, attempt and time, so that completion and
    the per-round summary of a million visits read only the index (fieldwork 9 s -> 1.3 s),
    at no cost in indexes: it replaces the narrower one."""
    db.execute("drop index if exists idx_visits_rates")
    db["visits"].create_index(["case_id", "kind", "store_id", "outcome", "review_state", "round", "attempt",
                               "visited_at"], index_name="idx_visits_rates")


def observer_index(db: Database) -> None:
    """Issue 16: observers' names are private strings checked in every printed text; a partial
    index holds only the visits that name one, so the check reads those, not every visit
    (and an import of visits without observers writes nothing to it)."""
    db.execute("create index if not exists idx_visits_observer on visits (observer) where observer is not null")


def visit_tallies(db: Database) -> None:
    """Issue 16: visits counted per case, kind, store, outcome and review state, kept by
    triggers as sqlite-utils' ``enable_counts`` keeps table counts. The editors' rate query reads
    these (some sixty thousand rows for a million visits) instead of grouping every visit on
    each page load. Derived data: not audited, not in bundles (the receiving workspace's
    triggers count the visits a merge inserts), rebuilt from the visits here."""
    db.execute("""
        create table visit_tallies (
          case_id text not null, kind text not null, store_id text not null, outcome text not null,
          review_state text not null, visits integer not null,
          primary key (case_id, kind, store_id, outcome, review_state)
        ) without rowid""")
    _count_visits(db, I16_TALLIED)


#: The tallies' columns as issue 16 made them (``tables.TALLIED`` has grown since).
I16_TALLIED = tallied({"case_id": None, "kind": None, "store_id": None, "outcome": None, "review_state": "received"})


def _count_visits(db: Database, columns: dict[str, str]) -> None:
    """Fill the (empty) tallies from the visits and make the triggers that keep them."""
    db.execute(f"insert into visit_tallies select {', '.join(v.format(r='v') for v in columns.values())}, "
               f"count(*) from visits v group by {', '.join(map(str, range(1, len(columns) + 1)))}")
    db.execute(f"create trigger visit_tallies_insert after insert on visits begin {tally('new', 1, columns)} end")
    db.execute(f"create trigger visit_tallies_delete after delete on visits begin {tally('old', -1, columns)} end")
    db.execute(f"create trigger visit_tallies_update after update of {', '.join(columns)} on visits "
               f"begin {tally('old', -1, columns)} {tally('new', 1, columns)} end")


def tallies_by_round_and_attempt(db: Database) -> None:
    """Issue 30: the tallies also count by round and attempt, so that completion and "sold at
    least once" (every `case show`, `fieldwork`, `stats` and checklist) read a few rows per store
    instead of every visit of the case: 0.4 s at 100,000 visits, ten times that at a million.
    Rebuilt from the visits, with their triggers."""
    for trigger in ("insert", "delete", "update"):
        db.execute(f"drop trigger if exists visit_tallies_{trigger}")
    db.execute("drop table if exists visit_tallies")
    db.execute("""
        create table visit_tallies (
          case_id text not null, kind text not null, store_id text not null, outcome text not null,
          review_state text not null, round integer not null, attempt text not null, visits integer not null,
          primary key (case_id, kind, store_id, outcome, review_state, round, attempt)
        ) without rowid""")
    _count_visits(db, TALLIED)


def case_tallies(db: Database) -> None:
    """Issue 30: the visit tallies summed per case (without the store), kept by triggers on the
    visit tallies (``tables.CASE_TALLY_TRIGGERS``): a case's rate sums its few rows, not sixty
    thousand. Derived data, summed here from the visit tallies."""
    columns = ", ".join(CASE_TALLIED)
    db.execute(f"""
        create table case_tallies (
          case_id text not null, kind text not null, outcome text not null, review_state text not null,
          round integer not null, attempt text not null, visits integer not null,
          primary key ({columns})
        ) without rowid""")
    db.execute(f"insert into case_tallies select {columns}, sum(visits) from visit_tallies group by {columns}")
    for name, body in CASE_TALLY_TRIGGERS.items():
        db.execute(f"create trigger {name} {body}")


def finding_tallies(db: Database) -> None:
    """Issue 30: findings counted per case, store, kind and review state of their visit, kept
    by triggers (``tables.FINDING_TALLY_TRIGGERS``), so that `case show` and the naming at a
    million visits do not walk every finding. Derived data, as the visit tallies: not audited,
    not in bundles, counted here from the findings."""
    db.execute("""
        create table finding_tallies (
          case_id text not null, store_id text not null, kind text not null, review_state text not null,
          findings integer not null,
          primary key (case_id, store_id, kind, review_state)
        ) without rowid""")
    db.execute("insert into finding_tallies select v.case_id, v.store_id, v.kind, coalesce(v.review_state, 'received'), "
               "count(*) from findings f join visits v on v.id = f.visit_id group by 1, 2, 3, 4")
    for sql in finding_tally_triggers().values():
        db.execute(sql)


def create_visit_list(db: Database) -> None:
    """A view for editors: each visit with its case, store, chain and district by name and its
    answers as "key: value" lines, so Datasette can facet by chain and show no UUID or JSON."""
    db.execute("drop view if exists visit_list")
    db.execute("""
        create view visit_list as
        select v.id as visit, c.slug as case_slug, s.name as store, coalesce(s.chain, '(independent)') as chain,
               s.district, v.visited_at, v.kind, v.outcome, coalesce(v.review_state, 'received') as review_state,
               t.code as tester, v.round,
               (select group_concat(a.key || ': ' || case a.type when 'true' then 'yes' when 'false' then 'no'
                                                               else coalesce(a.value, '') end, char(10))
                  from json_each(v.answers) a) as answers,
               (select count(*) from findings f where f.visit_id = v.id) as findings
        from visits v join cases c on c.id = v.case_id join stores s on s.id = v.store_id
             left join testers t on t.id = v.tester_id""")
    db.execute("drop index if exists idx_publications_case_id_kind_version")
    db["publications"].create_index(["case_id", "kind", "version"], index_name="idx_publications_version")


def consent_withdrawn(db: Database) -> None:
    """Issues 24 and 25: when a tester's consent was withdrawn (``tester edit --withdrawn``);
    NULL while it stands, so no stored row's hash changes. Consent that arrives later fills the
    existing consent columns; no test on or after the day of withdrawal counts."""
    db["testers"].add_column("consent_withdrawn_at", str)


def tip_fields(db: Database) -> None:
    """Issue 24: what a complaint database says besides the complaint — the CFPB's sub-product,
    tags, when the complaint was sent to the company, the company's response (to the consumer
    and in public), and whether it came in time and was disputed (1/0, NULL when unknown)."""
    for column, kind in (("sub_product", str), ("tags", str), ("sent_to_company_at", str),
                         ("company_response", str), ("company_public_response", str), ("timely", int),
                         ("disputed", int)):
        db["tips"].add_column(column, kind)


def merge_resolution(db: Database) -> None:
    """Issue 24: a merge conflict stays open until an editor picks a version (``merge
    resolve``). ``held_for`` names the conflicting visit a held-back row of the other side
    belongs to (its findings, its promises: never attached to our version meanwhile);
    ``children`` lists the other side's rows of that visit; ``resolution`` is ours or theirs."""
    for column in ("held_for", "children", "resolved_at", "resolution", "resolved_by"):
        db["merge_conflicts"].add_column(column, str)


def story_document_sources(db: Database) -> None:
    """Issue 23: the person stays protected. A document's sender, recipients and the e-mail
    addresses and phone numbers in it are source material: they move out of ``story_documents``
    (which travels in every bundle) into ``story_document_sources`` (like ``story_sources``:
    never public, in a bundle only with ``--with-sources``, in the audit log only as keyed
    hashes), and the person's postal address joins their name and contact."""
    db["story_sources"].add_column("address", str)
    db["story_document_sources"].create(
        {"id": str, "document_id": str, "sender": str, "recipients": str, "found": str},
        pk="id",
        foreign_keys=[("document_id", "story_documents", "id")],
        not_null={"document_id"},
    )
    db["story_document_sources"].create_index(["document_id"], unique=True)


def text_languages(db: Database) -> None:
    """Issue 23: a company's answer and a story's event carry the language they were written
    in, so that another edition prints them as quotations marked with it, never as if
    translated. NULL (rows from before) is the case's language."""
    db["replies"].add_column("answer_language", str)
    db["story_events"].add_column("language", str)


def source_texts_keyed(db: Database) -> None:
    """No change to the tables: tips' texts join ``SECRET_COLUMNS`` and story documents' text
    ``DIGEST_COLUMNS``, and
    a pending migration is what makes ``Workspace`` log each existing row's keyed hash once
    (``_rekey_secret_columns``), so that verify and later updates use it."""


def foreign_proofs(db: Database) -> None:
    """Issue 31: a bundle carries the audit entries of its own rows only, proven against its
    signed checkpoint by the hashes of the log's other subtrees. A merge keeps each such proof
    (the checkpoint, the seqs it proves, the hashes), so that ``verify`` proves the entries in
    ``foreign_audit`` again, gaps and all."""
    db["foreign_proofs"].create(
        {"id": int, "origin": str, "checkpoint": str, "seqs": str, "proof": str, "merged_at": str},
        pk="id",
        not_null={"origin", "checkpoint", "seqs", "proof"},
    )
    db["foreign_proofs"].create_index(["origin"])


def witnesses(db: Database) -> None:
    """Issue 28: logs that vouch for each other. ``witnessed_logs`` are the other newsrooms' logs
    this workspace witnesses (their origin and verifier key, and the checkpoint it last cosigned:
    its size, root and note — a witness cosigns only an append-only extension of that);
    ``log_witnesses`` are the witnesses this workspace asks and trusts (their name, cosignature
    verifier key and URL). Both audited: whom a newsroom trusts is part of its record."""
    db["witnessed_logs"].create(
        {"id": str, "origin": str, "verifier_key": str, "size": int, "root_hash": str, "note": str,
         "trusted_at": str, "cosigned_at": str},
        pk="id",
        not_null={"origin", "verifier_key", "size", "trusted_at"},
    )
    db["witnessed_logs"].create_index(["origin"], unique=True)
    db["log_witnesses"].create(
        {"id": str, "name": str, "verifier_key": str, "url": str, "added_at": str},
        pk="id",
        not_null={"name", "verifier_key", "added_at"},
    )
    db["log_witnesses"].create_index(["name"], unique=True)


def evidence_fingerprints(db: Database) -> None:
    """Issue 29: an image's perceptual hash (imagehash's pHash, 16 hex digits) beside its
    SHA-256, so that a photo resized or recompressed for another visit is found; NULL for files
    that are not images and for evidence added before (their hashes in the log stay as they are)."""
    db["evidence"].add_column("phash", str)


def evidence_credentials(db: Database) -> None:
    """Issue 29: a file's C2PA Content Credentials as verified when it was added — trusted,
    valid or invalid, the signer (its certificate's name, which may name a person, and the
    issuer that vouches for it), the claim's timestamp, the failing codes; NULL for a file
    without them (and for evidence added before)."""
    for column in ("credentials", "credentials_signer", "credentials_issuer", "credentials_time",
                   "credentials_failures"):
        db["evidence"].add_column(column, str)


def log_leaves(db: Database) -> None:
    """Issue 30: the stored Merkle tree's leaves a run of 1,024 at a time, as one blob of their
    hashes (``log_leaves``), and of ``log_nodes`` only the subtrees of a whole run and above: a
    row per node was two rows per audit entry, two fifths of a first checkpoint's CPU and 107 MB
    of a file of 1.2 million entries (37 MB as runs).
    The leaves already stored are moved into runs when they are whole from the first; else the
    tree is dropped, to be rebuilt from the entries (it is derived data) by the next checkpoint."""
    db.execute("create table if not exists log_leaves (run integer primary key, hashes blob)")
    count, top = db.execute("select count(*), coalesce(max(idx), -1) from log_nodes where level = 0").fetchone()
    if count != top + 1:
        db.execute("delete from log_nodes")
        return
    run, leaves = 0, []
    for (leaf,) in db.execute("select hash from log_nodes where level = 0 order by idx"):
        leaves.append(leaf)
        if len(leaves) == 1024:
            db.execute("insert into log_leaves (run, hashes) values (?, ?)", [run, b"".join(leaves)])
            run, leaves = run + 1, []
    if leaves:
        db.execute("insert into log_leaves (run, hashes) values (?, ?)", [run, b"".join(leaves)])
    db.execute("delete from log_nodes where level < 10")


def visit_list_by_lookups(db: Database) -> None:
    """Issue 30: ``visit_list`` names a visit's case, store, chain, district and tester by
    looking each up from the visit, instead of joining the tables. The rows are the same (every
    visit has its case and store), but SQLite leaves out a lookup no query reads: the page's
    count and its facets on outcome and review state read the visits' own indexes, not a join
    of every visit (at 100,000 visits the count 282 -> 1 ms, the outcome facet 140 -> 11 ms,
    the review state 222 -> 35, the case 288 -> 89, the chain 350 -> 190)."""
    db.execute("drop view if exists visit_list")
    db.execute("""
        create view visit_list as
        select v.id as visit, (select c.slug from cases c where c.id = v.case_id) as case_slug,
               (select s.name from stores s where s.id = v.store_id) as store,
               (select coalesce(s.chain, '(independent)') from stores s where s.id = v.store_id) as chain,
               (select s.district from stores s where s.id = v.store_id) as district,
               v.visited_at, v.kind, v.outcome, coalesce(v.review_state, 'received') as review_state,
               (select t.code from testers t where t.id = v.tester_id) as tester, v.round,
               (select group_concat(a.key || ': ' || case a.type when 'true' then 'yes' when 'false' then 'no'
                                                               else coalesce(a.value, '') end, char(10))
                  from json_each(v.answers) a) as answers,
               (select count(*) from findings f where f.visit_id = v.id) as findings
        from visits v""")


def manual_findings_index(db: Database) -> None:
    """Issue 30: the checklist reads the findings added by hand (their titles and statutes are
    printed as written, so checked for private strings). Without an index on the source, it
    walked every visit of the case and probed its findings: a million index probes at a million
    visits, for the handful written by hand. A partial index holds only those, so the rule-made
    findings an import writes by the hundred thousand never touch it."""
    db.execute("create index if not exists idx_findings_manual on findings (visit_id) where source = 'manual'")


def visits_protocol_by_case(db: Database) -> None:
    """Issue 30: which protocols a case used was read from every visit of the case. The index on
    the protocol alone (issue 5, for the protocol facet) becomes one on (protocol, case): the
    facet reads it as before, and ``store.usage.case_protocols`` seeks a case's protocols in it."""
    db.execute("drop index if exists idx_visits_protocol")
    db.execute("create index if not exists idx_visits_protocol_case on visits (protocol, case_id)")


def request_entries_index(db: Database) -> None:
    """Issue 30: the naming asks which of a case's closed reply requests were made here, and
    from which entry of the log on their items stand (``policy.coverage.REQUEST_ACTION``): each
    request's first entry was looked up, twenty thousand scattered pages of a log that holds
    every request's items beside it. A partial index holds the requests' own entries only, so
    no other write of the log touches it. (The action is among its columns too: else SQLite reads
    each entry from the table to test the action again.)"""
    db.execute("create index if not exists idx_audit_log_requests on audit_log (table_name, row_id, action) "
               "where action = 'request'")
