"""Geocoding through geopy against a real local HTTP server, and stores near places."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from investigate.cases import cases, stores
from investigate.cli import cli
from investigate.cases.geo import GeocodingStopped, geocode_stores, near_summary, stores_near
from investigate.proof.verify import verify

from conftest import snapshot
from nominatim_server import FakeNominatim

PLACES = {"Sonnenallee 1": (52.4835, 13.4330, "house"), "Hermannstraße 5": (52.4790, 13.4250, "house")}


@pytest.fixture
def server():
    with FakeNominatim(PLACES) as s:
        yield s


@pytest.fixture
def unplaced(workspace):
    return [stores.add_store(workspace, name="A", address="Sonnenallee 1", city="Berlin"),
            stores.add_store(workspace, name="B", address="Hermannstraße 5", city="Berlin"),
            stores.add_store(workspace, name="C", address="Nowhere Lane 9", city="Berlin")]


def geocode(ws, server, **kw):
    return geocode_stores(ws, provider="nominatim", domain=server.domain, scheme="http",
                          user_agent="investigate-tests (test@example.org)", min_delay=kw.pop("min_delay", 0),
                          timeout=kw.pop("timeout", 5), **kw)


def test_geocoding_places_stores_and_records_source_and_precision(workspace, server, unplaced):
    counts = geocode(workspace, server)
    assert (counts["found"], counts["not_found"], counts["requests"]) == (2, 1, 3)
    a = stores.get_store(workspace, unplaced[0]["id"])
    assert (a["lat"], a["lon"], a["coord_source"]) == (52.4835, 13.433, "geocoded")
    assert a["coord_precision"].startswith("address")
    assert verify(workspace).ok


def test_every_answer_is_cached_so_no_address_is_asked_twice(workspace, server, unplaced):
    geocode(workspace, server)
    asked = len(server.requests)
    again = geocode(workspace, server)  # C is still unplaced: its miss comes from the cache
    assert len(server.requests) == asked and again["from_cache"] == 1 and again["requests"] == 0


def test_requests_are_rate_limited(workspace, server, unplaced):
    geocode(workspace, server, min_delay=0.3)
    times = [t for t, _ in server.requests]
    assert len(times) == 3
    assert all(b - a >= 0.28 for a, b in zip(times, times[1:]))


def test_a_timeout_stops_cleanly_and_keeps_what_was_done(workspace, server, unplaced):
    geocode(workspace, server)  # A and B placed, C cached as not found
    late = stores.add_store(workspace, name="D", address="Sonnenallee 1, Hinterhaus", city="Berlin")
    server.delay = 2.0
    with pytest.raises(GeocodingStopped, match="kept"):
        geocode(workspace, server, timeout=0.5)
    assert stores.get_store(workspace, late["id"])["lat"] is None
    assert stores.get_store(workspace, unplaced[0]["id"])["lat"] == 52.4835


def test_a_server_error_is_one_line_and_nothing_is_lost(workspace, server, unplaced, run):
    server.fail_with = 503
    before = snapshot(workspace)
    result = run("store", "geocode", "--domain", server.domain, "--scheme", "http", "--min-delay", "0",
                 "--user-agent", "investigate-tests")
    assert result.exit_code != 0
    assert "failed on store" in result.output and "done before are kept" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(workspace) == before


def test_typed_coordinates_are_never_overwritten(workspace, server):
    typed = stores.add_store(workspace, name="Typed", address="Sonnenallee 1", city="Berlin", lat=52.1, lon=13.1)
    geocode(workspace, server)
    assert stores.get_store(workspace, typed["id"])["lat"] == 52.1
    assert server.requests == []  # it already had coordinates: not even asked


def test_a_missing_user_agent_is_refused(run, unplaced, server):
    result = run("store", "geocode", "--domain", server.domain, "--scheme", "http")
    assert result.exit_code != 0 and "user agent" in result.output


@pytest.fixture
def placed(workspace):
    case = cases.create_case(workspace, slug="near", title="Near", protocol="tobacco-minors")
    shops = [stores.add_store(workspace, name=n, lat=lat, lon=lon) for n, lat, lon in [
        ("At the school", 52.50000, 13.40000), ("150 m north", 52.50135, 13.40000), ("1 km east", 52.50000, 13.41474)]]
    stores.add_to_frame(workspace, case, shops)
    return case


def write_places(tmp_path, text):
    path = tmp_path / "places.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_near_finds_stores_within_the_radius_with_geodesic_distance(workspace, placed, tmp_path, run):
    places = write_places(tmp_path, "name,kind,lat,lon\nGrundschule,school,52.5,13.4\nSpielplatz,playground,52.6,13.5\n")
    result = json.loads(run("near", places, "--radius", "200m", "--case", "near", "--json").output)
    found = {r["store_id"]: r for r in result["results"]}
    assert len(found) == 2
    distances = sorted(r["distance_m"] for r in found.values())
    assert distances[0] == 0 and distances[1] == pytest.approx(150.3, abs=1)
    assert workspace.db["near_results"].count == 2
    # run again: results for the case are replaced, not added
    run("near", places, "--radius", "2km", "--case", "near")
    assert workspace.db["near_results"].count == 3


@pytest.mark.parametrize("radius", ["-5m", "far", "0"])
def test_a_bad_radius_is_refused(run, placed, tmp_path, radius):
    places = write_places(tmp_path, "name,lat,lon\nA,52.5,13.4\n")
    result = run("near", places, "--radius", radius)
    assert result.exit_code != 0 and "radius" in result.output.lower()


@pytest.mark.parametrize("text,expected", [
    ("name,kind\nA,school\n", "need lat and lon"),
    ("name,lat,lon\nA,,13.4\n", "places.csv:2: column 'lat': missing coordinates"),
    ("name,lat,lon\nA,13.4,200.5\n", "longitude 200.5 is out of range"),
    ("name,lat,lon\nA,152.5,13.4\n", "lat and lon swapped?"),
])
def test_bad_places_files_are_refused_and_nothing_is_written(workspace, run, placed, tmp_path, text, expected):
    before = snapshot(workspace)
    result = run("near", write_places(tmp_path, text), "--radius", "200m")
    assert result.exit_code != 0 and expected in result.output, result.output
    assert snapshot(workspace) == before


def test_near_summary_counts_stores_that_sold_near_a_place(workspace, tobacco_case, tmp_path):
    # Schools at Späti Eins (sold) and at Späti Zwei (did not sell).
    places = write_places(tmp_path, "name,kind,lat,lon\nSchule 1,school,52.4801,13.4301\nSchule 2,school,52.4790,13.4350\n")
    stores_near(workspace, places, radius_m=200, case=tobacco_case["case"])
    summary = near_summary(workspace, tobacco_case["case"])
    assert (summary["sold"], summary["sold_near"], summary["radius_m"]) == (2, 1, 200)


def test_near_reads_a_semicolon_places_file_with_decimal_commas(workspace, placed, run):
    from conftest import DATA

    result = run("near", DATA / "layouts" / "places-semicolon.csv", "--radius", "200m", "--case", "near", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["results"]) == 2 and "Grundschule am Park" in result.output


def test_an_offline_geocoder_is_one_line_never_a_traceback(workspace, unplaced, run):
    import socket

    with socket.socket() as s:  # a port nobody listens on: connection refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = snapshot(workspace)
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "store", "geocode", "--domain", f"127.0.0.1:{port}",
                                      "--scheme", "http", "--min-delay", "0", "--timeout", "2",
                                      "--user-agent", "investigate-tests"])
    assert result.exit_code != 0
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"geocoder http://127.0.0.1:{port} failed" in result.stderr
    assert snapshot(workspace) == before


def test_a_radius_needs_a_unit(run, placed, tmp_path):
    result = run("near", write_places(tmp_path, "name,lat,lon\nA,52.5,13.4\n"), "--radius", "200")
    assert result.exit_code != 0 and "'200' has no unit: write 200m or 200km" in result.output


def test_near_leaves_out_street_precise_stores_unless_asked_and_marks_them(workspace, run, tmp_path):
    school = write_places(tmp_path, "name,kind,lat,lon\nGrundschule,school,52.4800,13.4300\n")
    door = stores.add_store(workspace, name="Door", lat=52.4801, lon=13.4301)
    street = stores.add_store(workspace, name="Street centre", lat=52.4802, lon=13.4302)
    workspace.update("stores", street["id"], {"coord_precision": "street (nominatim)"}, reason="test")
    result = json.loads(run("near", school, "--radius", "200m", "--json").stdout)
    assert [r["store_id"] for r in result["results"]] == [door["id"]] and result["approximate_excluded"] == 1
    shown = run("near", school, "--radius", "200m", "--include-approximate")
    assert "≈ " in shown.stdout and "Street centre" in shown.stdout
    marked = {r["store_id"]: r["approximate"] for r in workspace.db["near_results"].rows}
    assert marked == {door["id"]: 0, street["id"]: 1}


def test_near_names_the_stores_it_could_not_check_and_suggests_geocoding(workspace, placed, tmp_path, run):
    unplaced = [stores.add_store(workspace, name=n, address=a) for n, a in [
        ("Kiosk ohne Punkt", "Weserstr. 1"), ("Späti ohne Punkt", "Pannierstr. 9")]]
    stores.add_to_frame(workspace, placed, unplaced)
    places = write_places(tmp_path, "name,kind,lat,lon\nGrundschule,school,52.5,13.4\n")
    result = json.loads(run("near", places, "--radius", "200m", "--case", "near", "--json").output)
    assert result["stores_checked"] == 3 and result["not_checked"] == 2
    assert [s["name"] for s in result["not_checked_stores"]] == ["Kiosk ohne Punkt", "Späti ohne Punkt"]
    printed = run("near", places, "--radius", "200m", "--case", "near")
    assert printed.exit_code == 0, printed.output
    assert "2 store(s) without coordinates were not checked: Kiosk ohne Punkt, Späti ohne Punkt" in printed.stderr
    assert "investigate store geocode --case near" in printed.stderr


def test_near_says_nothing_of_unchecked_stores_when_every_store_is_placed(workspace, placed, tmp_path, run):
    places = write_places(tmp_path, "name,kind,lat,lon\nGrundschule,school,52.5,13.4\n")
    printed = run("near", places, "--radius", "200m", "--case", "near")
    assert printed.exit_code == 0 and "not checked" not in printed.output
