"""Issue 31 (2, in part): a bundle without --with-sources carries no tip's narrative or company,
not even in its audit log, which holds them only as keyed hashes — and verify still proves
those rows."""

from __future__ import annotations

import zipfile

from investigate.cases import tips
from investigate.desk.bundles import write_bundle
from investigate.proof.verify import verify

from test_bundles import desk  # noqa: F401 (fixture)

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


# -- issue 31 (2): a bundle carries its own rows' audit entries, proven without the rest ------


def another_case_between(workspace, tobacco_case) -> None:
    """Another case's entries, then one more of the tobacco case's: its entries have a gap."""
    from investigate.cases import cases
    from investigate.cases.review import review_visit

    cases.create_case(workspace, slug="other-case", title="Another case", protocol="tobacco-minors")
    review_visit(workspace, tobacco_case["visits"][0], "approve")


def desk_cli(desk, *args):
    from click.testing import CliRunner

    from investigate.cli import cli

    return CliRunner().invoke(cli, ["-w", str(desk.root), *map(str, args)])


def test_a_bundle_carries_only_its_own_rows_audit_entries_and_the_desk_still_proves_them(
        workspace, tobacco_case, tmp_path, run, desk):
    import json

    from investigate.cases import cases
    from investigate.desk.bundles import TABLES

    other = cases.create_case(workspace, slug="other-case", title="Vexmoor Kiosk inquiry", protocol="tobacco-minors",
                              jurisdiction="Berlin, DE", legal_basis="JuSchG § 10")
    added = run("tip", "add", "--what", "SECRET Quorbly sold to my son", "--channel", "phone", "--company",
                "Blixtorp GmbH", "--issue", "sale to minors", "--no-consent-publish", "--no-input")
    assert added.exit_code == 0, added.output
    assert run("bundle", "tobacco-nk", "--out", tmp_path / "b.zip").exit_code == 0
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        logged = zf.read("audit.json")
        rows = {name[5:-5]: json.loads(zf.read(name)) for name in zf.namelist() if name.startswith("rows/")}
    for secret in (b"SECRET", b"Quorbly", b"Blixtorp", b"Vexmoor", other["id"].encode()):
        assert secret not in logged, secret
    entries = json.loads(logged)
    carried = {(t, r["id"]) for t, table_rows in rows.items() for r in table_rows}
    assert {(e["table_name"], e["row_id"]) for e in entries} == carried  # every row's entries, and no others
    assert {e["table_name"] for e in entries} <= set(TABLES)
    everything = workspace.db.execute("select count(*) from audit_log").fetchone()[0]
    assert len(entries) < everything

    merged = desk_cli(desk, "merge", tmp_path / "b.zip")
    assert merged.exit_code == 0, merged.output
    checked = desk_cli(desk, "verify")
    assert checked.exit_code == 0 and "OK" in checked.output, checked.output
    assert desk.db.execute("select count(*) from foreign_audit").fetchone()[0] == len(entries)


def test_the_desk_s_verify_catches_an_altered_or_unproven_entry_of_a_merged_bundle(workspace, tobacco_case,
                                                                                   tmp_path, desk):
    from investigate.desk.merge import merge
    from investigate.proof.verify import verify

    another_case_between(workspace, tobacco_case)
    write_bundle(workspace, [tobacco_case["case"]], tmp_path / "b.zip")
    merge(desk, tmp_path / "b.zip")
    assert verify(desk).ok
    seq = desk.db.execute("select max(seq) from foreign_audit").fetchone()[0]
    desk.db.execute("update foreign_audit set actor = 'someone else' where seq = ?", [seq])
    assert any("foreign_proofs" in p.where or "foreign_audit" in p.where for p in verify(desk).problems)
    desk.db.execute("update foreign_audit set actor = (select actor from foreign_audit where seq = 1) where seq = ?",
                    [seq])
    assert verify(desk).ok
    desk.db.execute("delete from foreign_proofs")  # the entries stay, with nothing that proves them
    problems = [str(p) for p in verify(desk).problems]
    assert any("no merged checkpoint or chain proves this entry" in p for p in problems), problems


def test_a_bundle_whose_proof_or_entries_were_altered_is_refused(workspace, tobacco_case, tmp_path, run, desk):
    import base64
    import json

    from test_bundles import refused, rewrite  # noqa: F811

    another_case_between(workspace, tobacco_case)
    write_bundle(workspace, [tobacco_case["case"]], tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        proof = json.loads(zf.read("audit-proof.json"))
        entries = json.loads(zf.read("audit.json"))
    assert proof, "the tobacco case is not the whole log: something must prove the rest"
    forged = [base64.b64encode(bytes(32)).decode()] + proof[1:]
    refused(run, desk, rewrite(tmp_path / "b.zip", tmp_path / "p.zip", {"audit-proof.json": json.dumps(forged).encode()}),
            "its audit chain is not the one its checkpoint signed")
    refused(run, desk, rewrite(tmp_path / "b.zip", tmp_path / "e.zip", {"audit.json": json.dumps(entries[1:]).encode()}),
            "its audit chain is not the one its checkpoint signed")


def test_a_story_bundle_without_sources_carries_none_of_the_person_s_documents(workspace, tmp_path, desk):
    from investigate.cases import companies, stories
    from investigate.desk.merge import merge
    from investigate.proof.verify import verify

    company = companies.add_company(workspace, name="Trovanix Haushalt")
    companies.add_contact_point(workspace, company, channel="phone", contact="+49 30 4000 1")
    case = stories.create_story(workspace, slug="fwd-mail", title="A forwarded e-mail", company=company,
                                person_name="Ebbelina Snorquist", name_consent=False, contact="e@example.org",
                                person_label="a customer", jurisdiction="Berlin", legal_basis="BGB")["case"]
    mail = tmp_path / "fwd.eml"  # imitates a customer's forwarded mail: her name, address and number in it
    mail.write_text("From: Ebbelina Snorquist <ebbelina@example.org>\nTo: service@trovanix.example\n"
                    "Date: Wed, 16 Sep 2026 11:40:00 +0200\nSubject: Fwd: Erstattung Snorquist\n"
                    "Content-Type: text/plain; charset=utf-8\n\nIch bin unter 0171 5550199 erreichbar.\n"
                    "Ebbelina Snorquist, Quastorfweg 12\n", encoding="utf-8")
    stories.add_event(workspace, case, at=None, what="The customer forwarded her e-mail", documents=[mail])
    for with_sources in (False, True):
        out = tmp_path / f"story-{with_sources}.zip"
        write_bundle(workspace, [case], out, with_sources=with_sources)
        with zipfile.ZipFile(out) as zf:
            every_byte = b"".join(zf.read(name) for name in zf.namelist())
        assert (mail.read_bytes() in every_byte) is with_sources
        for secret in (b"Snorquist", b"Quastorfweg", b"0171 5550199", b"Erstattung"):
            assert (secret in every_byte) is with_sources, secret  # with sources: in the mail itself
    merge(desk, tmp_path / "story-False.zip")
    assert desk.db.execute("select count(*) from story_events").fetchone()[0] == 1
    assert desk.db.execute("select count(*) from story_documents").fetchone()[0] == 0
    assert verify(desk).ok, verify(desk).problems
