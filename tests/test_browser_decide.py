"""Issue 27 in a real browser: editors log in to `investigate serve` under their own names in
headless Chromium, approve two visits from the queue, and legal counsel signs the case off; the
audit log names each person. The visit page with its evidence and the review queue are saved as
screenshots (INVESTIGATE_SCREENSHOTS=DIR keeps them)."""

from __future__ import annotations

import json
import os
import shutil
import wave
from datetime import timedelta

import pytest

from investigate.cases import evidence
from investigate.demo.build import receipt_photo
from investigate.store.accounts import add_account

from cdp import Browser
from conftest import need_tool
from test_datasette import serving

PASSWORDS = {"anna": "anna-password-1", "lena": "lena-password-1"}


@pytest.fixture
def chromium():
    return need_tool("chromium", "chromium-browser", "google-chrome", package="chromium")


def till_recording(path, seconds: float = 1.0):
    """A short mono WAV, as a phone's recorder saves the audio of a test at the till (silence)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))
    return path


@pytest.fixture
def server(workspace, tobacco_case, tmp_path):
    for name, role in (("anna", "editor"), ("lena", "legal")):
        add_account(workspace, name, role=role, password=PASSWORDS[name])
    shop, visit = tobacco_case["stores"][0], tobacco_case["visits"][0]
    photo = receipt_photo(tmp_path / "IMG_0412.jpg", when=workspace.now() - timedelta(days=10), lat=shop["lat"],
                          lon=shop["lon"], text=shop["name"])
    evidence.add_evidence(workspace, visit, [photo, till_recording(tmp_path / "till.wav")])
    with serving(workspace, "/-/login") as url:
        yield url


def log_in(browser: Browser, server: str, name: str) -> None:
    browser.open(f"{server}/-/login")
    browser.submit(f"""document.querySelector('input[name=username]').value = {json.dumps(name)};
        document.querySelector('input[name=password]').value = {json.dumps(PASSWORDS[name])};
        document.querySelector('form[action="/-/login"], form').submit();""",
                   then=f"location.href === {json.dumps(server + '/')}")


def keep(shot):
    folder = os.environ.get("INVESTIGATE_SCREENSHOTS")
    if folder:
        shutil.copy(shot, os.path.join(folder, shot.name))


def review_actors(ws, visit_id):
    return [r[0] for r in ws.db.execute("select actor from audit_log where table_name = 'visits' and row_id = ? "
                                        "and action = 'review'", [visit_id])]


def test_editors_decide_in_chromium_each_under_their_own_name(server, chromium, workspace, tobacco_case, tmp_path):
    visits = tobacco_case["visits"]
    anna = Browser(chromium, tmp_path / "anna-profile")
    try:
        log_in(anna, server, "anna")
        assert "Visits waiting for review (4)" in anna.text()
        # The visit page: the receipt's thumbnail, the recording playable, each with its hash.
        anna.open(f"{server}/investigate/visits/{visits[0]['id']}")
        anna.wait_for("[...document.images].some(i => i.src.includes('thumb=1') && i.complete && i.naturalWidth > 0)")
        assert anna.evaluate("document.querySelectorAll('audio[controls]').length") == 1
        assert "Decide as anna" in anna.text()
        keep(anna.screenshot(tmp_path / "i27-visit-page.png"))
        # The queue: two visits checked, approved at once.
        anna.open(f"{server}/-/investigate/todo/review")
        ticks = json.dumps([v["id"] for v in visits[:2]])
        anna.evaluate(f"""{ticks}.forEach(id => document.querySelector(`input[name=visit][value="${{id}}"]`).checked = true)""")
        keep(anna.screenshot(tmp_path / "i27-review-queue.png"))
        anna.submit("document.querySelector('form.investigate-queue button[type=submit]').click()",
                     then="document.body.innerText.includes('2 visit(s) now approved (by anna)')")
        assert "Visits waiting for review (2)" in anna.text()
    finally:
        anna.close()
    assert [workspace.get("visits", v["id"])["review_state"] for v in visits[:2]] == ["approved", "approved"]
    assert all(review_actors(workspace, v["id"]) == ["anna"] for v in visits[:2])

    lena = Browser(chromium, tmp_path / "lena-profile")
    try:
        log_in(lena, server, "lena")
        lena.open(f"{server}/investigate/cases/{tobacco_case['case']['id']}")
        keep(lena.screenshot(tmp_path / "i27-case-page.png"))
        lena.submit("document.querySelector('form.investigate-signoff input[name=note]').value = 'read in full';"
                    "document.querySelector('form.investigate-signoff button[type=submit]').click()",
                    then="document.body.innerText.includes('signed off as legal counsel by lena')")
    finally:
        lena.close()
    signed = workspace.db.execute("select role, signed_by, note from signoffs").fetchall()
    assert signed == [("legal counsel", "lena", "read in full")]
    assert [r[0] for r in workspace.db.execute("select actor from audit_log where table_name = 'signoffs'")] == ["lena"]
