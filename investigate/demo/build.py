"""A realistic, seeded demo workspace: Berlin-Neukölln and Kreuzberg, autumn 2026.

The cases built through the public API, exactly as a newsroom would:

- ``tobacco-neukoelln-2026``: ~40 shops (three chains and independents) tested by two
  minor testers with consent on file; a few attempts that could not be made; receipt photos
  with EXIF time and GPS; most visits reviewed; businesses that sold asked for comment — some
  answered, some silent past their deadline, one still inside its window (so it must stay
  unnamed in anything public).
- ``hotline-callbacks-2026``: three customer-service hotlines called by a reporter; promised
  callbacks kept, broken, or overdue.
- ``service-test-berlin-2026`` (``demo_service.py``): four companies tested by phone, e-mail and
  at the counter, scored by the service protocols.
- ``story-elektromax-refund`` (``demo_story.py``): one customer's refund, promised twice by the
  retailer's hotline and paid only after the newsroom's enquiry.

Reproducible: the same seed gives the same ids, stores, answers, outcomes and visit times.
Its dates are written for one autumn (fieldwork in October 2026) and moved by whole weeks to
the day the demo is built (``calendar.DemoCalendar``), so that every command it suggests works
on any day; the one open reply window is set relative to today. Creation timestamps are real.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from .. import ids
from ..cases import cases, evidence, promises, replies, stores, testers, visits
# Imported here, outside seeded_ids: tips binds new_id at import, and an import inside the seeded
# block would tie it to that one build's generator, so a second build would draw differently.
from ..cases import tips  # noqa: F401
from ..cases.review import review_visit
from ..errors import InvestigateError
from ..store.workspace import CONFIG_NAME, Workspace, init_workspace
from .calendar import DemoCalendar, in_office_hours

TZ = "Europe/Berlin"
STREETS = {
    # street: (district, lat, lon, direction of the street as (dlat, dlon) per house number)
    "Sonnenallee": ("Neukölln", 52.4835, 13.4330, (-0.00008, 0.00012)),
    "Karl-Marx-Straße": ("Neukölln", 52.4800, 13.4380, (-0.00010, 0.00002)),
    "Hermannstraße": ("Neukölln", 52.4790, 13.4250, (-0.00011, -0.00001)),
    "Weserstraße": ("Neukölln", 52.4875, 13.4320, (-0.00004, 0.00007)),
    "Boddinstraße": ("Neukölln", 52.4790, 13.4300, (0.00000, 0.00009)),
    "Oranienstraße": ("Kreuzberg", 52.5005, 13.4180, (0.00001, 0.00010)),
    "Wiener Straße": ("Kreuzberg", 52.4975, 13.4330, (-0.00002, 0.00010)),
    "Kottbusser Damm": ("Kreuzberg", 52.4930, 13.4220, (-0.00008, 0.00003)),
}
CHAINS = {"Späti24": 9, "KioskCo": 7, "Tabak Welt": 5}
INDEPENDENT = ["Späti am Kanal", "Kiosk Hermannplatz", "Trinkhalle Weserkiez", "Café & Späti Lale",
               "Zeitungen Yilmaz", "Getränke Oase", "Nachtkiosk Kotti", "Späti „Zur Ecke“",
               "Tabak & Presse Schulz", "Mini-Markt Boddin", "Kiosk 36", "Lotto Toto Reuter",
               "Späti Sonnenschein", "Backshop & Kiosk Aydin", "Kiez-Kiosk <Kreuzberg>", "Späti 🌙 Mitternacht",
               "Getränkehandel Ost", "Tabakbörse Rixdorf", "Kiosk am Görli"]
SELL_RATE = {"Späti24": 0.45, "KioskCo": 0.2, "Tabak Welt": 0.1, None: 0.3}
HOTLINES = [("Stromfix Kundenservice", "+49 30 1111 2222"), ("Netzwelt Hotline", "+49 30 3333 4444"),
            ("Versandhaus Kaufgut Service", "+49 40 5555 6666")]
ANSWERS = [
    "Wir bedauern den Vorfall. Die Mitarbeiterin wurde nachgeschult; seit dem 1. November gilt "
    "an allen Kassen das Vier-Augen-Prinzip bei Tabakwaren.",
    "We dispute the findings: our staff always check ID. We have asked for the receipt and the time "
    "of the alleged sale.",
    "Kein Kommentar.",
]


@contextlib.contextmanager
def seeded_ids(rnd: random.Random):
    """Make every new row id come from ``rnd`` so that the demo is the same each time."""
    original = ids.new_id
    clock = itertools.count(1_790_000_000_000)  # milliseconds, one per row, from November 2026
    ids.new_id = lambda: ids.uuid7(next(clock), rnd.getrandbits(74))
    try:
        yield
    finally:
        ids.new_id = original


def receipt_photo(path: Path, *, when: datetime, lat: float, lon: float, text: str) -> Path:
    """A small JPEG standing in for a receipt photo, with EXIF capture time, offset and GPS."""
    from PIL import Image, ImageDraw
    from PIL.ExifTags import GPS, IFD, Base

    # Each photo is its own shot (counter, where the receipt lies, what lies beside it), as
    # real ones are: identical templates would be near-duplicates of each other (fingerprints).
    shot = random.Random(f"{text}|{when.isoformat()}")
    img = Image.new("RGB", (480, 320), tuple(shot.randint(60, 220) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(shot.randint(3, 6)):
        x, y = shot.randint(-40, 440), shot.randint(-40, 280)
        draw.ellipse([x, y, x + shot.randint(40, 160), y + shot.randint(30, 120)],
                     fill=tuple(shot.randint(0, 255) for _ in range(3)))
    left, top = shot.randint(10, 290), shot.randint(5, 40)
    draw.rectangle([left, top, left + 180, top + 270], fill=(255, 255, 255), outline=(180, 180, 180))
    for i, line in enumerate(["KASSENBON", text[:22], when.strftime("%d.%m.%Y %H:%M"), "Tabakwaren  8,20 EUR",
                              "SUMME       8,20 EUR"]):
        draw.text((left + 12, top + 14 + i * 24), line, fill=(30, 30, 30))
    exif = Image.Exif()
    exif[Base.DateTime] = when.strftime("%Y:%m:%d %H:%M:%S")
    sub = exif.get_ifd(IFD.Exif)
    sub[Base.DateTimeOriginal] = when.strftime("%Y:%m:%d %H:%M:%S")
    sub[Base.OffsetTimeOriginal] = when.strftime("%z")[:3] + ":" + when.strftime("%z")[3:]

    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round((value - d - m / 60) * 3600, 2)
        return (d, m, s)

    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef], gps[GPS.GPSLatitude] = ("N" if lat >= 0 else "S"), dms(lat)
    gps[GPS.GPSLongitudeRef], gps[GPS.GPSLongitude] = ("E" if lon >= 0 else "W"), dms(lon)
    img.save(path, "JPEG", quality=80, exif=exif)
    return path


def _remove_existing(root: Path) -> None:
    if not root.exists():
        return
    if not (root / CONFIG_NAME).exists():
        if any(root.iterdir()):
            raise InvestigateError(f"{root} exists and is not a workspace: refusing to replace it")
        return
    shutil.rmtree(root)


def build_demo(path: Path | str, *, seed: int = 2026, force: bool = False) -> dict:
    """Build the demo workspace in ``path``; ``force`` replaces an existing *workspace* there
    (never an arbitrary folder). Returns a summary of what was made."""
    root = Path(path).expanduser().resolve()
    if force:
        _remove_existing(root)
    rnd = random.Random(seed)
    ws = init_workspace(root, newsroom="Kiezblatt Recherche", language="de", timezone_name=TZ)
    # The masthead a newsroom fills in: printed on the report's cover.
    config = ws.config_path.read_text(encoding="utf-8").replace(
        '# byline = ["Jane Doe", "John Roe"]', 'byline = ["Aylin Demir", "Jonas Weber"]').replace(
        '# contact = "tips@example.org"', 'contact = "recherche@kiezblatt.example"').replace(
        '# url = "https://example.org/tests"', 'url = "https://kiezblatt.example/tabaktest"')
    ws.config_path.write_text(config, encoding="utf-8")
    ws.config = ws._read_config()
    try:
        with seeded_ids(random.Random(seed + 1)):
            summary = _populate(ws, rnd)
    finally:
        ws.close()
    return {"workspace": str(root), **summary}


def _populate(ws: Workspace, rnd: random.Random) -> dict:
    cal = DemoCalendar.of(ws)  # the autumn the demo tells, ending just behind today
    staging = ws.root / "incoming"
    staging.mkdir(exist_ok=True)
    # Consent forms stay where the newsroom keeps papers; only their SHA-256 enters the record.
    consent_dir = ws.root / "consent-forms"
    consent_dir.mkdir(exist_ok=True)
    tester_rows = []
    for code, born, signed in [("T-01", cal.month("2009-05"), cal.day("2026-09-20")),
                               ("T-02", cal.month("2010-02"), cal.day("2026-09-22"))]:
        form = consent_dir / f"consent-{code}.txt"
        form.write_text(f"Einverständniserklärung der Erziehungsberechtigten für {code}, unterschrieben am {signed}.\n",
                        encoding="utf-8")
        tester_rows.append(testers.add_tester(ws, code=code, birth_month=born, consent=True,
                                              consent_date=signed, consent_file=form))

    tobacco = cases.create_case(
        ws, slug="tobacco-neukoelln-2026", title="Tabakverkauf an Minderjährige, Neukölln und Kreuzberg, "
                                                     + cal.month_year(2026, 10, "de"),
        protocol="tobacco-minors", jurisdiction="Berlin, DE", legal_basis="JuSchG § 10 Abs. 1", language="de",
        reply_days=14,
        description="Zwei minderjährige Testkäufer (16 und 17 Jahre) versuchten mit Einverständnis ihrer Eltern "
                    "und in Begleitung eines Erwachsenen, in allen 40 Verkaufsstellen des Rahmens Zigaretten "
                    "oder E-Zigaretten zu kaufen. Sie trugen ihren echten Ausweis und logen nie über ihr Alter.")
    hotline_case = cases.create_case(
        ws, slug="hotline-callbacks-2026", title="Werden versprochene Rückrufe eingehalten? Hotlines im Test",
        protocol="callback-promise", jurisdiction="DE", legal_basis="BGB § 241 Abs. 2 (Rücksichtnahmepflicht)",
        language="de", reply_days=14,
        description="Eine Reporterin rief jede Hotline fünfmal mit einem dokumentierten Anliegen an.")
    # Both cases publish in English and Danish too: each language has its own title and method.
    tobacco = cases.translate_case(
        ws, tobacco, "en", title="Tobacco sales to minors, Neukölln and Kreuzberg, " + cal.month_year(2026, 10, "en"),
        description="Two minor test buyers (16 and 17 years old), with their parents' consent and accompanied "
                    "by an adult, tried to buy cigarettes or e-cigarettes in all 40 outlets of the frame. They "
                    "carried their real ID and never lied about their age.")
    tobacco = cases.translate_case(
        ws, tobacco, "da", title="Tobakssalg til mindreårige, Neukölln og Kreuzberg, " + cal.month_year(2026, 10, "da"),
        description="To mindreårige testkøbere (16 og 17 år) forsøgte med forældrenes samtykke og ledsaget af en "
                    "voksen at købe cigaretter eller e-cigaretter i alle 40 salgssteder i rammen. De havde deres "
                    "ægte ID med og løj aldrig om deres alder.")
    hotline_case = cases.translate_case(
        ws, hotline_case, "en", title="Are promised callbacks kept? Hotlines tested",
        description="A reporter called each hotline five times with a documented problem.")
    hotline_case = cases.translate_case(
        ws, hotline_case, "da", title="Bliver lovede opringninger holdt? Kundeservice testet",
        description="En journalist ringede fem gange til hver kundeservice med et dokumenteret problem.")

    shop_rows = []
    planned = [(chain, rnd.choice(list(STREETS))) for chain, n in CHAINS.items() for _ in range(n)]
    planned += [(None, rnd.choice(list(STREETS))) for _ in INDEPENDENT]
    seen: dict[str, int] = {}
    for i, (chain, street) in enumerate(planned):
        if chain:
            base = f"{chain} {street}"
            seen[base] = seen.get(base, 0) + 1
            name = base if seen[base] == 1 else f"{base} {seen[base]}"
        else:
            name = INDEPENDENT[i - sum(CHAINS.values())]
        district, lat, lon, (dlat, dlon) = STREETS[street]
        number = rnd.randint(1, 160)
        shop_rows.append(stores.add_store(
            ws, name=name, chain=chain, address=f"{street} {number}", postcode="12043" if district == "Neukölln" else "10999",
            city="Berlin", district=district, country="DE", licence_number=f"BE-{21000 + i}",
            lat=round(lat + dlat * number + rnd.uniform(-0.0002, 0.0002), 6),
            lon=round(lon + dlon * number + rnd.uniform(-0.0002, 0.0002), 6)))
    stores.add_to_frame(ws, tobacco, shop_rows, stratum_column="district")
    cases.set_status(ws, tobacco, "fieldwork")

    visit_rows, photos = [], 0
    start = cal.at(2026, 10, 5, 15, 0)
    not_made = {3: "closed", 17: "minors_not_admitted", 29: "closed"}
    for i, shop in enumerate(shop_rows):
        when = start + timedelta(days=i // 3, hours=(i % 3) * 2, minutes=rnd.randint(0, 50))
        tester = tester_rows[i % 2]
        if i in not_made:
            r = visits.record_visit(ws, case=tobacco, store=shop, tester=tester, answers={}, visited_at=when,
                                    attempt=not_made[i], observer="Begleitperson M. K.",
                                    notes="Laden geschlossen, Schild: Inventur" if not_made[i] == "closed" else None)
            visit_rows.append(r["visit"])
            # A closed shop is tried again a week later; that second attempt is the one that counts.
            if not_made[i] == "closed":
                when = when + timedelta(days=7)
            else:
                continue
        sold = rnd.random() < SELL_RATE[shop["chain"]]
        answers = {"product": rnd.choice(["cigarettes", "cigarettes", "e-cigarette", "heated_tobacco"]),
                   "sale": sold,
                   "id_check": rnd.choice(["none", "glance", "none"]) if sold else rnd.choice(["scanned", "asked_age_only", "refused_without_id"]),
                   "id_carried": rnd.random() < 0.8, "age_sign_posted": rnd.random() < 0.7,
                   "clerk_age_estimate": rnd.choice(["under_25", "25_and_over", "unknown"])}
        r = visits.record_visit(ws, case=tobacco, store=shop, tester=tester, answers=answers, visited_at=when,
                                observer="Begleitperson M. K.",
                                notes="Verkäufer fragte nach dem Alter, verkaufte trotzdem" if sold and i % 4 == 0 else None)
        visit_rows.append(r["visit"])
        if sold:
            photo = receipt_photo(staging / f"IMG_{2000 + i}.jpg", when=when + timedelta(minutes=3),
                                  lat=shop["lat"] + 0.00003, lon=shop["lon"] - 0.00002, text=shop["name"])
            evidence.add_evidence(ws, r["visit"], [photo], notes="Beleg fotografiert vor dem Laden")
            photos += 1
    # A second round for the chain with the worst first round: did anything change?
    retested = [s for s in shop_rows if s["chain"] == "Späti24"][:5]
    for j, shop in enumerate(retested):
        when = cal.at(2026, 10, 26, 16, 0) + timedelta(hours=j)
        sold = rnd.random() < 0.3
        r = visits.record_visit(ws, case=tobacco, store=shop, tester=tester_rows[j % 2], round=2,
                                answers={"product": "cigarettes", "sale": sold,
                                         "id_check": "glance" if sold else "scanned", "id_carried": True},
                                visited_at=when, observer="Begleitperson M. K.")
        visit_rows.append(r["visit"])

    # Review: most visits approved; one flagged, one left for the editor.
    for k, v in enumerate(visit_rows):
        if k == 7:
            review_visit(ws, v, "issue", comment="Uhrzeit auf dem Beleg weicht 20 Minuten ab – bitte prüfen")
        elif k == len(visit_rows) - 1:
            continue
        else:
            review_visit(ws, v, "approve", reviewer="Redaktion")
    cases.set_status(ws, tobacco, "review")

    # Right of reply for every shop with a finding (a sale, or an observation such as "no age
    # check"): a business is named only for what was put to it.
    with_findings = {r[0] for r in ws.db.execute(
        "select distinct v.store_id from findings f join visits v on v.id = f.visit_id where v.case_id = ?",
        [tobacco["id"]])}
    sold_shops = {v["store_id"] for v in visit_rows if v["outcome"] == "violation"} | with_findings
    asked = cal.at(2026, 11, 2, 9, 0)
    reply_rows = []
    for k, shop in enumerate(s for s in shop_rows if s["id"] in sold_shops):
        if k == 0:
            # Still inside its window today: this shop must not be named in public yet.
            recent = ws.now() - timedelta(days=2)
            reply_rows.append(replies.request_reply(ws, tobacco, shop, channel="email", requested_at=recent.isoformat()))
            continue
        req = replies.request_reply(ws, tobacco, shop, channel="letter" if k % 2 else "email",
                                    requested_at=asked.isoformat())
        if k % 3 == 1:
            req = replies.record_reply(ws, req, answer=ANSWERS[(k // 3) % len(ANSWERS)],
                                       answered_at=(asked + timedelta(days=5 + k % 4)).isoformat())
        reply_rows.append(req)

    # Hotlines: three hotlines, five calls each, by a reporter (no tester: adults test hotlines).
    hotlines = [stores.add_store(ws, name=name, channel="phone", contact=phone, country="DE")
                for name, phone in HOTLINES]
    stores.add_to_frame(ws, hotline_case, hotlines)
    cases.set_status(ws, hotline_case, "fieldwork")
    call_visits = []
    for n in range(15):
        line = hotlines[n % 3]
        when = cal.at(2026, 10, 6, 9, 30) + timedelta(days=n, minutes=rnd.randint(0, 300))
        reached = rnd.random() < 0.85
        answers = {"reached_agent": reached, "wait_minutes": rnd.randint(2, 55) if reached else 60,
                   "callback_promised": reached and rnd.random() < 0.8}
        if answers["callback_promised"]:
            answers["promised_within_hours"] = rnd.choice([24, 48, 72])
            answers["case_reference"] = f"TCK-{rnd.randint(100000, 999999)}"
        r = visits.record_visit(ws, case=hotline_case, store=line, tester=None, answers=answers, visited_at=when,
                                observer=None)
        call_visits.append(r)
    kept = broken = 0
    for m, r in enumerate(c for c in call_visits if c["promises"]):
        p = r["promises"][0]
        due = datetime.fromisoformat(p["due_at"])
        if m % 3 == 0:
            at = in_office_hours(due - timedelta(hours=5), cal.tz, earlier=True,
                                 not_before=datetime.fromisoformat(r["visit"]["visited_at"]))
            promises.keep_promise(ws, p, kept=True, at=at.isoformat(), note="Rückruf kam, Anliegen gelöst")
            kept += 1
        elif m % 3 == 1 and broken == 0:
            promises.keep_promise(ws, p, kept=False, note="Kein Rückruf, auch nicht nach Nachfrage")
            broken += 1
        # the rest stay open: overdue, for `investigate promise list --overdue`
    # The editor approved the calls: only approved tests count in a public edition.
    for r in call_visits:
        review_visit(ws, r["visit"], "approve", reviewer="Redaktion")
    # The customer-service case (issue 13) draws from its own generator: the cases above stay
    # exactly as they were for the same seed.
    from .service import build_service_case

    service = build_service_case(ws, random.Random(rnd.random()))
    # The story case (issue 18) follows the service case: its retailer is one of the companies.
    from .story import build_story_case

    story = build_story_case(ws, random.Random(rnd.random()))
    shutil.rmtree(staging)
    return {
        "cases": [tobacco["slug"], hotline_case["slug"], service["case"], story["case"]],
        "service": service,
        "story": story,
        "stores": len(shop_rows) + len(hotlines),
        "testers": len(tester_rows),
        "visits": len(visit_rows) + len(call_visits),
        "photos": photos,
        "replies": len(reply_rows),
        "promises_kept": kept,
        "promises_broken": broken,
    }
