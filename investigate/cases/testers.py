"""Testers: protected identities. A code ("T-07"), a birth month and consent — never a name.

Only the birth month is kept (not the day), so a tester's exact age on a visit is known to
within a month. The age rule is applied conservatively: a tester must be inside the protocol's
range whatever day of the month they were born.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from ..errors import InvalidInput
from ..policy.consent import outside_consent
from ..store.lookup import resolve
from ..store.workspace import Workspace

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_birth_month(text: str) -> tuple[int, int]:
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput(f"birth month {text!r}: expected YYYY-MM")
    return int(m.group(1)), int(m.group(2))


def age_range_on(birth_month: str, on: date) -> tuple[int, int]:
    """(youngest, oldest) possible age in whole years on ``on``, for someone born in that month."""
    year, month = parse_birth_month(birth_month)
    # Born on the 1st: oldest possible. Born on the last day: youngest possible.
    oldest = on.year - year - ((on.month, on.day) < (month, 1))
    last_day = 31 if month in (1, 3, 5, 7, 8, 10, 12) else 30 if month != 2 else 29
    youngest = on.year - year - ((on.month, on.day) < (month, last_day))
    return max(youngest, 0), max(oldest, 0)


def age_on(birth_month: str, on: date) -> int:
    """The age a tester certainly had reached on ``on`` (the youngest possible)."""
    return age_range_on(birth_month, on)[0]


def add_tester(ws: Workspace, *, code: str, birth_month: str, consent: bool = False,
               consent_date: str | None = None, consent_file: str | Path | None = None,
               consent_held_by: str | None = None, notes: str = "") -> dict:
    """Register a tester. With ``consent_file`` the document's SHA-256 is kept as proof; the
    file itself stays where the newsroom keeps such papers (its path is private)."""
    if not _CODE.match(code or ""):
        raise InvalidInput(f"tester code {code!r}: letters, digits, - and _, at most 16 (no names)")
    year, _ = parse_birth_month(birth_month)
    today = ws.now().date()
    if not 1900 < year <= today.year:
        raise InvalidInput(f"birth month {birth_month!r} is not plausible")
    if ws.db.execute("select 1 from testers where code = ?", [code]).fetchone():
        raise InvalidInput(f"a tester with code {code!r} already exists (to record consent that came later "
                           f"or was withdrawn: investigate tester edit {code} --consent … | --withdrawn AT)")
    return ws.insert(
        "testers",
        {
            "code": code,
            "birth_month": f"{year:04d}-{parse_birth_month(birth_month)[1]:02d}",
            **consent_fields(ws, consent=consent, consent_date=consent_date, consent_file=consent_file,
                             consent_held_by=consent_held_by),
            "notes": notes or None,
            "created_at": ws.now().isoformat(),
        },
    )


def consent_fields(ws: Workspace, *, consent: bool, consent_date: str | None, consent_file: str | Path | None,
                   consent_held_by: str | None) -> dict:
    """The consent columns from what was given: a form's SHA-256 (the file stays where the
    newsroom keeps such papers), or where the paper is held; a date, never in the future."""
    today = ws.now().date()
    consent_sha = None
    if consent_file:
        path = Path(consent_file)
        if not path.is_file():
            raise InvalidInput(f"consent file {path} does not exist")
        consent_sha = hashlib.sha256(path.read_bytes()).hexdigest()
        consent = True
    elif consent_held_by and consent_held_by.strip():
        # The signed paper is kept elsewhere (a safe, the desk editor): say where, in its place.
        consent_file = consent_held_by.strip()
        consent = True
    if consent_date:
        try:
            consent_date = date.fromisoformat(consent_date).isoformat()
        except ValueError:
            raise InvalidInput(f"consent date {consent_date!r}: expected YYYY-MM-DD")
        if consent_date > today.isoformat():
            raise InvalidInput(f"consent date {consent_date} is in the future")
    # Without a date the consent's start is unknown, and no test is refused as before it (the
    # library stays lenient for importers); ``tester add`` dates it today unless told otherwise.
    return {"consent": bool(consent), "consent_date": consent_date, "consent_sha256": consent_sha,
            "consent_file": str(consent_file) if consent_file else None}


def record_consent(ws: Workspace, tester: dict, *, consent_date: str | None = None,
                   consent_file: str | Path | None = None, consent_held_by: str | None = None) -> dict:
    """Consent that arrived after the tester was registered: the signed form (or where the
    paper is kept) and its date, recorded by an audited update. Whether a visit before that
    date may count is the record-time check's question, not this one's."""
    if not consent_file and not (consent_held_by or "").strip():
        raise InvalidInput("consent needs the signed form (--consent-file PATH) or where the paper is kept "
                           '(--consent-held-by "…")')
    fields = consent_fields(ws, consent=True, consent_date=consent_date or ws.now().date().isoformat(),
                            consent_file=consent_file,
                            consent_held_by=consent_held_by)
    return ws.update("testers", tester["id"], {**fields, "consent_withdrawn_at": None},
                     reason=f"consent on file from {fields['consent_date']}", action="tester_consent")


def record_withdrawal(ws: Workspace, tester: dict, *, withdrawn_at: str) -> dict:
    """Consent withdrawn at ``withdrawn_at`` (a time, never in the future, not before the
    consent it withdraws): recorded by an audited update; the consent it ends stays on file."""
    if not tester["consent"]:
        raise InvalidInput(f"tester {tester['code']} has no consent on file to withdraw")
    at = ws.parse_time(withdrawn_at, what="withdrawal")
    if tester["consent_date"] and at.date().isoformat() < tester["consent_date"]:
        raise InvalidInput(f"withdrawal {at.date()} is before the consent of {tester['consent_date']}")
    return ws.update("testers", tester["id"], {"consent_withdrawn_at": at.isoformat()},
                     reason=f"consent withdrawn {at.isoformat()}", action="tester_consent")


def get_tester(ws: Workspace, ref: str) -> dict:
    """A tester by code, id or unique id prefix."""
    return resolve(ws, "testers", ref)


def list_testers(ws: Workspace) -> list[dict]:
    today = ws.now().date()
    rows = list(ws.db.query(
        "select t.*, (select count(*) from visits v where v.tester_id = t.id) as visits "
        "from testers t order by code"))
    for row in rows:
        row["age_today"] = age_on(row["birth_month"], today)
    return rows


def check_tester_for(protocol, tester: dict, on: date) -> int:
    """The tester's age on ``on``; refuses a tester without consent or outside the age range."""
    youngest, oldest = age_range_on(tester["birth_month"], on)
    if protocol.uses_testers and not tester["consent"]:
        raise InvalidInput(f"tester {tester['code']} has no consent on file")
    if protocol.uses_testers:
        why = outside_consent(tester, on)
        if why:
            raise InvalidInput(why)
    lo, hi = protocol.tester_min_age, protocol.tester_max_age
    if lo is not None and youngest < lo:
        raise InvalidInput(
            f"tester {tester['code']} may be {youngest} on {on}: too young for {protocol.key} (ages {lo}–{hi})"
        )
    if hi is not None and oldest > hi:
        raise InvalidInput(
            f"tester {tester['code']} may be {oldest} on {on}: too old for {protocol.key} (ages {lo}–{hi})"
        )
    return youngest
