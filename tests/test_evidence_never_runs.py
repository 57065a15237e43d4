"""Issue 31 (3): evidence never runs in the editors' pages, the editors' Datasette answers only
to its own address, refuses a malformed password hash, and shows no workspace path."""

from __future__ import annotations

import asyncio
import time
import zlib

import httpx
import pytest

from investigate.cases import evidence
from investigate.publish.guard import allowed_hosts, guard
from investigate.publish.public import build_public
from investigate.publish.server import PASSWORD_ENV, editors_datasette, public_datasette

from conftest import snapshot
from test_datasette import get
from test_hostile_files import within_budget

SCRIPTED = {
    "note.html": b"<html><body><script>fetch('/investigate/testers.json')</script>hello</body></html>",
    "chart.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/investigate/testers.json")</script></svg>',
}


@pytest.fixture
def scripted(workspace, tobacco_case, tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    items = {}
    for name, data in SCRIPTED.items():
        (tmp_path / name).write_bytes(data)
        items[name] = evidence.add_evidence(workspace, tobacco_case["visits"][0], [tmp_path / name])[0]
    return {"ds": editors_datasette(workspace), "items": items}


@pytest.mark.parametrize("name", sorted(SCRIPTED))
def test_html_and_svg_evidence_is_served_as_a_download_that_cannot_run(scripted, name):
    item = scripted["items"][name]
    response = get(scripted["ds"], f"/-/evidence/{item['sha256']}")
    assert response.status_code == 200 and response.content == SCRIPTED[name]
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # No preview is made of it: a thumbnail is re-encoded from raster images only.
    assert get(scripted["ds"], f"/-/evidence/{item['sha256']}?thumb=1").status_code == 404


def test_the_visit_page_shows_no_inline_preview_of_an_svg(scripted, tobacco_case):
    page = get(scripted["ds"], f"/investigate/visits/{tobacco_case['visits'][0]['id']}").text
    sha = scripted["items"]["chart.svg"]["sha256"]
    assert f"/-/evidence/{sha}?thumb=1" not in page and f"/-/evidence/{sha}" in page


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` × ``height`` pixels: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    rows = zlib.compress(b"\x00" * (1 << 20))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_thumbnail_of_a_decompression_bomb_is_refused_in_under_a_second(workspace, tobacco_case, tmp_path,
                                                                          monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_declaring(100_000, 100_000))
    item = evidence.add_evidence(workspace, tobacco_case["visits"][0], [bomb])[0]
    ds = editors_datasette(workspace)
    with within_budget():
        assert get(ds, f"/-/evidence/{item['sha256']}?thumb=1").status_code == 404


def test_the_editors_instance_answers_only_to_its_own_address(workspace, tobacco_case, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    ds = editors_datasette(workspace)
    assert get(ds, "/investigate/cases.json").status_code == 200  # the client's Host is localhost
    for host in ("attacker.example", "attacker.example:8001", "127.0.0.1.attacker.example"):
        response = get(ds, "/investigate/testers.json", headers={"host": host})
        assert response.status_code == 421 and "T-07" not in response.text, host
    assert get(ds, "/investigate/cases.json", headers={"host": "127.0.0.1:8001"}).status_code == 200
    assert get(ds, "/investigate/cases.json", headers={"host": "[::1]:8001"}).status_code == 200


@pytest.mark.parametrize("value", ["secret", "pbkdf2_sha256$480000$salt", "$$$", "pbkdf2_sha256$1$a$b"])
def test_a_malformed_password_hash_is_refused_in_one_line(workspace, run, monkeypatch, value):
    monkeypatch.setenv(PASSWORD_ENV, value)
    result = run("serve", "--check")
    assert result.exit_code != 0 and "not one `datasette hash-password` makes" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_no_page_of_the_editors_instance_shows_the_workspace_path(workspace, tobacco_case, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    ds = editors_datasette(workspace)
    for page in ("/-/databases.json", "/-/metadata.json", "/-/plugins.json", "/-/settings.json", "/-/versions.json",
                 "/", "/investigate", "/investigate.json", "/-/databases", "/-/metadata"):
        response = get(ds, page)
        assert str(workspace.root) not in response.text, page


def test_the_served_public_copy_shows_no_path_and_answers_only_to_its_address(workspace, tobacco_case, tmp_path):
    from investigate.cases.review import review_visit

    for v in tobacco_case["visits"]:
        review_visit(workspace, v, "approve")
    out = tmp_path / "public"
    build_public(workspace, out, override="test", slugs=["tobacco-nk"])
    before = snapshot(workspace)
    # What `publish --serve` runs: the public Datasette behind the guard (publish.server.run).
    app = guard(public_datasette(out).app(), allowed_hosts("127.0.0.1"))

    async def fetch(path, host="127.0.0.1:8002"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as client:
            return await client.get(path)

    listing = asyncio.run(fetch("/-/databases.json"))
    assert listing.status_code == 404 and str(tmp_path) not in listing.text
    assert asyncio.run(fetch("/public.json")).status_code == 200
    assert asyncio.run(fetch("/public.json", host="rebound.example:8002")).status_code == 421
    assert snapshot(workspace) == before
