"""Files as big as the ones reporters and data desks really import, written on demand.

Each imitates a real layout, row for row like the small fixtures in ``tests/data`` it grows
from (their ORIGIN notes say which real file each imitates): a city's shop registry, a case's
visits typed in a spreadsheet, the CFPB complaint download, a LIVES feed (Lexington's
columns), the FDA compliance-check export, a KoboToolbox form export. Big enough that a
progress bar lives for several seconds: the bar must be seen to reach 100 %, as a user sees it.
The dates are fixed and long past, so the files read the same on any day the suite runs.
"""

from __future__ import annotations

import csv
from pathlib import Path

DISTRICTS = ["Neukölln", "Kreuzberg", "Mitte", "Wedding", "Friedrichshain"]


def write_rows(path: Path, header: list[str], rows, *, delimiter: str = ",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=delimiter)
        out.writerow(header)
        out.writerows(rows)
    return path


def stores_csv(path: Path, n: int) -> Path:
    """A shop registry: name, address, district, licence number (the key visits name) and the
    registry's coordinates, spread over a few kilometres of Berlin."""
    return write_rows(path, ["name", "address", "city", "district", "licence_number", "lat", "lon"], (
        (f"Späti {i}", f"Sonnenallee {i % 400 + 1}", "Berlin", DISTRICTS[i % 5], f"L-{i}",
         f"{52.45 + (i % 317) / 317 * 0.06:.6f}", f"{13.38 + (i % 331) / 331 * 0.1:.6f}") for i in range(n)))


def places_csv(path: Path) -> Path:
    """Schools to measure from (name, lat, lon), as a city's open-data list gives them."""
    return write_rows(path, ["name", "lat", "lon"], [
        ("Schule am Park", "52.4801", "13.4301"), ("Gymnasium Nord", "52.4950", "13.4200"),
        ("Grundschule Süd", "52.4600", "13.4500")])


def visits_csv(path: Path, n: int, tester: str = "T-07") -> Path:
    """One tobacco-minors visit per store of ``stores_csv``, an hour apart, in 2026."""
    def rows():
        for i in range(n):
            day, hour = divmod(i, 10)
            sale = "yes" if i % 5 == 0 else "no"
            yield (f"L-{i}", tester, f"2026-{3 + day // 28 % 9:02d}-{day % 28 + 1:02d} {9 + hour:02d}:{i % 60:02d}",
                   "cigarettes", sale, "none" if sale == "yes" else "scanned", "yes")
    return write_rows(path, ["store", "tester", "visited_at", "product", "sale", "id_check", "id_carried"], rows())


CFPB_HEADER = ["Date received", "Product", "Sub-product", "Issue", "Sub-issue", "Consumer complaint narrative",
               "Company public response", "Company", "State", "ZIP code", "Tags", "Consumer consent provided?",
               "Submitted via", "Date sent to company", "Company response to consumer", "Timely response?",
               "Consumer disputed?", "Complaint ID"]


def cfpb_csv(path: Path, n: int) -> Path:
    """The CFPB complaint download's 18 columns, MM/DD/YYYY dates, companies spelled several ways."""
    companies = ["ACME BANK, N.A.", "Acme Bank Inc", "TeleNord Mobilfunk", "Elektromax GmbH", "KioskCo"]
    return write_rows(path, CFPB_HEADER, (
        (f"{i % 12 + 1:02d}/{i % 28 + 1:02d}/2025", "Checking or savings account", "", "Managing an account",
         "Problem using a debit or ATM card", "" if i % 3 else "They kept my deposit.", "", companies[i % 5],
         "TX", f"{40000 + i % 9999}", "", "Consent provided", "Web", f"{i % 12 + 1:02d}/{i % 28 + 1:02d}/2025",
         "Closed with explanation", "Yes", "N/A", str(6_000_000 + i)) for i in range(n)))


def lives_feed(folder: Path, inspections: int) -> Path:
    """A LIVES feed (Lexington's layout): a business per ten inspections, a violation per two."""
    folder.mkdir(parents=True, exist_ok=True)
    businesses = max(1, inspections // 10)
    write_rows(folder / "feed_info.csv", ["feed_date", "feed_version", "municipality_name", "municipality_url",
                                          "contact_email"],
               [("20160303", "2.0", "Lexington-Fayette County", "http://example.org/inspections",
                 "healthscores@example.org")])
    write_rows(folder / "businesses.csv", ["business_id", "name", "address", "city", "state"], (
        (str(70000 + b), f"DINER NO. {b}", f"{b} E. MAIN ST", "Lexington", "KY") for b in range(businesses)))
    write_rows(folder / "inspections.csv", ["business_id", "score", "date"], (
        (str(70000 + i % businesses), str(80 + i % 21), f"{2010 + i // businesses % 6}{(i // businesses) % 12 + 1:02d}15")
        for i in range(inspections)))
    write_rows(folder / "violations.csv", ["business_id", "date", "code", "description"], (
        (str(70000 + i % businesses), f"{2010 + i // businesses % 6}{(i // businesses) % 12 + 1:02d}15", "8",
         "Standard not met. Food Protection: storage, prep, display") for i in range(0, inspections, 2)))
    return folder


FDA_HEADER = ["Retailer Name", "Street Address", "City", "State", "Zip", "Decision Date", "Decision Type",
              "Minor Involved", "Sale to Minor", "Product Type"]


def fda_csv(path: Path, n: int) -> Path:
    """The FDA's compliance-check export: one row per inspection, a retailer per five rows."""
    results = ["No Violations Observed", "Warning Letter", "No Violations Observed", "Civil Money Penalty",
               "No Violations Observed"]
    return write_rows(path, FDA_HEADER, (
        (f"Smart-Shop {i // 5}", f"{i // 5} Main Street", "Lexington", "KY", "40508",
         f"{i % 12 + 1:02d}/{i % 28 + 1:02d}/{2015 + i % 5}", results[i % 5], "Yes",
         "Yes" if results[i % 5] != "No Violations Observed" else "No", "Cigarettes") for i in range(n)))


KOBO_HEADER = ["start", "end", "today", "deviceid", "group_visit/store", "group_visit/tester", "group_visit/product",
               "group_visit/sale", "group_visit/id_check", "group_visit/id_carried", "observer", "_id", "_uuid",
               "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
               "_tags", "_index"]


def kobo_csv(path: Path, n: int, tester: str = "T-07") -> Path:
    """KoboToolbox's export (``;``, group prefixes, its metadata columns) of the tobacco form."""
    def rows():
        for i in range(n):
            day, minute = divmod(i, 600)
            start = f"2026-{1 + day // 28 % 2:02d}-{day % 28 + 1:02d}T{8 + minute // 60:02d}:{minute % 60:02d}:11.412+01:00"
            sale = "yes" if i % 4 == 0 else "no"
            yield (start, start, start[:10], "collect:Xy12AbCd", f"L-{i}", tester, "cigarettes", sale,
                   "none" if sale == "yes" else "scanned", "yes", "Observer Olsen", str(1000 + i),
                   f"5b1f3c2e-9a41-4d0b-8f0e-{i:012x}", "2026-02-01T13:20:00", "", "[]", "submitted_via_web",
                   "reporter1", "vAbC123", "[]", str(i + 1))
    return write_rows(path, KOBO_HEADER, rows(), delimiter=";")
