"""Issue 17: evidence checked against the visit it is attached to."""

import json
from datetime import datetime, timedelta

from investigate.ids import short
from investigate.cases import evidence, review
from investigate.demo.build import receipt_photo


def test_a_photo_from_another_day_and_place_is_flagged(workspace, tobacco_case, tmp_path, run):
    visit = tobacco_case["visits"][0]  # Späti Eins, Sonnenallee 1 (52.4801, 13.4301)
    visited = datetime.fromisoformat(visit["visited_at"])
    near = receipt_photo(tmp_path / "IMG_1.jpg", when=visited + timedelta(minutes=5),
                         lat=52.48012, lon=13.43015, text="Späti")
    assert evidence.add_evidence(workspace, visit, [near])[0]["warnings"] == []
    # Taken a day later at Alexanderplatz, about 6 km away.
    far = receipt_photo(tmp_path / "IMG_2.jpg", when=visited + timedelta(days=1),
                        lat=52.5219, lon=13.4132, text="Alex")
    result = run("evidence", "add", short(visit["id"]), far)
    assert result.exit_code == 0
    assert "photo taken 24.0 h after the visit (limit 2 h)" in result.stderr
    assert "photo taken 4791 m from the store (limit 500 m)" in result.stderr
    queue = {r["id"]: r for r in review.review_queue(workspace)}
    flags = queue[visit["id"]]["flags"]
    assert len(flags) == 2 and all(f.startswith("IMG_2.jpg: photo taken") for f in flags)
    assert "IMG_2.jpg" in run("review", "queue").stdout


def test_a_file_attached_to_another_visit_warns(workspace, tobacco_case, tmp_path, run):
    first, other = tobacco_case["visits"][0], tobacco_case["visits"][1]
    photo = receipt_photo(tmp_path / "IMG_3.jpg", when=datetime.fromisoformat(first["visited_at"]).replace(tzinfo=None),
                          lat=52.48012, lon=13.43015, text="Späti")
    evidence.add_evidence(workspace, first, [photo])
    result = json.loads(run("evidence", "add", short(other["id"]), photo, "--json").stdout)
    assert any(f"attached to visit {short(first['id'])}" in w for w in result[0]["warnings"])


def test_the_limits_are_configurable(workspace, tobacco_case, tmp_path):
    visit = tobacco_case["visits"][0]
    photo = receipt_photo(tmp_path / "IMG_4.jpg",
                          when=datetime.fromisoformat(visit["visited_at"]).replace(tzinfo=None) + timedelta(hours=3),
                          lat=52.48012, lon=13.43015, text="Späti")
    assert evidence.add_evidence(workspace, visit, [photo])[0]["warnings"]
    workspace.config.setdefault("evidence", {})["max_hours"] = 4
    item = workspace.db.execute("select * from evidence").fetchone()
    assert evidence.visit_evidence_flags(workspace, visit) == [] and item


def test_the_editors_visit_page_shows_the_evidence_flags(workspace, tobacco_case, tmp_path, monkeypatch):
    import asyncio

    from investigate.publish.server import PASSWORD_ENV, editors_datasette

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    visit = tobacco_case["visits"][0]
    far = receipt_photo(tmp_path / "IMG_5.jpg", when=datetime.fromisoformat(visit["visited_at"]) + timedelta(hours=5),
                        lat=52.5219, lon=13.4132, text="Alex")
    evidence.add_evidence(workspace, visit, [far])
    ds = editors_datasette(workspace)

    async def go():
        await ds.invoke_startup()
        return await ds.client.get(f"/investigate/visits/{visit['id']}")

    html = asyncio.run(go()).text
    assert "Check:</strong> IMG_5.jpg: photo taken 5.0 h after the visit (limit 2 h)" in html


def test_a_photo_says_what_it_cannot_show_no_capture_time_and_no_location(workspace, tobacco_case, tmp_path, run):
    from PIL import Image

    visit = tobacco_case["visits"][0]
    # Imitates a phone photo forwarded through a messenger, which strips every EXIF tag.
    bare = tmp_path / "IMG_6.jpg"
    Image.new("RGB", (64, 48), (240, 240, 240)).save(bare, "JPEG")
    result = run("evidence", "add", short(visit["id"]), bare)
    assert result.exit_code == 0
    assert "no capture time" in result.stderr and "no location" in result.stderr
    assert evidence.visit_evidence_flags(workspace, visit) == ["IMG_6.jpg: no capture time", "IMG_6.jpg: no location"]


def test_a_location_removed_by_the_phone_is_said_so_not_measured_from_the_gulf_of_guinea(workspace, tobacco_case,
                                                                                        tmp_path):
    visit = tobacco_case["visits"][0]
    # GPS 0/0: what a phone writes when its user removes the location before sharing.
    redacted = receipt_photo(tmp_path / "IMG_7.jpg", when=datetime.fromisoformat(visit["visited_at"]),
                             lat=0.0, lon=0.0, text="Späti")
    assert evidence.add_evidence(workspace, visit, [redacted])[0]["warnings"] == ["location removed (0/0)"]


def test_the_letter_and_the_custodian_statement_carry_each_files_flags(workspace, tobacco_case, tmp_path):
    import subprocess

    from PIL import Image

    from conftest import need_tool
    from investigate.cases import replies
    from investigate.reports.build import build_letter
    from investigate.reports.certify import build_certificate

    pdftotext = need_tool("pdftotext", package="poppler-utils")
    visit, shop = tobacco_case["visits"][0], tobacco_case["stores"][0]
    bare = tmp_path / "IMG_8.jpg"  # imitates a messenger-forwarded photo: no EXIF at all
    Image.new("RGB", (64, 48), (240, 240, 240)).save(bare, "JPEG")
    redacted = receipt_photo(tmp_path / "IMG_9.jpg", when=datetime.fromisoformat(visit["visited_at"]),
                             lat=0.0, lon=0.0, text="Späti")
    evidence.add_evidence(workspace, visit, [bare, redacted])
    replies.request_reply(workspace, tobacco_case["case"], shop)

    def words(path) -> str:
        out = subprocess.run([pdftotext, "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
        return " ".join(out.stdout.decode().split())

    letter = words(build_letter(workspace, tobacco_case["case"], shop, lang="en", out=tmp_path / "l.pdf")["pdf"])
    assert "no capture time; no location" in letter and "location removed (0/0)" in letter
    from investigate.cases import cases

    case = cases.translate_case(workspace, tobacco_case["case"], "de", title="Tabakverkauf an Minderjährige, Neukölln")
    statement = words(build_certificate(workspace, case, lang="de", out=tmp_path / "c.pdf")["pdf"])
    assert "keine Aufnahmezeit; kein Standort" in statement and "Standort entfernt (0/0)" in statement
