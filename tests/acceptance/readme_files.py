"""The files the README's tour names, made when a command first names one, in the layout the
tour says each has.

A user following the tour has these in hand: a city's shop list (exported from a spreadsheet,
with a "Retailer Name" heading, hence the tour's ``--map``), the signed consent form, a photo of
a receipt, the visits a colleague typed into a spreadsheet, the schools of the district, the
company's answer, the CFPB download, an e-mail the customer forwarded, a bill, the agencies'
files. The agencies' files are the fixtures in ``tests/data`` (their ORIGIN notes say which
real export each imitates); the rest are written here. A file the tour writes itself (a report,
a bundle) is never made here; "report.pdf" and "report-v1.pdf" are the public PDFs the tour
rendered, as a reader would hand them back.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from io import BytesIO
from pathlib import Path

from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"

#: Twelve Neukölln and Kreuzberg shops; the licence numbers are those the phone-form export
#: (tests/data/kobo/tobacco-form.csv) names, so its submissions find their stores.
SHOPS = [
    ("Kiosk am Park", "Hermannstr. 3", "Neukölln", "L-1", 52.4750, 13.4240),
    ("Tabak Müller", "Karl-Marx-Str. 9", "Neukölln", "L-2", 52.4830, 13.4330),
    ("Späti Sonnenallee 12", "Sonnenallee 12", "Neukölln", "L-3", 52.4890, 13.4270),
    ("Späti Weserstraße", "Weserstr. 40", "Neukölln", "L-4", 52.4870, 13.4380),
    ("Kiosk Reuterplatz", "Reuterplatz 2", "Neukölln", "L-5", 52.4880, 13.4300),
    ("Tabakwaren Hermannplatz", "Hermannplatz 5", "Neukölln", "L-6", 52.4868, 13.4245),
    ("Späti Oranienstraße", "Oranienstr. 20", "Kreuzberg", "L-7", 52.5010, 13.4180),
    ("Kiosk Görlitzer Park", "Görlitzer Str. 1", "Kreuzberg", "L-8", 52.4970, 13.4370),
    ("Tabak Bergmannstraße", "Bergmannstr. 11", "Kreuzberg", "L-9", 52.4890, 13.3950),
    ("Späti Mehringdamm", "Mehringdamm 30", "Kreuzberg", "L-10", 52.4930, 13.3880),
    ("Kiosk Kottbusser Tor", "Adalbertstr. 1", "Kreuzberg", "L-11", 52.4990, 13.4180),
    ("Tabak Wrangelkiez", "Wrangelstr. 50", "Kreuzberg", "L-12", 52.5020, 13.4350),
]


def shops(path: Path) -> None:
    """A city's shop list as a spreadsheet exports it: the name under "Retailer Name"."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Retailer Name", "Address", "City", "District", "Licence number", "lat", "lon"])
        out.writerows((name, address, "Berlin", district, licence, lat, lon)
                      for name, address, district, licence, lat, lon in SHOPS)


def visits(path: Path, corrected: bool = False) -> None:
    """Visits typed into a spreadsheet by the second tester, by the stores' licence numbers: the
    morning of the field day, after the consent the README records that day. The corrected sheet
    (``visits-fixed.csv``) is the same sheet with the tester's one slip put right: at L-4 there
    was a sale without an ID check, typed as a refusal."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["store", "tester", "visited_at", "observer", "product", "sale", "id_check", "id_carried"])
        for i, licence in enumerate(["L-3", "L-4", "L-5", "L-6", "L-7", "L-8"]):
            sale = "yes" if i % 3 == 0 or (corrected and licence == "L-4") else "no"
            out.writerow([licence, "T-08", f"2026-11-20 {8 + i}:10", "M. Olsen", "cigarettes", sale,
                          "none" if sale == "yes" else "scanned", "yes"])


def visits_fixed(path: Path) -> None:
    visits(path, corrected=True)


def schools(path: Path) -> None:
    """The district's schools, as the city's open-data list gives them (name, lat, lon)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["name", "lat", "lon"], ["Rixdorfer Grundschule", "52.4755", "13.4245"],
                                 ["Albert-Schweitzer-Gymnasium", "52.4872", "13.4375"]])


def pdf(path: Path) -> None:
    """A one-page PDF, as a scanner writes a signed form or a bill."""
    Image.new("RGB", (120, 170), "white").save(path, "PDF")


def receipt(path: Path) -> None:
    """A phone's photo of the receipt: JPEG with the capture time in EXIF."""
    image = Image.new("RGB", (64, 96), "white")
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2026:11:20 14:36:10"}  # Exif IFD: DateTimeOriginal
    buffer = BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    path.write_bytes(buffer.getvalue())


def answer(path: Path) -> None:
    """The company's answer, pasted from its e-mail."""
    path.write_text("Wir nehmen den Jugendschutz und unsere Kundinnen ernst und schulen unser Personal "
                    "regelmäßig.\n", encoding="utf-8")


def mail(path: Path) -> None:
    """The company's confirmation e-mail the customer forwarded, saved as .eml."""
    path.write_text(
        "From: ElektroMax Kundenservice <service@elektromax.example>\n"
        "To: kundin@example.org\n"
        "Date: Tue, 22 Sep 2026 10:12:00 +0200\n"
        "Subject: Ihre Erstattung\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Wir bestätigen die Erstattung von 249 EUR bis zum 30.09.2026.\n", encoding="utf-8")


def submissions(path: Path) -> None:
    """ODK Central's "CSV with media" download of the form the tour wrote (form.xlsx): two
    submissions by T-07 on the field day's morning at two Kreuzberg shops, their photos in
    media/ beside the CSV (the layout: tests/odk_export.py)."""
    from investigate.files.workbook import read_workbook
    from odk_export import export_of_form

    sheets = read_workbook(path.parent / "form.xlsx")
    fields, version = [r["name"] for r in sheets["survey"]], sheets["settings"][0]["version"]
    db = sqlite3.connect(path.parent / "investigate.db")
    try:
        stores = dict(db.execute("select licence_number, id from stores where licence_number in ('L-9', 'L-10')"))
    finally:
        db.close()
    common = {"tester": "T-07", "attempt": "completed", "form_version": version, "observer": "M. Olsen",
              "id_carried": "yes"}
    answers = [
        {**common, "store": stores["L-9"], "start": "2026-11-20T10:02:00+01:00", "end": "2026-11-20T10:08:00+01:00",
         "product": "cigarettes", "sale": "yes", "id_check": "none", "visit_location": "52.4890 13.3950 40 5"},
        {**common, "store": stores["L-10"], "start": "2026-11-20T10:31:00+01:00", "end": "2026-11-20T10:36:00+01:00",
         "product": "cigarettes", "sale": "no", "id_check": "scanned", "visit_location": "52.4930 13.3880 38 6"},
    ]
    export_of_form("odk-central", fields, answers, path.parent, export=path, media=path.parent / "media")


def their_fingerprints(path: Path) -> None:
    """Another newsroom's `evidence fingerprints` file: one of its photos is the first phone-form
    photo above, resized to half and recompressed (as a messenger sends it on), one is not."""
    import imagehash
    from photos import resaved, shot, street

    near = imagehash.phash(resaved(shot(street(100)), quality=60, scale=0.5))
    other = imagehash.phash(shot(street(7)))
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["algorithm", "phash", "captured_on"],
                                 ["imagehash.phash/64", str(near), "2026-11-22"],
                                 ["imagehash.phash/64", str(other), "2026-11-02"]])


COPIES = {
    "complaints.csv": DATA / "cfpb" / "complaints.csv",
    "compliance_checks.csv": DATA / "fda" / "compliance-checks.csv",
    "form.csv": DATA / "kobo" / "tobacco-form.csv",
    "chicago.csv": DATA / "layouts" / "chicago-inspections.csv",
    "./lexington-lives": DATA / "lives-lexington",
    "./sf-lives": DATA / "layouts" / "lives-sf",
}
WRITERS = {"shops.csv": shops, "visits.csv": visits, "visits-fixed.csv": visits_fixed,
           "schools.csv": schools, "consent-T07.pdf": pdf,
           "bill.pdf": pdf, "receipt.jpg": receipt, "answer.txt": answer, "mail.eml": mail,
           "submissions.csv": submissions, "their-fingerprints.csv": their_fingerprints}


def make(word: str, cwd: Path) -> None:
    """Make the file ``word`` names in ``cwd`` if it is one the tour expects the user to have."""
    path = cwd / word
    if path.exists():
        return
    if word in WRITERS:
        WRITERS[word](path)
    elif word in COPIES:
        source = COPIES[word]
        (shutil.copytree if source.is_dir() else shutil.copy)(source, path)
    elif word in ("report.pdf", "report-v1.pdf"):
        published = sorted((cwd / "reports").glob("*-public-*.pdf"), key=lambda p: p.stat().st_mtime)
        assert published, f"{word}: the tour rendered no public report yet"
        shutil.copy(published[0] if word == "report-v1.pdf" else published[-1], path)
