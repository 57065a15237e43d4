"""Protocols as phone forms: the XLSForm ODK Collect and KoboCollect fill in, and its exports
coming back through ``import kobo`` without --map, judged as ``visit record`` judges."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from conftest import DATA, snapshot
from odk_export import export_of_form
from pyxform.xls2xform import convert

from investigate.files.workbook import read_workbook
from investigate.protocol.protocols import all_protocols, get_protocol
from investigate.protocol.xlsform import form_version

OLD_VERSION = DATA / "kobo" / "odk-central-xlsform-old-version.csv"


@pytest.mark.parametrize("key", sorted(all_protocols()))
def test_every_builtin_protocol_becomes_a_form_pyxform_converts_in_en_de_da(key, run, tmp_path):
    out = tmp_path / f"{key}.xlsx"
    result = run("protocol", "xlsform", key, "--lang", "de,da,en", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    warnings: list[str] = []
    xform = convert(xlsform=str(out), warnings=warnings).xform
    # Only the photo's max-pixels advice: a shrunk photo loses its Content Credentials.
    assert all("max-pixels" in w for w in warnings), warnings
    proto = get_protocol(key)
    for lang in ("de", "da", "en"):
        texts = proto.texts(lang)
        for q in proto.questions:
            assert texts.prompts[q.key].replace("&", "&amp;").replace("<", "&lt;") in xform
    assert f'version="{form_version(proto)}"' in xform
    assert json.loads(result.output)["version"] == f"{proto.version}-{proto.content_hash[:12]}"


def test_form_has_language_columns_required_and_relevant_rules_and_a_choice_list_of_the_case_stores(
        workspace, tobacco_case, run, tmp_path):
    out = tmp_path / "form.xlsx"
    assert run("protocol", "xlsform", "tobacco-minors", "--lang", "de,en", "--case", "tobacco-nk",
               "--out", out).exit_code == 0
    sheets = read_workbook(out)
    survey = {r["name"]: r for r in sheets["survey"]}
    assert survey["sale"]["label::Deutsch (de)"] == "Wurde das Produkt an die Testperson verkauft?"
    assert survey["sale"]["type"] == "select_one yes_no" and survey["sale"]["required"] == "yes"
    assert survey["sale"]["relevant"] == "${attempt} = 'completed'"
    assert "required" not in survey["age_sign_posted"]
    for field, kind in (("start", "start"), ("end", "end"), ("tester", "text"), ("observer", "text"),
                        ("visit_location", "geopoint"), ("visit_photo", "image"), ("form_version", "calculate")):
        assert survey[field]["type"] == kind
    assert survey["store"]["type"] == "select_one stores"
    store_choices = {r["name"]: r["label::English (en)"] for r in sheets["choices"] if r["list_name"] == "stores"}
    assert store_choices[tobacco_case["stores"][0]["id"]] == "Späti Eins, Sonnenallee 1, Berlin"
    assert len(store_choices) == 4
    assert {r["name"] for r in sheets["choices"] if r["list_name"] == "product"} >= {"e-cigarette", "snus"}
    assert sheets["settings"][0]["default_language"] == "Deutsch (de)"
    # No person in the form: the tester's code is typed, never listed; no observer named.
    text = json.dumps(sheets, ensure_ascii=False, default=str)
    assert "T-07" not in text and "Olsen" not in text


@pytest.mark.parametrize("layout", ["odk-central", "kobo"])
def test_submissions_of_the_form_import_without_map_and_judge_as_visit_record(
        workspace, tobacco_case, run, tmp_path, layout):
    """Form → an ODK Central or Kobo export made from the form's own field names → import kobo:
    the same outcomes, findings and answers as `visit record` given the same answers."""
    out = tmp_path / "form.xlsx"
    assert run("protocol", "xlsform", "tobacco-minors", "--lang", "en,de", "--case", "tobacco-nk",
               "--out", out).exit_code == 0
    sheets = read_workbook(out)
    fields = [r["name"] for r in sheets["survey"]]
    version = sheets["settings"][0]["version"]
    shops = tobacco_case["stores"]
    base = workspace.now() - timedelta(days=3)
    given = [
        {"product": "cigarettes", "sale": "yes", "id_check": "none", "id_carried": "yes", "age_sign_posted": "no"},
        {"product": "e-cigarette", "sale": "no", "id_check": "scanned", "id_carried": "yes"},
        {"product": "snus", "sale": "yes", "id_check": "glance", "id_carried": "no", "clerk_age_estimate": "under_25"},
        {},  # closed: the form asked nothing (relevant), as visit record asks nothing
    ]
    attempts = ["completed", "completed", "completed", "closed"]
    submissions = []
    for i, (shop, answers, attempt) in enumerate(zip(shops, given, attempts)):
        start = base + timedelta(hours=i)
        submissions.append({**answers, "start": start.isoformat(), "end": (start + timedelta(minutes=6)).isoformat(),
                            "store": shop["id"], "tester": "T-07", "attempt": attempt, "form_version": version,
                            "observer": "Observer Olsen" if attempt == "completed" else "",
                            "visit_location": f"{shop['lat']} {shop['lon']} 40 5"})
    export, media = export_of_form(layout, fields, submissions, tmp_path)

    result = run("import", "kobo", export, "--case", "tobacco-nk", "--media", media, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["visits_added"] == 4 and summary["evidence_added"] == 4
    assert summary["form_version"] == version

    assert run("case", "new", "by-hand", "--title", "By hand", "--protocol", "tobacco-minors",
               "--legal-basis", "JuSchG § 10").exit_code == 0
    for i, (shop, answers, attempt) in enumerate(zip(shops, given, attempts)):
        at = (base + timedelta(hours=i)).strftime("%Y-%m-%d %H:%M")
        recorded = run("visit", "record", "--case", "by-hand", "--store", shop["licence_number"], "--tester", "T-07",
                       "--at", at, "--no-input", "--attempt", attempt,
                       *(["--observer", "Observer Olsen"] if attempt == "completed" else []),
                       *[x for k, v in answers.items() for x in ("-a", f"{k}={v}")])
        assert recorded.exit_code == 0, recorded.output

    def judged(source, slug):
        visits = workspace.db.query(
            "select v.*, s.licence_number from visits v join stores s on s.id = v.store_id "
            "join cases c on c.id = v.case_id where v.source = ? and c.slug = ? order by s.licence_number",
            [source, slug])
        return [(v["licence_number"], v["outcome"], json.loads(v["answers"]), v["protocol_version"], v["protocol_hash"],
                 sorted(r["code"] for r in workspace.db.query("select code from findings where visit_id = ?", [v["id"]])))
                for v in visits]

    from_form, by_hand = judged("kobo", "tobacco-nk"), judged("manual", "by-hand")
    assert from_form == by_hand
    assert [row[1] for row in from_form] == ["violation", "compliant", "violation", "not_completed"]
    # each visit keeps the form version it was made with: the protocol's version and hash
    assert {f"{row[3]}-{row[4][:12]}" for row in from_form} == {version}
    photos = workspace.db.execute("select count(*) from evidence e join visits v on v.id = e.visit_id "
                                  "where v.source = 'kobo'").fetchone()[0]
    assert photos == 4


def test_submissions_from_another_form_version_are_refused_naming_both_and_nothing_is_written(
        workspace, tobacco_case, run):
    before = snapshot(workspace)
    result = run("import", "kobo", OLD_VERSION, "--case", "tobacco-nk")
    assert result.exit_code != 0
    current = form_version(get_protocol("tobacco-minors"))
    assert len(result.stderr.strip().splitlines()) == 1
    assert "form version 1-5d0c2b7e9a41" in result.stderr and f"form version {current}" in result.stderr
    assert "odk-central-xlsform-old-version.csv:2" in result.stderr
    assert snapshot(workspace) == before


def test_a_missing_photo_in_the_media_folder_is_named_and_nothing_is_written(workspace, tobacco_case, run, tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(OLD_VERSION.read_text(encoding="utf-8").replace(
        "1-5d0c2b7e9a41", form_version(get_protocol("tobacco-minors"))), encoding="utf-8")
    (tmp_path / "media").mkdir()
    before = snapshot(workspace)
    result = run("import", "kobo", export, "--case", "tobacco-nk", "--media", tmp_path / "media")
    assert result.exit_code != 0
    assert "photo '1760000531402.jpg' is not in the media folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def queue_protocol(workspace, questions: str) -> None:
    """A workspace protocol 'queue' with these [[questions]] (English only)."""
    (workspace.root / "protocols").mkdir(exist_ok=True)
    (workspace.root / "protocols" / "queue.toml").write_text(
        'key = "queue"\ntitle = "Queue"\nversion = 1\nchannel = "in_person"\ndescription = "At the counter."\n'
        + questions, encoding="utf-8")


def test_a_protocol_question_without_an_xlsform_equivalent_is_named_in_one_line(workspace, run, tmp_path):
    queue_protocol(workspace, '''
[[questions]]
key = "people_waiting"
type = "int"
prompt = "How many people were waiting?"
na = true

[[questions]]
key = "served"
type = "bool"
prompt = "Served?"
na = true
''')
    out = tmp_path / "queue.xlsx"
    result = run("protocol", "xlsform", "queue", "--out", out)
    assert result.exit_code != 0
    assert result.stderr.strip() == ("Error: protocol queue: no XLSForm equivalent for people_waiting (int with n/a)")
    assert not out.exists() and not list(tmp_path.glob(".incoming-*"))


def test_a_language_the_form_cannot_have_or_the_protocol_lacks_is_one_line_and_nothing_written(
        workspace, run, tmp_path):
    out = tmp_path / "form.xlsx"
    result = run("protocol", "xlsform", "tobacco-minors", "--lang", "de,fr", "--out", out)
    assert result.exit_code != 0 and result.stderr.strip() == "Error: --lang fr: a form is written in en, de, da"
    queue_protocol(workspace, '[[questions]]\nkey = "served"\ntype = "bool"\nprompt = "Served?"\n')
    result = run("protocol", "xlsform", "queue", "--lang", "en,da", "--out", out)
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "protocol queue has no Danish (da) text for title" in result.stderr
    assert not out.exists()


def test_a_large_frame_goes_to_a_stores_file_beside_the_form(workspace, tobacco_case, run, tmp_path):
    out = tmp_path / "form.xlsx"
    result = run("protocol", "xlsform", "tobacco-minors", "--case", "tobacco-nk", "--stores-file", "--out", out,
                 "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stores_file"] == str(tmp_path / "stores.csv")
    survey = {r["name"]: r for r in read_workbook(out)["survey"]}
    assert survey["store"]["type"] == "select_one_from_file stores.csv"
    assert not [r for r in read_workbook(out)["choices"] if r["list_name"] == "stores"]
    warnings: list[str] = []
    convert(xlsform=str(out), warnings=warnings)
    listed = list(csv.DictReader((tmp_path / "stores.csv").open(encoding="utf-8")))
    assert {r["name"] for r in listed} == {s["id"] for s in tobacco_case["stores"]}
    assert "Kiosk am Park, Hermannstr. 3, Berlin" in {r["label"] for r in listed}
