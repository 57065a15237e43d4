"""Issue 28: public data another desk can recompute and combine. Newsrooms publish their cases
as Parquet with a manifest ('publish --parquet'); 'network combine' checks and combines them
with DuckDB, and its figures equal plain SQL over the union of the public databases."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from investigate.cases import cases, replies, samples, stores, testers, visits
from investigate.cases.review import review_visit
from investigate.cli import cli
from investigate.store.workspace import init_workspace

CHAINS = ["Späti24", "KioskCo", None]


def investigate(*args, root=None):
    prefix = ["-w", str(root)] if root else []
    return CliRunner().invoke(cli, [*prefix, *map(str, args)], catch_exceptions=False)


def newsroom(root, *, seed: int, protocol: str = "tobacco-minors", stratified: bool = False, shops: int = 10):
    """A newsroom's published case, like the demo's: stores of two chains and independents in
    two districts, two rounds, every visit approved, every business asked and its window closed.
    Every newsroom calls its case 'tobacco-2026': a combination must keep them apart."""
    rnd = random.Random(seed)
    ws = init_workspace(root, newsroom=f"Newsroom {seed}", timezone_name="Europe/Berlin")
    case = cases.create_case(ws, slug="tobacco-2026", title=f"Tobacco sales, city {seed}", protocol=protocol,
                             jurisdiction="DE", legal_basis="JuSchG § 10")
    case = cases.edit_case(ws, case, reply_days=3)
    made = [stores.add_store(ws, name=f"Shop {seed}-{i}", chain=CHAINS[i % 3], address=f"Street {i}",
                             city=f"City {seed}", district="North" if i % 3 == 0 else "South") for i in range(shops)]
    stores.add_to_frame(ws, case, made)
    tested = made
    if stratified:
        drawn = samples.draw_sample(ws, case, n=shops - 2, strata="district", seed=seed)
        ids = {s["id"] for s in drawn["stores"]}
        tested = [s for s in made if s["id"] in ids] + [next(s for s in made if s["id"] not in ids)]
    tester = testers.add_tester(ws, code="T-01", birth_month="2010-03", consent=True, consent_date="2026-01-10")
    base = ws.now() - timedelta(days=12)
    when = 0
    product = "cigarettes" if protocol == "tobacco-minors" else "beer"
    sale_answers = lambda sold: {"product": product, "sale": sold, "id_check": "none", "id_carried": True}  # noqa: E731
    for rnd_no in (1, 2):
        for shop in tested if rnd_no == 1 else tested[::2]:
            for _ in range(1 + (rnd.random() < 0.3)):  # some stores twice in a round: the first counts
                when += 1
                r = visits.record_visit(ws, case=case, store=shop, tester=tester, answers=sale_answers(rnd.random() < 0.4),
                                        visited_at=base + timedelta(hours=when), observer="Observer", round=rnd_no)
                review_visit(ws, r["visit"], "approve")
    for shop in tested:
        replies.request_reply(ws, case, shop, requested_at=(ws.now() - timedelta(days=9)).isoformat())
    ws.close()
    result = investigate("publish", "--case", "tobacco-2026", "--parquet", "--override", "test network", root=root)
    assert result.exit_code == 0, result.output
    return root / "public"


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    base = tmp_path_factory.mktemp("newsrooms")
    return [newsroom(base / f"n{i}", seed=i, stratified=i == 2) for i in range(3)]


def test_publish_parquet_writes_each_table_with_its_checkpoint_and_figures_sql(three):
    import duckdb

    folder = three[2]
    manifest = json.loads((folder / "manifest.json").read_text())
    db = sqlite3.connect(folder / "public.db")
    note = db.execute("select note from log_checkpoint").fetchone()[0]
    assert manifest["checkpoint"] == note
    tables = {r[0] for r in db.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")}
    assert {f["table"] for f in manifest["files"]} == tables
    con = duckdb.connect()
    for f in manifest["files"]:
        path = folder / f["path"]
        meta = pq.read_schema(path).metadata
        assert meta[b"investigate.checkpoint"].decode() == note
        assert pq.read_metadata(path).num_rows == f["rows"] == db.execute(f"select count(*) from [{f['table']}]").fetchone()[0]
        con.execute(f"create view {f['table']} as select * from read_parquet('{path}')")
    assert manifest["cases"][0]["protocol"] == "tobacco-minors" and len(manifest["cases"][0]["outcome_hash"]) == 64
    # Each figure's SQL, read from the file's own metadata, recomputes the published figure.
    rates_sql = json.loads(pq.read_schema(folder / "parquet/rates.parquet").metadata[b"investigate.figures"])["all"]
    (slug, n, violations, eligible, rate), = con.execute(rates_sql).fetchall()
    published = db.execute("select visits, violations, eligible, violation_rate from rates "
                           "where grouping = 'all'").fetchone()
    assert (n, violations, eligible) == published[:3] and rate == pytest.approx(published[3])
    weighted_sql = json.loads(pq.read_schema(folder / "parquet/weighted_rates.parquet")
                              .metadata[b"investigate.figures"])["by_round"]
    recomputed = {r[1]: (r[2], r[3]) for r in con.execute(weighted_sql).fetchall()}
    published = {r[0]: (r[1], r[2]) for r in db.execute("select round, stores_tested, violation_rate "
                                                         "from weighted_rates")}
    assert published and set(recomputed) == set(published)
    for rnd, (stores_tested, rate) in published.items():
        assert recomputed[rnd][0] == stores_tested and recomputed[rnd][1] == pytest.approx(rate)
    # A stratified case weighs its stores unequally; the store tested outside the sample has none.
    weights = [r[0] for r in db.execute("select distinct weight from design_weights")]
    assert len(weights) > 1 and 1.0 not in weights
    weighed = db.execute("select count(distinct store_id) from design_weights").fetchone()[0]
    assert weighed == db.execute("select count(*) from stores").fetchone()[0] - 1


#: The same figures written independently for SQLite over the attached public databases: a
#: store's first completed test of a round by the smallest visit id, weights joined per database.
PLAIN_SQL = """
select chain, round, count(distinct db) as newsrooms, count(*) as stores_tested, sum(sold) as violations,
       sum(weight * sold) / sum(weight) as weighted_rate
from (
  {firsts}
) group by chain, round
union all
select '(all)', round, count(distinct db), count(*), sum(sold), sum(weight * sold) / sum(weight)
from ({firsts}) group by round
order by 1, 2
"""
FIRST_OF = """
select {i} as db, v.round, coalesce(s.chain, '(not named)') as chain, w.weight,
       v.outcome = 'violation' as sold
from n{i}.visits v join n{i}.stores s on s.id = v.store_id
join n{i}.design_weights w on w.case_slug = v.case_slug and w.store_id = v.store_id and w.round = v.round
where v.attempt = 'completed' and v.outcome in ('violation', 'compliant')
  and v.id = (select min(x.id) from n{i}.visits x where x.case_slug = v.case_slug and x.store_id = v.store_id
              and x.round = v.round and x.attempt = 'completed')
"""


def test_network_combine_equals_plain_sql_over_the_union_of_public_databases(three, tmp_path):
    result = investigate("network", "combine", *three, "--out", tmp_path / "national", "--json")
    assert result.exit_code == 0, result.output
    combined = json.loads(result.output)["figures"]
    conn = sqlite3.connect(":memory:")
    for i, folder in enumerate(three):
        conn.execute(f"attach database '{folder / 'public.db'}' as n{i}")
    firsts = " union all ".join(FIRST_OF.format(i=i) for i in range(len(three)))
    plain = conn.execute(PLAIN_SQL.format(firsts=firsts)).fetchall()
    assert len(plain) == len(combined) > 3
    for row, figure in zip(plain, combined):
        assert (figure["chain"], figure["round"], figure["newsrooms"], figure["stores_tested"],
                figure["violations"]) == row[:5]
        assert figure["weighted_rate"] == pytest.approx(row[5])
    chains = {f["chain"] for f in combined}
    assert {"Späti24", "KioskCo", "(all)"} <= chains
    assert max(f["newsrooms"] for f in combined) == 3
    # The output is itself a publication: Parquet with the SQL and its sources, and a manifest.
    manifest = json.loads((tmp_path / "national" / "manifest.json").read_text())
    assert [s["cases"] for s in manifest["sources"]] == [["tobacco-2026"]] * 3
    table = pq.read_table(tmp_path / "national" / manifest["files"][0]["path"])
    assert table.num_rows == len(combined)
    assert b"min(id)" in table.schema.metadata[b"investigate.figures"]


def test_network_combine_refuses_a_protocol_that_judges_otherwise(three, tmp_path):
    alcohol = newsroom(tmp_path / "alcohol", seed=7, protocol="alcohol-minors", shops=4)
    result = investigate("network", "combine", *three, alcohol, "--out", tmp_path / "out")
    assert result.exit_code != 0
    assert f"{alcohol}: case tobacco-2026 (alcohol-minors" in result.output and "refused" in result.output
    assert not (tmp_path / "out").exists()
    twice = investigate("network", "combine", three[0], three[0], "--out", tmp_path / "out")
    assert twice.exit_code != 0 and "one newsroom's case counts once" in twice.output


def copy_folder(folder, to):
    import shutil

    shutil.copytree(folder, to)
    return to


def test_network_combine_names_an_altered_file_and_refuses(three, tmp_path):
    bad = copy_folder(three[1], tmp_path / "altered")
    visits_file = bad / "parquet" / "visits.parquet"
    data = bytearray(visits_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    visits_file.write_bytes(bytes(data))
    result = investigate("network", "combine", three[0], bad, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert f"{visits_file}: its SHA-256 is not the one" in result.output
    assert "Traceback" not in result.output
    # The public database the manifest lists is checked too.
    other = copy_folder(three[1], tmp_path / "other-db")
    with sqlite3.connect(other / "public.db") as db:
        db.execute("update rates set rate = '0 %'")
    db.close()
    result = investigate("network", "combine", other, "--out", tmp_path / "out")
    assert result.exit_code == 3 and f"{other / 'public.db'}: its SHA-256 is not the one" in result.output
    # A manifest whose checkpoint was edited (another root) no longer verifies.
    forged = copy_folder(three[1], tmp_path / "forged")
    manifest = json.loads((forged / "manifest.json").read_text())
    lines = manifest["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    manifest["checkpoint"] = "\n".join(lines)
    (forged / "manifest.json").write_text(json.dumps(manifest))
    result = investigate("network", "combine", forged, "--out", tmp_path / "out")
    assert result.exit_code == 3 and f"{forged / 'manifest.json'}: the manifest's checkpoint" in result.output
    # Only the keys asked for, when asked.
    other_key = json.loads((three[0] / "manifest.json").read_text())["public_key"]
    result = investigate("network", "combine", three[1], "--key", other_key, "--out", tmp_path / "out")
    assert result.exit_code == 3 and "not among those trusted" in result.output


def test_a_publish_without_parquet_removes_the_files_of_an_earlier_one(tmp_path):
    folder = newsroom(tmp_path / "n", seed=5, shops=3)
    assert (folder / "manifest.json").exists() and (folder / "parquet" / "visits.parquet").exists()
    again = investigate("publish", "--case", "tobacco-2026", "--override", "test network", root=tmp_path / "n")
    assert again.exit_code == 0, again.output
    assert (folder / "public.db").exists()
    assert not (folder / "manifest.json").exists() and not (folder / "parquet").exists()


@pytest.mark.parametrize("lang, words", [("en", ("Combined figures", "All chains", "Weighted rate")),
                                         ("de", ("Zusammengeführte Zahlen", "Alle Ketten", "Gewichtete Quote"))])
def test_the_combination_is_a_pdf_signed_by_the_newsroom_that_made_it(three, tmp_path, lang, words):
    import subprocess

    from conftest import need_tool

    pdftotext = need_tool("pdftotext", package="poppler-utils")
    home = three[0].parent  # the first newsroom combines, and signs the PDF with its log
    pdf = tmp_path / f"national-{lang}.pdf"
    result = investigate("network", "combine", *three, "--out", tmp_path / "national", "--pdf", pdf, "--lang", lang,
                         "--json", root=home)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    text = " ".join(subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for word in words:
        assert word in text
    squeezed = text.replace(" ", "")  # a long origin or hash wraps inside its cell
    for source in data["sources"]:
        assert source["origin"] in squeezed and source["manifest_sha256"] in squeezed
    total = next(f for f in data["figures"] if f["chain"] == "(all)" and f["round"] == 1)
    assert f"{total['stores_tested']} {total['violations']}" in text
    verified = investigate("verify", "--against", pdf, root=home)
    assert verified.exit_code == 0, verified.output
