"""Issue 31: the eight causes of a traceback, each now one line and exit != 0, the database
byte-identical, in under a second and 100 MB: deeply nested JSON in a bundle member or the
map's boundaries, nested TOML in protocols/ (which broke ``visit record`` under a built-in
protocol too), a checkpoint signature that is not base64, a PDF whose checkpoint attachment is
not UTF-8 or inflates to 1 GiB, a 3,000-deep MIME e-mail, ``bundle --out missing/x.zip``
(tests/test_refusals.py) and ``prove abc``."""

from __future__ import annotations

import base64
import json
import resource
import time
import zlib
from contextlib import contextmanager
from datetime import timedelta

import pytest
from click.testing import CliRunner

from investigate.cases import stores, visits
from investigate.cli import cli

from conftest import snapshot
from test_bundles import bundle, desk, refused, rewrite  # noqa: F401 (fixtures)

DEEP = 100_000


@contextmanager
def within_budget(seconds: float = 1.0, mebibytes: int = 100):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    yield
    assert time.perf_counter() - started < seconds
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < mebibytes * 1024  # KiB


def one_line_error(result, expected: str) -> None:
    assert result.exit_code != 0, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("Error:") and expected in result.output, result.output
    assert "Traceback" not in result.output and "Usage:" not in result.output


@pytest.mark.parametrize("member", ["rows/visits.json", "audit.json"])
def test_a_bundle_member_nested_a_hundred_thousand_deep_is_one_line(bundle, desk, run, tmp_path, member):
    crafted = rewrite(bundle, tmp_path / "deep.zip", {member: ("[" * DEEP + "]" * DEEP).encode()})
    with within_budget():
        refused(run, desk, crafted, "nested more than 64 levels deep")


def test_a_bundle_manifest_nested_a_hundred_thousand_deep_is_one_line(desk, run, tmp_path):
    import zipfile

    crafted = tmp_path / "deep.zip"
    with zipfile.ZipFile(crafted, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", "{\"a\": " + "[" * DEEP + "]" * DEEP + "}")
    with within_budget():
        refused(run, desk, crafted, "manifest.json")


def test_boundaries_geojson_nested_deep_or_of_the_wrong_shape_is_one_line(workspace, tobacco_case, run, tmp_path):
    ws = workspace
    ws.config_path.write_text(ws.config_path.read_text().replace('boundaries = ""', 'boundaries = "d.geojson"'))
    before = snapshot(ws)
    for content, expected in [("[" * DEEP + "]" * DEEP, "nested more than 64 levels deep"),
                              (json.dumps({"features": 7}), "features are not a list"),
                              (json.dumps({"type": "Polygon", "coordinates": [[{"a": 1}]]}), "not [lon, lat] pairs")]:
        (ws.root / "d.geojson").write_text(content)
        with within_budget(seconds=5):  # the report is gathered before its map: not the file's cost
            result = run("report", "tobacco-nk", "--edition", "internal", "--out", tmp_path / "r.pdf")
        one_line_error(result, "d.geojson")
        assert expected in result.output
        assert not (tmp_path / "r.pdf").exists()
    assert snapshot(ws) == before


def test_a_deeply_nested_protocol_file_is_one_line_and_stops_only_itself(workspace, tobacco_case, run):
    ws = workspace
    (ws.root / "protocols" / "deep.toml").write_text("key = \"deep\"\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    result = run("protocol", "show", "deep")
    one_line_error(result, "deep.toml")
    assert "nested more than 64 levels deep" in result.output
    # A visit under the built-in protocol is recorded as before: the broken file is not its concern.
    shop = stores.add_store(ws, name="Laden Fünf", address="Weg 5", lat=52.48, lon=13.43)
    stores.add_to_frame(ws, tobacco_case["case"], [shop])
    recorded = visits.record_visit(ws, case=tobacco_case["case"], store=shop, tester=tobacco_case["tester"],
                                   answers={"product": "cigarettes", "sale": False, "id_check": "scanned",
                                            "id_carried": True},
                                   visited_at=ws.now() - timedelta(days=1), observer="Observer Olsen")
    assert recorded["visit"]["outcome"] == "compliant"


def test_a_checkpoint_whose_signature_is_not_base64_is_one_line(workspace, run, tmp_path):
    note = tmp_path / "cp.txt"
    note.write_text(f"investigate.log/x\n3\n{base64.b64encode(bytes(32)).decode()}\n\n— x !!!not*base64!!!\n")
    before = snapshot(workspace)
    one_line_error(run("verify", "--against", note), "is not base64")
    assert snapshot(workspace) == before


def test_a_200_mb_checkpoint_file_is_refused_without_reading_it(workspace, run, tmp_path):
    big = tmp_path / "cp.txt"
    with open(big, "wb") as fp:  # sparse: 200 MB that take no disk
        fp.truncate(200 << 20)
    with within_budget():
        one_line_error(run("verify", "--against", big), "not a checkpoint")


def _pdf_with_attachment(path, data: bytes):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_attachment("log-checkpoint.txt", data)
    with open(path, "wb") as fp:
        writer.write(fp)
    return path


def test_a_pdf_whose_checkpoint_attachment_is_not_utf8_is_one_line(workspace, run, tmp_path):
    import io

    from weasyprint import HTML, Attachment

    # As our reports attach it (WeasyPrint, its size declared), but not text.
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(HTML(string="<p>Report</p>").write_pdf(attachments=[
        Attachment(file_obj=io.BytesIO(b"\xff\xfe\x00 not text"), name="log-checkpoint.txt")]))
    one_line_error(run("verify", "--against", pdf), "is not UTF-8 text")


def test_a_pdf_whose_checkpoint_attachment_inflates_to_a_gibibyte_is_one_line(workspace, run, tmp_path):
    pdf = _pdf_with_attachment(tmp_path / "bomb.pdf", b"placeholder")
    # The attachment's stream swapped for 1 GiB of zeros deflated (about 1 MB).
    squeeze = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    packed = b"".join(squeeze.compress(chunk) for _ in range(1024)) + squeeze.flush()
    raw = pdf.read_bytes()
    start = raw.index(b"placeholder")
    stream_start = raw.rindex(b"stream", 0, start)
    head = raw[:stream_start]
    dict_start = head.rindex(b"<<")
    tail = raw[raw.index(b"endstream", start):]
    header = (b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length " + str(len(packed)).encode() + b" >>\n")
    pdf.write_bytes(head[:dict_start] + header + b"stream\n" + packed + b"\n" + tail)
    with within_budget():
        result = run("verify", "--against", pdf)
    one_line_error(result, "refused unread")


def test_an_email_nested_three_thousand_parts_deep_is_one_line(workspace, tmp_path):
    from investigate.cases.documents import read_document
    from investigate.errors import InvalidInput

    # Imitates a forwarded message whose every part wraps the next: multipart/mixed 3,000 deep.
    body = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(3000))
    mail = tmp_path / "deep.eml"
    mail.write_text("From: a@example.org\nDate: Wed, 16 Sep 2026 11:40:00 +0200\n" + body
                    + "Content-Type: text/plain\n\nhello\n")
    with within_budget(), pytest.raises(InvalidInput, match="not a readable e-mail"):
        read_document(mail)


def test_prove_with_a_word_for_a_number_is_one_line(workspace, run):
    one_line_error(run("prove", "abc"), "is not a valid integer")
    assert "prove --help)" in run("prove", "abc").output


def test_a_missing_argument_still_shows_the_usage(workspace):
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "prove"])
    assert result.exit_code == 2 and "Usage:" in result.output


@pytest.mark.parametrize("columns", [100_000, 1_000_000])
def test_a_csv_of_a_hundred_thousand_or_a_million_columns_is_one_line_in_under_a_second(workspace, run, tmp_path,
                                                                                      columns):
    # Imitates a store export gone wrong: one header line of generated column names.
    wide = tmp_path / "stores.csv"
    wide.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("x" * columns) + "\n")
    before = snapshot(workspace)
    with within_budget():
        result = run("store", "import", wide)
    one_line_error(result, f"{columns:,} columns, more than the 5,000")
    assert "stores.csv:1" in result.output
    assert snapshot(workspace) == before

