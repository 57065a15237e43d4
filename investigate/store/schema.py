"""The database schema, as an ordered list of sqlite-utils migrations.

Each migration runs in its own transaction and is recorded in ``_sqlite_migrations``; a
workspace made by an older version is brought up to date when it is opened. Never edit a
migration that has shipped: add a new one at the end. Columns have no SQL defaults — the
domain fills every value — so that what was hashed into the audit log is what is stored.
"""

from __future__ import annotations


from sqlite_utils import Database, Migrations

from . import audit
from .. import clock

migrations = Migrations("investigate")

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
]

#: Columns whose values never enter the audit log in clear: the log holds a keyed hash
#: (HMAC-SHA256 with the workspace's secret key) instead, which still proves the row unchanged
#: but cannot be reversed by trying every phone number. See ``Workspace.audit_view``.
SECRET_COLUMNS = {"tip_sources": ("contact",), "story_sources": ("name", "contact")}


@migrations(name="0001_initial")
def initial(db: Database) -> None:
    db["cases"].create(
        {
            "id": str,
            "slug": str,
            "title": str,
            "protocol": str,
            "jurisdiction": str,
            "legal_basis": str,
            "status": str,
            "language": str,
            "reply_days": int,
            "description": str,
            "notes": str,
            "created_at": str,
        },
        pk="id",
        not_null={"slug", "title", "protocol", "status", "language"},
    )
    db["cases"].create_index(["slug"], unique=True)

    db["stores"].create(
        {
            "id": str,
            "name": str,
            "chain": str,
            "licence_number": str,
            "address": str,
            "postcode": str,
            "city": str,
            "district": str,
            "state": str,
            "country": str,
            "channel": str,
            "contact": str,
            "lat": float,
            "lon": float,
            "coord_source": str,
            "coord_precision": str,
            "external_id": str,
            "source": str,
            "name_key": str,
            "notes": str,
            "created_at": str,
        },
        pk="id",
        not_null={"name", "channel"},
    )
    db["stores"].create_index(["licence_number"])
    db["stores"].create_index(["name_key"])
    db["stores"].create_index(["chain"])
    db["stores"].create_index(["source", "external_id"])

    db["testers"].create(
        {
            "id": str,
            "code": str,
            "birth_month": str,
            "consent": int,
            "consent_date": str,
            "consent_sha256": str,
            "consent_file": str,
            "notes": str,
            "created_at": str,
        },
        pk="id",
        not_null={"code"},
    )
    db["testers"].create_index(["code"], unique=True)

    db["visits"].create(
        {
            "id": str,
            "case_id": str,
            "store_id": str,
            "tester_id": str,
            "observer": str,
            "protocol": str,
            "kind": str,
            "visited_at": str,
            "visited_date": str,
            "tester_age": int,
            "answers": str,
            "outcome": str,
            "source": str,
            "external_ref": str,
            "notes": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[
            ("case_id", "cases", "id"),
            ("store_id", "stores", "id"),
            ("tester_id", "testers", "id"),
        ],
        not_null={"case_id", "store_id", "protocol", "kind", "visited_at", "outcome"},
    )
    db["visits"].create_index(["case_id", "visited_at"])
    db["visits"].create_index(["store_id"])
    db["visits"].create_index(["tester_id", "visited_at"])

    db["findings"].create(
        {
            "id": str,
            "visit_id": str,
            "code": str,
            "title": str,
            "statute": str,
            "severity": str,
            "description": str,
            "source": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("visit_id", "visits", "id")],
        not_null={"visit_id", "title", "severity"},
    )
    db["findings"].create_index(["visit_id"])

    db["evidence"].create(
        {
            "id": str,
            "visit_id": str,
            "sha256": str,
            "size": int,
            "media_type": str,
            "original_name": str,
            "captured_at": str,
            "gps_lat": float,
            "gps_lon": float,
            "redacted_from": str,
            "notes": str,
            "added_at": str,
        },
        pk="id",
        foreign_keys=[("visit_id", "visits", "id"), ("redacted_from", "evidence", "id")],
        not_null={"visit_id", "sha256", "size"},
    )
    db["evidence"].create_index(["visit_id", "sha256"], unique=True)
    db["evidence"].create_index(["sha256"])

    db["promises"].create(
        {
            "id": str,
            "visit_id": str,
            "what": str,
            "promised_at": str,
            "due_at": str,
            "kept": int,
            "kept_at": str,
            "note": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("visit_id", "visits", "id")],
        not_null={"visit_id", "what", "due_at"},
    )
    db["promises"].create_index(["visit_id"])
    db["promises"].create_index(["kept", "due_at"])

    db["replies"].create(
        {
            "id": str,
            "case_id": str,
            "store_id": str,
            "requested_at": str,
            "channel": str,
            "deadline": str,
            "answered_at": str,
            "answer": str,
            "notes": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id"), ("store_id", "stores", "id")],
        not_null={"case_id", "store_id", "requested_at", "deadline"},
    )
    db["replies"].create_index(["case_id", "store_id"])

    db["audit_log"].create(
        {
            "seq": int,
            "at": str,
            "actor": str,
            "action": str,
            "table_name": str,
            "row_id": str,
            "row_hash": str,
            "data": str,
            "prev_hash": str,
            "hash": str,
        },
        pk="seq",
        not_null={"at", "action", "prev_hash", "hash"},
    )
    db["audit_log"].create_index(["table_name", "row_id", "seq"])


@migrations(name="0002_frames_rounds_review")
def frames_rounds_review(db: Database) -> None:
    """A case's frame (the stores it may test), visit rounds, attempts and review state."""
    db["case_stores"].create(
        {
            "id": str,
            "case_id": str,
            "store_id": str,
            "stratum": str,
            "added_at": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id"), ("store_id", "stores", "id")],
        not_null={"case_id", "store_id"},
    )
    db["case_stores"].create_index(["case_id", "store_id"], unique=True)
    db["case_stores"].create_index(["store_id"])
    visits = db["visits"]
    visits.add_column("round", int)
    visits.add_column("attempt", str)
    visits.add_column("review_state", str)
    audited_backfill(
        db, "visits", {"round": 1, "attempt": "completed", "review_state": "received"},
        migration="0002_frames_rounds_review",
    )
    visits.create_index(["case_id", "outcome"])
    visits.create_index(["case_id", "review_state"])


def audited_backfill(db: Database, table: str, values: dict, *, migration: str) -> int:
    """Fill new columns of existing rows, and log each changed row in the audit chain.

    A migration that changes stored values must say so in the chain, or ``verify`` would
    rightly call the rows altered. Rows where the columns are already set are left alone.
    """
    where = " or ".join(f"[{c}] is null" for c in values)
    rows = list(db.query(f"select * from [{table}] where {where}"))
    if not rows:
        return 0
    at = clock.utc_now()
    entries = []
    for row in rows:
        changes = {c: v for c, v in values.items() if row[c] is None}
        row.update(changes)
        entries.append(
            {
                "at": at,
                "actor": f"migration {migration}",
                "action": "migrate",
                "table_name": table,
                "row_id": row["id"],
                "row_hash": audit.row_hash(row),
                "data": audit.dumps({"set": changes}),
            }
        )
        db.execute(
            f"update [{table}] set " + ", ".join(f"[{c}] = ?" for c in changes) + " where id = ?",
            [*changes.values(), row["id"]],
        )
    audit.append_entries(db.conn, entries)
    return len(rows)


@migrations(name="i8_editorial")
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


@migrations(name="i3_geo_sampling")
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


@migrations(name="i7_tips")
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


@migrations(name="i3_rates_index")
def rates_index(db: Database) -> None:
    """A covering index for the rates: counting a million visits reads only this index."""
    db["visits"].create_index(["case_id", "kind", "store_id", "outcome", "review_state"],
                              index_name="idx_visits_rates")


@migrations(name="i6_teamwork")
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


@migrations(name="i5_browse_indexes")
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


@migrations(name="i13_companies")
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


@migrations(name="i11_publication_policy")
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


@migrations(name="i12_provable_log")
def provable_log(db: Database) -> None:
    """Issue 12: the audit entries as an RFC 6962 tree (perfect subtrees stored as the log
    grows; derived, rebuilt from the entries when missing) and every signed checkpoint made."""
    db.execute("create table if not exists log_nodes (level integer, idx integer, hash blob, "
               "primary key (level, idx)) without rowid")
    db.execute("create table if not exists log_checkpoints (id integer primary key, size integer, "
               "root_hash text, note text, made_at text, purpose text, tsa_url text, tsa_token blob, "
               "stamped_at text)")


@migrations(name="i18_stories")
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


@migrations(name="i14_versions_are_content")
def versions_are_content(db: Database) -> None:
    """Issue 14: editions of one content in several languages share a version number, so a
    version may hold several files; each remembers what it says (``content``). Cases carry
    their title and method text per language."""
    db["publications"].add_column("content", str)
    # A case's title and method text in the other languages it publishes in: {"da": {...}}.
    db["cases"].add_column("texts", str)
    create_visit_list(db)


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


@migrations(name="i17_protocol_versions")
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


@migrations(name="i17_case_rotation")
def case_rotation(db: Database) -> None:
    """Issue 17: a case's own rotation rules (JSON: max visits per store per round, tester
    lockout days, strict), which win over its protocol's ``[rotation]``."""
    db["cases"].add_column("rotation", str)


@migrations(name="i17_near_approximate")
def near_approximate(db: Database) -> None:
    """Issue 17: a distance measured from a street's or town's centre is marked approximate."""
    db["near_results"].add_column("approximate", int)


#: Tables whose rows people name by a short id (``ids.NOUNS``); each has an index on the
#: id's random end, which is what a UUIDv7's short form is.
SHORT_ID_TABLES = ("cases", "stores", "testers", "visits", "findings", "evidence", "promises", "replies", "tips",
                   "companies")


@migrations(name="i16_short_ids")
def short_ids(db: Database) -> None:
    """Issue 16: ids became UUIDv7 (time first, so that big imports append to the indexes);
    their short form is their last group, found through these indexes."""
    for table in SHORT_ID_TABLES:
        db.execute(f"create index if not exists idx_{table}_short_id on [{table}] (substr(id, 25))")


@migrations(name="i16_rates_index_covers_fieldwork")
def rates_index_covers_fieldwork(db: Database) -> None:
    """Issue 16: the rates index also holds round, attempt and time, so that completion and
    the per-round summary of a million visits read only the index (fieldwork 9 s -> 1.3 s),
    at no cost in indexes: it replaces the narrower one."""
    db.execute("drop index if exists idx_visits_rates")
    db["visits"].create_index(["case_id", "kind", "store_id", "outcome", "review_state", "round", "attempt",
                               "visited_at"], index_name="idx_visits_rates")


@migrations(name="i16_observer_index")
def observer_index(db: Database) -> None:
    """Issue 16: observers' names are private strings checked in every printed text; a partial
    index holds only the visits that name one, so the check reads those, not every visit
    (and an import of visits without observers writes nothing to it)."""
    db.execute("create index if not exists idx_visits_observer on visits (observer) where observer is not null")


# The columns the rates count by, as ``visit_tallies`` stores them (visits.case_id, kind,
# store_id and outcome are NOT NULL): a visit without review state is 'received', as the rates
# read it, so the rates' own conditions apply to the tallies as written.
_TALLIED = {"case_id": "{r}.case_id", "kind": "{r}.kind", "store_id": "{r}.store_id", "outcome": "{r}.outcome",
            "review_state": "coalesce({r}.review_state, 'received')"}


def _tally(row: str, change: int) -> str:
    """The statement that counts ``row`` (new or old) in or out of its tally."""
    if change > 0:
        values = ", ".join(v.format(r=row) for v in _TALLIED.values())
        return (f"insert into visit_tallies ({', '.join(_TALLIED)}, visits) values ({values}, 1) "
                "on conflict do update set visits = visits + 1;")
    where = " and ".join(f"{k} = {v.format(r=row)}" for k, v in _TALLIED.items())
    return (f"update visit_tallies set visits = visits - 1 where {where}; "
            f"delete from visit_tallies where {where} and visits = 0;")


#: Row triggers that only keep counts, and the one statement that counts a bulk insert's rows
#: instead (rows past a rowid). ``Workspace.insert_many`` drops the trigger for its
#: transaction and runs the statement: an upsert per imported visit cost 35 µs, half as much
#: again as the rest of an import. DDL is transactional in SQLite: no other connection ever
#: sees the trigger missing.
BULK_RECOUNTS = {"visits": ("visit_tallies_insert", (
    f"insert into visit_tallies ({', '.join(_TALLIED)}, visits) "
    f"select {', '.join(v.format(r='v') for v in _TALLIED.values())}, count(*) from visits v where v.rowid > ? "
    "group by 1, 2, 3, 4, 5 on conflict do update set visits = visits + excluded.visits"))}


@migrations(name="i16_visit_tallies")
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
    db.execute(f"insert into visit_tallies select {', '.join(v.format(r='v') for v in _TALLIED.values())}, "
               "count(*) from visits v group by 1, 2, 3, 4, 5")
    db.execute(f"create trigger visit_tallies_insert after insert on visits begin {_tally('new', 1)} end")
    db.execute(f"create trigger visit_tallies_delete after delete on visits begin {_tally('old', -1)} end")
    db.execute(f"create trigger visit_tallies_update after update of {', '.join(_TALLIED)} on visits "
               f"begin {_tally('old', -1)} {_tally('new', 1)} end")


#: The indexes a big bulk insert builds after its rows rather than row by row
#: (``Workspace.insert_many``): those keyed by something random per row (a store, the short
#: id), into which a million inserts land all over the B-tree. Indexes keyed by time or by a
#: few values (outcome, review state) grow at their ends and stay.
DEFERRED_INDEXES = {"visits": ("idx_visits_store_id", "idx_visits_rates", "idx_visits_short_id")}
