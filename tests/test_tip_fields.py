"""Complaints keep what they say (issue 24): the CFPB's channel, company response, timely and
disputed as tip fields, shown by ``tip list`` and counted by ``leads``; any complaint file
read with --map, --date-format and --map-value.

Fixtures: tests/data/cfpb/complaints-responses.csv (the CFPB download's full 18-column header,
with the answers older complaints carry: "Consumer disputed?" Yes/No before 2017, N/A since),
tests/data/layouts/fcc-complaints.csv (see layouts/ORIGIN.md)."""

from __future__ import annotations

import json

from conftest import DATA, snapshot

CFPB = DATA / "cfpb" / "complaints-responses.csv"
FCC = DATA / "layouts" / "fcc-complaints.csv"
FCC_ARGS = ["--format", "generic", "--company", "Comcast", "--map", "id=Ticket #",
            "--map", "narrative=Customer Complaint", "--map", "received_at=Date", "--map", "channel=Received Via",
            "--map", "company_response=Status", "--date-format", "%d-%m-%y",
            "--map-value", "Received Via:Customer Care Call=phone", "--map-value", "Received Via:Internet=web_form"]


def imported(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_every_cfpb_column_is_kept_and_none_is_dropped_silently(workspace, run):
    summary = imported(run("tip", "import", CFPB, "--json"))
    assert summary["added"] == 6
    assert summary["ignored_columns"] == [] and summary["unknown_columns"] == []
    assert summary["null_cells"] == {"Consumer disputed?": 3}  # N/A: the question did not exist yet
    tips = {t["external_id"]: t for t in workspace.db.query("select * from tips")}
    assert [tips[str(i)]["channel"] for i in range(1800101, 1800107)] == [
        "web_form", "phone", "letter", "fax", "referral", "email"]
    second = tips["1800102"]
    assert (second["company_response"], second["timely"], second["disputed"]) == (
        "Closed with monetary relief", 0, 1)
    assert (second["sub_product"], second["tags"], second["sent_to_company_at"]) == (
        "Medical", "Servicemember", "2016-05-23")
    assert tips["1800105"]["disputed"] is None
    assert tips["1800103"]["company_public_response"].startswith("Company believes")


def test_tip_list_shows_how_the_company_answered(workspace, run):
    imported(run("tip", "import", CFPB, "--json"))
    rows = json.loads(run("tip", "list", "--json").output)
    late = next(r for r in rows if r["received_at"] == "2016-05-19")
    assert (late["channel"], late["company_response"], late["timely"], late["disputed"]) == (
        "phone", "Closed with monetary relief", 0, 1)
    table = run("tip", "list").output
    assert "company response" in table and "timely" in table and "disputed" in table
    assert "monetary" in table and "Referral" not in table and "referral" in table


def test_leads_count_the_share_answered_in_time_and_disputed(workspace, run):
    imported(run("tip", "import", CFPB, "--json"))
    leads = json.loads(run("leads", "--json").output)
    lead = next(l for l in leads if l["issue"] == "Attempts to collect debt not owed")
    assert lead["complaints"] == 6
    assert lead["answered_in_time"] == round(4 / 6, 3) and lead["responses_known"] == 6
    assert lead["disputed"] == round(1 / 3, 3)  # of the three complaints where it is known
    table = run("leads").output
    assert "67%" in table and "33%" in table


def test_an_fcc_style_export_is_read_with_map_date_format_and_map_value(workspace, run):
    summary = imported(run("tip", "import", FCC, *FCC_ARGS, "--json"))
    assert summary["added"] == 4
    assert summary["unknown_columns"] == ["Time", "City", "Filing on Behalf of Someone"]  # listed, not lost
    tips = {t["external_id"]: t for t in workspace.db.query("select * from tips")}
    first = tips["250635"]
    assert (first["received_at"], first["channel"], first["company"], first["company_response"]) == (
        "2015-04-22", "phone", "Comcast", "Closed")
    assert (first["state"], first["postcode"], first["narrative"]) == ("Maryland", "21009",
                                                                       "Comcast Cable Internet Speeds")
    assert tips["223441"]["received_at"] == "2015-08-04" and tips["223441"]["channel"] == "web_form"
    again = imported(run("tip", "import", FCC, *FCC_ARGS, "--json"))
    assert again["added"] == 0 and again["already_known"] == 4


def test_a_channel_word_not_mapped_names_the_map_value_to_say_and_writes_nothing(workspace, run):
    before = snapshot(workspace)
    assert FCC_ARGS[-1] == "Received Via:Internet=web_form"
    result = run("tip", "import", FCC, *FCC_ARGS[:-2])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert ":3: column 'Received Via': channel 'Internet' is not one of" in result.stderr
    assert '--map-value "Received Via:Internet=CHANNEL"' in result.stderr
    assert snapshot(workspace) == before


def test_a_generic_file_without_company_needs_a_map_or_company(workspace, run):
    args = list(FCC_ARGS)
    i = args.index("--company")
    del args[i:i + 2]
    result = run("tip", "import", FCC, *args)
    assert result.exit_code != 0 and "missing column 'company'" in result.stderr and "--company" in result.stderr


def test_a_story_reads_how_the_company_answered_the_similar_complaints(workspace, run):
    from investigate.cases import companies, stories

    imported(run("tip", "import", CFPB, "--json"))
    companies.add_company(workspace, name="Contoso Lending Co.")
    tip = next(workspace.db.query("select * from tips where external_id = '1800104'"))
    made = stories.create_story(workspace, slug="contoso-debt", title="Debt not owed", tip=tip)
    similar = stories.similar_complaints(workspace, made["case"])
    # The five others: four answered in time of five, one disputed of the three where it is known.
    assert similar["count"] == 5
    assert similar["answered_in_time"] == round(4 / 5, 3) and similar["disputed"] == round(1 / 3, 3)
