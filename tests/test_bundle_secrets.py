"""Issue 31 (2, in part): a bundle without --with-sources carries no tip's narrative or company,
not even in its audit log, which holds them only as keyed hashes — and verify still proves
those rows."""

from __future__ import annotations

import zipfile

from investigate.cases import tips
from investigate.desk.bundles import write_bundle
from investigate.proof.verify import verify

SECRET_NARRATIVE = "Qwintarbel sold cigarettes to my son on Tuesday"
SECRET_COMPANY = "Zorvethian Handels GmbH"


def test_a_bundle_without_sources_carries_no_tip_text_even_in_its_audit_log(workspace, tobacco_case, tmp_path):
    tip = tips.add_tip(workspace, channel="phone", company=SECRET_COMPANY, what_happened=SECRET_NARRATIVE,
                       consent_publish=False, issue="sale to minors", contact="src-31@example.org")
    tips.link_tip(workspace, tip, tobacco_case["case"])
    out = tmp_path / "b.zip"
    write_bundle(workspace, [tobacco_case["case"]], out)
    with zipfile.ZipFile(out) as zf:
        every_byte = b"".join(zf.read(name) for name in zf.namelist())
    for secret in (SECRET_NARRATIVE, SECRET_COMPANY, "src-31@example.org", "Qwintarbel", "Zorvethian"):
        assert secret.encode() not in every_byte, secret
    report = verify(workspace)
    assert report.ok, report.problems  # the log still proves the tip's row, by its keyed hash
    workspace.db.execute("update tips set narrative = 'rewritten' where id = ?", [tip["id"]])
    assert not verify(workspace).ok


def test_a_bundle_with_sources_carries_the_key_that_proves_the_tip_rows(workspace, tobacco_case, tmp_path):
    tip = tips.add_tip(workspace, channel="phone", company=SECRET_COMPANY, what_happened=SECRET_NARRATIVE,
                       consent_publish=False, issue="sale to minors", contact="src-31@example.org")
    tips.link_tip(workspace, tip, tobacco_case["case"])
    out = tmp_path / "b.zip"
    write_bundle(workspace, [tobacco_case["case"]], out, with_sources=True)
    with zipfile.ZipFile(out) as zf:
        assert SECRET_NARRATIVE.encode() in zf.read("rows/tips.json")
        assert SECRET_NARRATIVE.encode() not in zf.read("audit.json")


def test_an_emails_text_is_kept_once_and_its_log_entry_proves_it_by_its_hash(workspace, tmp_path):
    import base64
    import os

    from investigate.cases import companies, stories

    company = companies.add_company(workspace, name="Trovanix Haushalt")
    case = stories.create_story(workspace, slug="long-mail", title="A long e-mail", company=company,
                                person_name="Ebbelina Snorquist", name_consent=False, contact="e@example.org",
                                person_label="a customer", jurisdiction="Berlin", legal_basis="BGB")["case"]
    body = "".join(os.urandom(3).hex() + " " for _ in range(300_000))  # ~2.1 MB of text, base64 below
    mail = tmp_path / "long.eml"  # imitates a forwarded e-mail whose body is base64-encoded UTF-8
    mail.write_text("From: service@trovanix.example\nDate: Wed, 16 Sep 2026 11:40:00 +0200\nSubject: Bescheid\n"
                    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                    + base64.encodebytes(body.encode()).decode())
    stories.add_event(workspace, case, at=None, what="The company wrote", documents=[mail])
    stored = workspace.db.execute("select length(text) from story_documents").fetchone()[0]
    assert stored > 2_000_000
    logged = workspace.db.execute("select max(length(data)) from audit_log where table_name = 'story_documents'"
                                  ).fetchone()[0]
    assert logged < 10_000  # the text once, in its row; the log holds its SHA-256
    assert verify(workspace).ok
    workspace.db.execute("update story_documents set text = 'rewritten'")
    assert not verify(workspace).ok
