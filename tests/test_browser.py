"""A real browser on the editors' Datasette: the case table, a facet, a visit page, a screenshot.

Headless Chromium (Debian's chromium package; .ci/run installs it) loads each page over real
HTTP from `investigate serve` and hands back the DOM after scripts ran; the visit page is also
saved as a screenshot. Skipped, with the reason, only when no Chromium can be found.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta

import pytest

from investigate.cases import evidence
from investigate.demo.build import receipt_photo

from conftest import need_tool
from test_datasette import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(autouse=True)
def _chromium():
    need_tool("chromium", "chromium-browser", "google-chrome", package="chromium")


def chromium(tmp_path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-quic", f"--user-data-dir={profile}", "--window-size=1280,1600", *args],
        capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def server(workspace, tobacco_case, tmp_path):
    shop = tobacco_case["stores"][0]
    photo = receipt_photo(tmp_path / "IMG.jpg", when=workspace.now() - timedelta(days=10), lat=shop["lat"],
                          lon=shop["lon"], text=shop["name"])
    evidence.add_evidence(workspace, tobacco_case["visits"][0], [photo])
    with serving(workspace) as url:
        yield url


def test_chromium_walks_cases_a_facet_and_a_visit_page(server, tobacco_case, tmp_path):
    cases_dom = chromium(tmp_path, "--dump-dom", f"{server}/investigate/cases").stdout
    assert "tobacco-nk" in cases_dom and "One investigation each" in cases_dom
    facet_dom = chromium(tmp_path, "--dump-dom", f"{server}/investigate/visits?outcome=violation").stdout
    assert "2 rows where outcome = \"violation\"" in facet_dom or "2 rows where outcome = &quot;violation&quot;" in facet_dom
    visit = tobacco_case["visits"][0]
    visit_url = f"{server}/investigate/visits/{visit['id']}"
    visit_dom = chromium(tmp_path, "--dump-dom", visit_url).stdout
    assert "Tobacco product sold to a minor" in visit_dom and "/-/evidence/" in visit_dom
    shot = tmp_path / "visit.png"
    result = chromium(tmp_path, f"--screenshot={shot}", visit_url)
    assert shot.exists() and shot.stat().st_size > 10_000, result.stderr[-2000:]
    keep = os.environ.get("INVESTIGATE_SCREENSHOTS")
    if keep:
        shutil.copy(shot, keep)


def test_a_canned_query_offers_the_cases_to_choose_from(server, tmp_path):
    dom = chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", f"{server}/investigate/rate_by_chain").stdout
    assert '<datalist id="investigate-cases"><option value="tobacco-nk" label="Tobacco sales to minors, Neukölln">' in dom
    assert re.search(r'<input[^>]*name="case"[^>]*list="investigate-cases"', dom)


def test_the_editors_map_colours_pins_by_outcome_with_a_legend(server, tmp_path):
    """datasette-cluster-map draws plain pins; our script (served by the editors' instance, no CDN)
    gives each pin and cluster its outcome's colour and mark and adds a legend, once the map's
    scripts have run in a real browser."""
    url = f"{server}/investigate/store_map?case=tobacco-nk&_size=max"
    dom = chromium(tmp_path, "--virtual-time-budget=8000", "--dump-dom", url).stdout
    assert "investigate-legend" in dom
    drawn = set(re.findall(r'class="investigate-(?:pin|cluster) (violation|compliant|inconclusive|not_completed)', dom))
    assert "violation" in drawn, dom[-3000:]
    shot = tmp_path / "map.png"
    chromium(tmp_path, "--virtual-time-budget=8000", f"--screenshot={shot}", url)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_html_and_svg_evidence_with_a_script_does_nothing_when_opened_from_the_visit_page(
        server, workspace, tobacco_case, tmp_path):
    """Issue 31: evidence saved as .html or .svg carries a script that would call a marker
    server. Opened as a file, it does (the marker proves the script works); opened from the
    editors' visit page — the page itself and each evidence link — it never runs."""
    from local_server import LocalServer

    class Marker(LocalServer):
        def answer(self, method, path, body):
            return 200, "text/plain", b"ran"

    with Marker() as marker:
        beacon = f"http://127.0.0.1:{marker.port}/ran"
        files = {"note.html": f"<html><body><script>fetch('{beacon}')</script>note</body></html>",
                 "chart.svg": f'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("{beacon}")</script></svg>'}
        shas = []
        for name, text in files.items():
            path = tmp_path / name
            path.write_text(text)
            shas.append(evidence.add_evidence(workspace, tobacco_case["visits"][0], [path])[0]["sha256"])
        def opener(name: str, urls: list[str]) -> str:
            """A page that opens each URL the ways a page can: frame, object, embed."""
            page = tmp_path / name
            page.write_text("".join(f'<iframe src="{u}"></iframe><object data="{u}"></object><embed src="{u}">'
                                    for u in urls))
            return page.as_uri()

        # The marker works: the same files, framed from disk, run their scripts.
        chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom",
                 opener("local.html", [(tmp_path / name).as_uri() for name in files]))
        assert marker.hits >= 1
        marker.hits = 0
        visit_url = f"{server}/investigate/visits/{tobacco_case['visits'][0]['id']}"
        dom = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", visit_url).stdout
        assert all(f"/-/evidence/{sha}" in dom for sha in shas)  # linked, for download
        try:
            chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom",
                     opener("served.html", [f"{server}/-/evidence/{sha}" for sha in shas]), timeout=30)
        except subprocess.TimeoutExpired:
            # Headless Chromium may wait for ever on a download it was handed (the files are
            # served as attachments); a browser stopped there ran nothing either.
            pass
        assert marker.hits == 0
