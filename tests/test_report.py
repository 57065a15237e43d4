"""PDF reports and letters, read back: figures, privacy, language, safety, pictures."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from datetime import timedelta

import pytest
from hypothesis import given, settings, strategies as st
from pypdf import PdfReader

from investigate.ids import short
from investigate.numbers import stats
from investigate.cases import cases, editorial, replies, stores, visits
from investigate.cases.review import review_visit
from investigate.reports.build import build_letter, build_report
from investigate.views.i18n import Formatter
from investigate.reports.render import SafeFetcher, templates_root

from conftest import need_tool, snapshot, with_setting
from local_server import LocalServer
from test_leak import PRIVATE, planted_workspace


def text_of(path) -> str:
    # Babel puts a no-break space before "%" in German and Danish ("12,5\xa0%"): compare as spaces.
    return "\n".join(page.extract_text() for page in PdfReader(path).pages).replace("\xa0", " ")


@pytest.fixture
def ready(workspace, tobacco_case):
    """The fixture case with every visit approved and every store asked long ago."""
    ws, case = workspace, tobacco_case["case"]
    for v in tobacco_case["visits"]:
        review_visit(ws, v, "approve")
    # Visits were ten days ago; asked the day after, with a three-day window long closed.
    case = cases.edit_case(ws, case, reply_days=3)
    for shop in tobacco_case["stores"]:
        replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=9)).isoformat())
    case = ws.update("cases", case["id"], {"description": "Four shops, one tester."})
    cases.translate_case(ws, case, "de", title="Tabakverkauf an Minderjährige, Neukölln",
                         description="Vier Geschäfte, eine Testperson.")
    case = cases.translate_case(ws, cases.get_case(ws, case["id"]), "da", title="Tobakssalg til mindreårige, Neukölln",
                                description="Fire butikker, én testperson.")
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Counsel")
    return {**tobacco_case, "case": case}


def test_the_figures_in_the_pdf_are_those_of_the_stats_module(workspace, ready, tmp_path):
    out = tmp_path / "r.pdf"
    result = build_report(workspace, ready["case"], lang="en", out=out)
    text = text_of(out)
    rate = stats.case_rates(workspace, ready["case"], approved_only=True)[0]
    fmt = Formatter("en")
    # Four tests: whole percent, since a decimal would claim a precision four tests do not have.
    assert fmt.pct(rate["rate"], rate["eligible"]) == "50%" and "50%" in text and "50.0%" not in text
    assert fmt.interval(rate["ci_low"], rate["ci_high"], rate["eligible"]) in text
    assert f"{rate['violations']} / {rate['eligible']}" in text
    for row in stats.case_rates(workspace, ready["case"], by="chain", approved_only=True):
        if row["visits"] >= 5:
            assert fmt.pct(row["rate"], row["eligible"]) in text
    assert result["version"] == 1 and editorial.verify_publication(workspace, ready["case"], out)["version"] == 1


def test_pdf_metadata_page_count_and_embedded_fonts(workspace, ready, tmp_path):
    out = tmp_path / "r.pdf"
    build_report(workspace, ready["case"], lang="en", out=out)
    reader = PdfReader(out)
    meta = reader.metadata
    assert meta.title == ready["case"]["title"] and meta.author == "Test Newsroom"
    assert "Tobacco sales to minors" in meta.subject and "tobacco-nk" in reader.metadata.get("/Keywords")
    assert 4 <= len(reader.pages) <= 12
    assert f"1 / {len(reader.pages)}" in reader.pages[1].extract_text() or \
        f"2 / {len(reader.pages)}" in reader.pages[1].extract_text()
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources") or {}).get("/Font", {}).values():
            descendant = font.get_object().get("/DescendantFonts")
            if descendant:
                fd = descendant[0].get_object().get("/FontDescriptor").get_object()
                fonts.add(("/FontFile2" in fd) or ("/FontFile" in fd) or ("/FontFile3" in fd))
    assert fonts == {True}, "every font must be embedded"


def test_the_public_edition_holds_no_private_string(workspace, tmp_path):
    planted_workspace(workspace, tmp_path)
    out = tmp_path / "public.pdf"
    build_report(workspace, cases.get_case(workspace, "leak"), lang="en", out=out, override="LEAK-OVERRIDE-REASON")
    text, raw = text_of(out), out.read_bytes()
    for field, secret in PRIVATE.items():
        assert secret not in text, f"{field} is in the public PDF's text"
        assert secret.encode() not in raw, f"{field} is in the public PDF's bytes"
    assert "Named Shop" in text


def test_a_store_inside_its_reply_window_is_named_only_internally(workspace, ready, tmp_path):
    ws = workspace
    late = stores.add_store(ws, name="Brand New Kiosk", district="Mitte", lat=52.49, lon=13.42)
    v = visits.record_visit(ws, case=ready["case"], store=late, tester=ready["tester"],
                            answers={"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True},
                            visited_at=ws.now() - timedelta(days=2))["visit"]
    review_visit(ws, v, "approve")
    replies.request_reply(ws, ready["case"], late, requested_at=(ws.now() - timedelta(days=1)).isoformat())
    public, internal = tmp_path / "p.pdf", tmp_path / "i.pdf"
    build_report(ws, ready["case"], lang="en", out=public, override="reply window open on purpose")
    build_report(ws, ready["case"], lang="en", edition="internal", out=internal)
    assert "Brand New Kiosk" not in text_of(public) and "Store A" in text_of(public)
    assert "Brand New Kiosk" in text_of(internal) and "T-07" in text_of(internal)


def test_the_german_edition_is_german_with_german_numbers(workspace, ready, tmp_path):
    out = tmp_path / "de.pdf"
    build_report(workspace, ready["case"], lang="de", out=out)
    text = text_of(out)
    assert "Verstoßquote" in text and "Was die Unternehmen sagen" in text and "Seite" not in text
    assert "50 %" in text and "Violation rate" not in text
    da = tmp_path / "da.pdf"
    build_report(workspace, ready["case"], lang="da", out=da)
    assert "Overtrædelsesandel" in text_of(da)


def test_a_public_report_with_an_open_checklist_is_refused_unless_overridden(workspace, tobacco_case, run, tmp_path):
    before = snapshot(workspace)
    result = run("report", "tobacco-nk", "--out", tmp_path / "x.pdf")
    assert result.exit_code != 0 and "not ready to publish" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists() and snapshot(workspace) == before
    ok = run("report", "tobacco-nk", "--out", tmp_path / "x.pdf", "--override", "editor-in-chief decided", "--json")
    assert ok.exit_code == 0, ok.output
    pub = editorial.publications(workspace, tobacco_case["case"])[0]
    assert pub["override_reason"] == "editor-in-chief decided" and pub["kind"] == "pdf"
    assert run("report", "tobacco-nk", "--edition", "internal", "--out", tmp_path / "i.pdf").exit_code == 0


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_hostile_store_names_render_as_text_and_nothing_is_fetched(workspace, ready, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x.png"
        shop = ready["stores"][0]
        workspace.update("stores", shop["id"], {"name": '<img src="file:///etc/passwd">'}, reason="test")
        workspace.update("stores", ready["stores"][1]["id"], {"name": f'<img src="{url}"> Kiosk'}, reason="test")
        out = tmp_path / "h.pdf"
        result = build_report(workspace, ready["case"], lang="en", edition="internal", out=out)
        text = text_of(out)
        assert '<img src="file:///etc/passwd">' in text
        assert "root:x:0" not in text
        assert Recorder.hits == [] and result["refused_urls"] == []
    finally:
        server.shutdown()


def test_the_fetcher_refuses_the_network_and_the_rest_of_the_disk(workspace):
    fetcher = SafeFetcher([templates_root(), workspace.root])
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", f"file://{workspace.root}/../outside.txt"):
        with pytest.raises(Exception):
            fetcher.fetch(url)
    assert fetcher.fetch((templates_root() / "report" / "report.css").as_uri())


def test_first_pages_render_to_pictures_that_are_not_blank(workspace, ready, tmp_path):
    need_tool("pdftoppm", package="poppler-utils")
    from PIL import Image, ImageStat

    out = tmp_path / "r.pdf"
    build_report(workspace, ready["case"], lang="en", out=out)
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "3", str(out), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3
    for page in pages:
        stat = ImageStat.Stat(Image.open(page).convert("L"))
        assert stat.extrema[0][0] < 100 and stat.stddev[0] > 5, f"{page.name} looks blank"


def test_the_reply_letter_says_what_when_what_was_found_and_until_when(workspace, ready, tmp_path, run):
    out = tmp_path / "letter.pdf"
    replies.request_reply(workspace, ready["case"], ready["stores"][0])  # the letter is a new request, in writing
    result = json.loads(run("reply", "letter", "tobacco-nk", "L-1", "--lang", "en", "--out", out, "--json").output)
    text = " ".join(text_of(out).split())
    assert "Späti Eins" in text and "Tobacco product sold to a minor" in text and "JuSchG § 10" in text
    assert "Please answer by" in text and result["findings"] >= 1
    de = build_letter(workspace, ready["case"], ready["stores"][0], lang="de", out=tmp_path / "de.pdf")
    assert "Bitte um Stellungnahme" in text_of(de["pdf"])



def test_editions_of_one_content_in_several_languages_share_one_version(workspace, ready, tmp_path, run):
    ws, case = workspace, ready["case"]
    en, de, da = tmp_path / "en.pdf", tmp_path / "de.pdf", tmp_path / "da.pdf"
    assert build_report(ws, case, lang="en", out=en)["version"] == 1
    assert build_report(ws, case, lang="de", out=de)["version"] == 1
    assert "Version 1" in text_of(de) and "Version 2" not in text_of(de)
    listed = json.loads(run("versions", "tobacco-nk", "--json").output)
    assert [(v["file"], v["version"], v["language"]) for v in listed] == [(str(de), 1, "de"), (str(en), 1, "en")]
    assert {v["sha256"] for v in listed} == {editorial.verify_publication(ws, case, p)["sha256"] for p in (en, de)}
    # A change to what the report says is a new version, in whichever language comes first.
    review_visit(ws, ready["visits"][0], "reject", comment="tester was 18 on the day")
    assert build_report(ws, case, lang="da", out=da, override="rejected visit, not yet signed again")["version"] == 2


def test_the_cover_tells_the_story_and_the_method_says_why_each_business_is_unnamed(workspace, tobacco_case, tmp_path):
    ws, case = workspace, tobacco_case["case"]
    for v in tobacco_case["visits"]:
        review_visit(ws, v, "approve")
    case = cases.edit_case(ws, case, reply_days=3)
    sold_closed, _passed, sold_open, _passed_too = tobacco_case["stores"]
    replies.request_reply(ws, case, sold_closed, requested_at=(ws.now() - timedelta(days=9)).isoformat())
    replies.request_reply(ws, case, sold_open)
    ws.config["newsroom"].update(byline=["Ana Ruiz", "Bo Lind"], url="https://example.org/tests")
    out = tmp_path / "en.pdf"
    build_report(ws, case, lang="en", out=out, override="one window still open")
    pages = PdfReader(out).pages
    cover = " ".join(pages[0].extract_text().split())
    assert "In 2 of 4 test purchases, a shop sold tobacco to a tester aged 16." in cover
    assert "By Ana Ruiz and Bo Lind" in cover and "https://example.org/tests" in cover
    assert cover.count("Version") == 1
    text = " ".join(text_of(out).split())
    assert case["id"] not in text and short(case["id"]) not in text
    assert all("Test Newsroom" in page.extract_text() for page in pages[1:]), "the footer names the newsroom"
    # (The sentence may run across a page break: its running header and footer sit inside.)
    assert "Not named, because they" in text and "passed every test, so there was nothing to put to them: 2." in text
    assert "Not named yet, because their reply window is still open: 1." in text
    findings = text[text.index("Findings"):]
    assert findings.index("Späti Eins") < findings.index("Tobacco product sold to a minor serious")
    assert "No age check observation (no breach of law claimed)" in findings
    de = tmp_path / "de.pdf"
    case = cases.translate_case(ws, case, "de", title="Tabakverkauf an Minderjährige, Neukölln")
    build_report(ws, case, lang="de", out=de, override="one window still open")
    assert "Von Ana Ruiz und Bo Lind" in " ".join(PdfReader(de).pages[0].extract_text().split())


def test_name_compliant_names_the_businesses_that_passed_and_no_other(workspace, tobacco_case, tmp_path):
    ws, case = workspace, tobacco_case["case"]
    for v in tobacco_case["visits"]:
        review_visit(ws, v, "approve")
    replies.request_reply(ws, case, tobacco_case["stores"][0])  # sold; its window is open
    ws.config.setdefault("publish", {})["name_compliant"] = True
    out = tmp_path / "en.pdf"
    build_report(ws, case, lang="en", out=out, override="windows open")
    text = text_of(out)
    assert "Späti Zwei" in text and "Tabak Müller" in text
    assert "Späti Eins" not in text and "Kiosk am Park" not in text


def test_the_pdf_and_the_public_database_give_each_unnamed_store_the_same_pseudonym(workspace, tobacco_case, tmp_path):
    import re
    import sqlite3

    from investigate.publish.public import build_public

    ws, case = workspace, tobacco_case["case"]
    for v in tobacco_case["visits"]:
        review_visit(ws, v, "approve")
    replies.request_reply(ws, case, tobacco_case["stores"][0])  # inside its window: unnamed
    out = tmp_path / "en.pdf"
    build_report(ws, case, lang="en", out=out, override="windows open")
    build_public(ws, tmp_path / "public", slugs=["tobacco-nk"], override="windows open")
    db = sqlite3.connect(tmp_path / "public" / "public.db")
    rows = db.execute("select s.label, v.visit_date from stores s join visits v on v.store_id = s.id "
                      "where s.named = 0 order by v.id").fetchall()
    assert len(rows) == 4 and all(re.fullmatch(r"Store [A-D]", label) for label, _ in rows)
    visits_table = " ".join(text_of(out).split())
    in_pdf = re.findall(r"(Store [A-D]) (?:Neukölln|Kreuzberg)", visits_table)
    assert in_pdf == [label for label, _ in rows], "each visit's store has the same pseudonym in both"
    assert db.execute("select count(*) from stores where label is null or label = 'None'").fetchone() == (0,)


def test_rounds_in_the_pdf_follow_the_public_databases_small_cell_rule(workspace, ready, tmp_path):
    import sqlite3

    from investigate.publish.public import build_public

    ws, case = workspace, ready["case"]
    # A second round of one store: one test, below any threshold for a group of its own.
    again = visits.record_visit(ws, case=case, store=ready["stores"][0], tester=ready["tester"], round=2,
                                answers={"product": "cigarettes", "sale": True, "id_check": "none", "id_carried": True},
                                visited_at=ws.now() - timedelta(days=8))["visit"]
    review_visit(ws, again, "approve")
    out = tmp_path / "en.pdf"
    build_report(ws, case, lang="en", out=out, override="a second round after the sign-off")
    build_public(ws, tmp_path / "public", slugs=["tobacco-nk"], override="a second round after the sign-off")
    db = sqlite3.connect(tmp_path / "public" / "public.db")
    public_rounds = db.execute("select grp, eligible, violations from rates where grouping = 'round'").fetchall()
    assert public_rounds and all(grp not in ("1", "2") for grp, *_ in public_rounds), "the round of one test is merged"
    text = " ".join(text_of(out).split())
    # Public.db folds the two rounds into one row; the PDF then shows no rounds table (it would
    # repeat the overall figure) and says why, rather than printing the round of one test.
    assert len(public_rounds) == 1 and "Rounds Round" not in text
    assert "The rounds are not shown one by one: at least one had fewer than 5 visits." in text
    # With no small-cell rule both show each round, with the same figures.
    ws.config.setdefault("publish", {})["min_cell"] = 1
    build_report(ws, case, lang="en", out=out, override="a second round after the sign-off")
    build_public(ws, tmp_path / "public2", slugs=["tobacco-nk"], override="a second round after the sign-off")
    db = sqlite3.connect(tmp_path / "public2" / "public.db")
    public_rounds = db.execute("select grp, eligible, violations from rates where grouping = 'round' order by grp").fetchall()
    text = " ".join(text_of(out).split())
    assert [r[0] for r in public_rounds] == ["1", "2"]
    for grp, eligible, violations in public_rounds:
        assert f"{grp} {eligible} {violations} " in text[text.index("Rounds Round"):]


def test_groups_are_ranked_by_rate_with_the_overall_rate_below_and_long_names_break(workspace, ready, tmp_path):
    ws, case = workspace, ready["case"]
    long_name = "Kiosk" + "x" * 1200
    shop = stores.add_store(ws, name=long_name, address="Weg 5", city="Berlin", district="Mitte")
    v = visits.record_visit(ws, case=case, store=shop, tester=ready["tester"],
                            answers={"product": "cigarettes", "sale": False, "id_check": "scanned", "id_carried": True},
                            visited_at=ws.now() - timedelta(days=9))["visit"]
    review_visit(ws, v, "approve")
    out = tmp_path / "internal.pdf"
    build_report(ws, case, lang="en", edition="internal", out=out)
    text = " ".join(text_of(out).split())
    table = text[text.index("Chain Completed tests Violations Rate 95% interval"):]
    # KioskCo sold once in one test (100%), Späti24 once in two (50%), independents never (0%).
    assert table.index("KioskCo 1 1 100%") < table.index("Späti24 2 1 50%") < table.index("(independent) 2 0 0%")
    assert table.index("(independent) 2 0 0%") < table.index("all 5 2 40%")
    widths = []
    for page in PdfReader(out).pages:
        right = float(page.mediabox.width)
        page.extract_text(visitor_text=lambda t, cm, tm, font, size: widths.append((tm[4] * cm[0] + cm[4], right)) if t.strip() else None)
    assert widths and all(x < right for x, right in widths), "no text starts beyond the page's right edge"


def test_the_map_numbers_its_markers_draws_violations_last_and_keeps_them_apart():
    import re

    from investigate.views.maps import store_map

    # Three stores on one spot: the violation must stay visible and every number readable.
    points = [{"lat": 52.48, "lon": 13.43, "outcome": o, "number": n}
              for n, o in ((1, "violation"), (2, "compliant"), (3, "compliant"))]
    points.append({"lat": 52.49, "lon": 13.44, "outcome": "inconclusive", "number": 4})
    svg = store_map(points, legend={"violation": "violation"}, scale_label=str)
    markers = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="8" fill="(#\w+)"', svg)
    assert [fill for *_, fill in markers][-1] == "#c0392b", "the violation is drawn last, on top"
    centres = [(float(x), float(y)) for x, y, _ in markers]
    assert all((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 >= 16 ** 2 for i, a in enumerate(centres) for b in centres[i + 1:])
    assert sorted(re.findall(r'font-weight="bold">(\d+)</text>', svg)) == ["1", "2", "3", "4"]
    legend_y = float(re.findall(r'<rect x="0" y="([\d.]+)"', svg)[-1])  # the strip below the data
    assert all(y < legend_y for _, y in centres), "no marker under the legend strip"


def test_the_reports_map_key_lists_each_numbered_store_with_its_outcome(workspace, ready, tmp_path):
    out = tmp_path / "en.pdf"
    build_report(workspace, ready["case"], lang="en", out=out)
    text = " ".join(text_of(out).split())
    key = text[text.index("# Store Address Outcome"):]
    assert "1 Kiosk am Park Hermannstr. 3 violation" in key or "1 Späti Eins Sonnenallee 1 violation" in key
    assert "Tabak Müller Karl-Marx-Str. 9 compliant" in key


class TileServer(LocalServer):
    """A tile server on 127.0.0.1 drawing a generated 256 px PNG for every /z/x/y.png asked."""

    def __init__(self):
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/{{z}}/{{x}}/{{y}}.png"

    def answer(self, method, path, body):
        import io

        from PIL import Image, ImageDraw

        image = Image.new("RGB", (256, 256), (222, 232, 214))
        ImageDraw.Draw(image).line([(0, 128), (256, 128)], fill=(250, 250, 250), width=9)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return 200, "image/png", buffer.getvalue()


def test_the_map_draws_the_newsrooms_tiles_and_renders_offline_from_the_cache(workspace, ready, tmp_path):
    ws = workspace
    config = ws.config_path.read_text()
    with TileServer() as tiles:
        ws.config_path.write_text(config.replace('tile_url = ""', f'tile_url = "{tiles.url}"'))
        ws.config = ws._read_config()
        online = tmp_path / "online.pdf"
        build_report(ws, ready["case"], edition="internal", lang="en", out=online)
        assert tiles.hits > 0
        fetched = tiles.hits
    cached = sorted(p.relative_to(ws.root) for p in (ws.root / "tiles").rglob("*.png"))
    assert len(cached) == fetched
    offline = tmp_path / "offline.pdf"  # the server is gone: the cache alone draws the map
    build_report(ws, ready["case"], edition="internal", lang="en", out=offline)
    images = [img for page in PdfReader(offline).pages for img in page.images]
    assert len(images) >= len(cached)


def test_the_map_draws_the_newsrooms_district_boundaries(workspace, ready, tmp_path, run):
    ws = workspace
    square = [[13.42, 52.47], [13.44, 52.47], [13.44, 52.49], [13.42, 52.49], [13.42, 52.47]]
    (ws.root / "districts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Neukölln"}, "geometry": {"type": "Polygon", "coordinates": [square]}}]}))
    ws.config_path.write_text(ws.config_path.read_text().replace('boundaries = ""', 'boundaries = "districts.geojson"'))
    ws.config = ws._read_config()
    from investigate.views.gather import gather

    svg = gather(ws, ready["case"], edition="internal", lang="en")["map"]
    assert svg.count("<polygon") == 1 and svg.index("<polygon") < svg.index("<circle")  # under the markers
    (ws.root / "districts.geojson").write_text("{ not json")
    result = run("report", "tobacco-nk", "--edition", "internal", "--out", tmp_path / "r.pdf")
    assert result.exit_code != 0 and "districts.geojson: not GeoJSON" in result.output
    assert len(result.output.strip().splitlines()) == 1


ANNEX_WORDS = {"en": ("The 4 visits are listed in the annex", "Annex, part {} of 2 · 1 / 1", "Visits {} to {} of 4"),
               "de": ("Die 4 Besuche stehen im Anhang", "Anhang, Teil {} von 2 · 1 / 1", "Besuche {} bis {} von 4"),
               "da": ("De 4 besøg står i bilaget", "Bilag, del {} af 2 · 1 / 1", "Besøg {} til {} af 4")}


@pytest.mark.parametrize("lang", ["en", "de", "da"])
def test_more_visits_than_a_report_lists_go_to_an_annex_part_by_part(workspace, ready, tmp_path, lang):
    """Issue 30: a report of 10,000 visits laid out as one document took 1.1 GB; its visits are
    listed in an annex whose parts are laid out one at a time. Every visit is listed once, in the
    order and with the words the report itself would print, and every page says where it
    belongs: the report's pages count among themselves, each part's within the part."""
    from investigate.views.gather import gather

    printed = gather(workspace, ready["case"], edition="public", lang=lang)["visits"]
    ws = with_setting(workspace, "[report]\nannex_rows = 3")
    out = tmp_path / "annexed.pdf"
    build_report(ws, ready["case"], lang=lang, out=out)
    pages = [page.extract_text().replace("\xa0", " ") for page in PdfReader(out).pages]
    said, footer, which = ANNEX_WORDS[lang]
    main, parts = pages[:-2], pages[-2:]
    assert said in " ".join(" ".join(main).split())
    assert all(f"{n} / {len(main)}" in page for n, page in enumerate(main, 1))
    assert all(footer.format(n) in page for n, page in enumerate(parts, 1))
    assert which.format(1, 3) in parts[0] and which.format(4, 4) in parts[1]
    # The rows are those the report prints (views.gather): the same words, in the same order.
    rows = [f"{v['store']} {v['address']} {v['date']} {v['outcome_text']}" for v in printed]
    listed = [line for page in parts for line in page.splitlines() if line in rows]
    assert len(rows) == 4 and listed == rows
    assert not any(line in rows for page in main for line in page.splitlines())
    ws.close()


def test_an_annexed_report_carries_its_checkpoint_for_verify(workspace, ready, run, tmp_path):
    """The parts are joined into one PDF with the report's attachments: the log checkpoint
    'verify --against' reads is still inside the file."""
    from investigate.proof.log import CHECKPOINT_ATTACHMENT

    ws = with_setting(workspace, "[report]\nannex_rows = 1")
    out = tmp_path / "annexed.pdf"
    build_report(ws, ready["case"], lang="en", out=out)
    reader = PdfReader(out)
    assert list(reader.attachments) == [CHECKPOINT_ATTACHMENT]
    assert sum("Annex, part" in page.extract_text() for page in reader.pages) == 4
    result = run("verify", "--against", out)
    assert result.exit_code == 0 and "consistency proof verified" in result.output, result.output
    ws.close()


@pytest.mark.parametrize("value", ["0", "-3", "\"many\"", "2.5", "true"])
def test_an_annex_size_that_is_not_a_whole_number_is_one_line_naming_the_setting(workspace, ready, run, tmp_path,
                                                                                  value):
    from test_hostile_files import one_line_error

    with_setting(workspace, f"[report]\nannex_rows = {value}").close()
    one_line_error(run("report", "tobacco-nk", "--out", tmp_path / "r.pdf"), "[report] annex_rows must be a whole")
    assert not (tmp_path / "r.pdf").exists()


def _free_spot_by_every_marker(x, y, placed, width, height, gap=17):
    """The rule as first written: every candidate spot checked against every marker placed."""
    import math

    for ring in range(0, 8):
        steps = 1 if ring == 0 else 8 * ring
        for k in range(steps):
            angle = 2 * math.pi * k / steps - math.pi / 2
            cx, cy = x + ring * gap * math.cos(angle), y + ring * gap * math.sin(angle)
            if 10 <= cx <= width - 10 and 10 <= cy <= height - 10 and \
                    all((cx - px) ** 2 + (cy - py) ** 2 >= gap ** 2 for px, py in placed):
                return cx, cy
    return x, y


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-40, 680), st.floats(-40, 460)), min_size=1, max_size=120),
       st.sampled_from([1, 17, 30]))
def test_markers_are_placed_where_checking_every_marker_placed_puts_them(spots, spread):
    """The map checks a spot against the markers of its own and the neighbouring cells (issue 30):
    every marker lands exactly where checking all the markers placed before it put it. Spots
    crowd together (divided by ``spread``) so that many markers move, and some fall outside."""
    from investigate.views.maps import _free_spot, _place

    grid, every = {}, []
    for x, y in spots:
        x, y = 320 + (x - 320) / spread, 208 + (y - 208) / spread
        spot = _free_spot(x, y, grid, 640, 416)
        assert spot == _free_spot_by_every_marker(x, y, every, 640, 416)
        _place(grid, spot)
        every.append(spot)
