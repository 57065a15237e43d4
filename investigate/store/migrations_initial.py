"""The first schema of a workspace (0001, 0002): cases, stores, testers, visits, findings,
evidence, promises, replies and the audit log, then frames, rounds and review states.
Shipped migrations are never edited; ``schema`` runs them in order."""

from __future__ import annotations

from sqlite_utils import Database

from .audit import audited_backfill


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
