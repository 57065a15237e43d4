"""The demo's story case: a refund promised twice by an electronics retailer's hotline and never
paid, a wrong bill instead, two documents (the hotline's e-mail and the bill as a PDF), a
reporter's own test call, the retailer's answer, and the refund paid after the enquiry.

The retailer is the service case's ElektroMax (``demo_service.py``), so the story and the
service test share its contact points. The customer complained by e-mail (a tip); six more
complaints about ElektroMax refunds are on file. She did not consent to be named: the report
calls her "eine Kundin aus Neukölln". Built through the public API, with fixed dates.
"""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

from ..cases import cases, companies, editorial, stories, tips, visits
from ..cases.review import review_visit
from ..store.workspace import Workspace
from .calendar import DemoCalendar

SLUG = "story-elektromax-refund"
COMPANY = "ElektroMax"
PERSON_NAME = "Jana Kowalczyk"
PERSON_CONTACT = "jana.kowalczyk@example.org"
ANSWER = ("Wir bedauern die lange Wartezeit sehr. Die Erstattung war durch einen Fehler in unserem Retourensystem "
          "blockiert; die Bearbeitungsgebühr wurde zu Unrecht berechnet und ist storniert. Wir überweisen die 249 Euro "
          "in den nächsten Tagen und haben das Hotline-Team erneut geschult.")

EML = """From: ElektroMax Kundenservice <service@elektromax.example>
To: {contact}
Date: {date}
Subject: Ihre Rückerstattung, Vorgang R-2026-18817
Message-ID: <r-2026-18817@elektromax.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Sehr geehrte Kundin,

wie telefonisch besprochen erstatten wir Ihnen den Kaufpreis von 249,00 EUR für den
zurückgegebenen Staubsauger innerhalb von 14 Tagen auf Ihr Konto.

Mit freundlichen Grüßen
Ihr ElektroMax Kundenservice
"""

BILL = """<html><head><meta charset="utf-8"><style>body{{font-family:sans-serif;font-size:11pt}}
td{{padding:2mm 4mm}}</style></head><body>
<h2>ElektroMax GmbH · Rechnung 2026-104233</h2><p>Datum: {date} · Vorgang R-2026-18817</p>
<table><tr><td>Bearbeitungsgebühr Rücknahme</td><td>49,90 EUR</td></tr>
<tr><td><b>Zu zahlen</b></td><td><b>49,90 EUR</b></td></tr></table>
<p>Bitte überweisen Sie den Betrag innerhalb von 14 Tagen.</p></body></html>"""


def _documents(folder: Path, cal: DemoCalendar) -> tuple[Path, Path]:
    from weasyprint import HTML

    eml = folder / "elektromax-erstattung.eml"
    eml.write_text(EML.format(contact=PERSON_CONTACT, date=format_datetime(cal.at(2026, 9, 16, 11, 40))),
                   encoding="utf-8")
    bill = folder / "elektromax-rechnung-2026-104233.pdf"
    HTML(string=BILL.format(date=f"{cal.at(2026, 10, 6):%d.%m.%Y}")).write_pdf(bill)
    return eml, bill


def build_story_case(ws: Workspace, rnd: random.Random) -> dict:
    cal = DemoCalendar.of(ws)
    at = lambda *a: cal.at(*a).isoformat()  # noqa: E731
    company = companies.get_company(ws, COMPANY)
    hotline = next(s for s in companies.contact_points(ws, company) if s["channel"] == "phone")
    # Earlier complaints about ElektroMax refunds: the similar complaints beside the story.
    start = cal.at(2025, 3, 4, 9, 0)
    for n in range(6):
        tips.add_tip(ws, received_at=(start + timedelta(days=97 * n + rnd.randint(0, 20))).isoformat(),
                     channel=rnd.choice(["email", "phone", "web_form"]), company=COMPANY, issue="Erstattung",
                     what_happened="Rückgabe angenommen, Erstattung nicht erhalten.")
    tip = tips.add_tip(ws, received_at=at(2026, 10, 23, 8, 12), channel="email", company=COMPANY,
                       issue="Erstattung", contact=PERSON_CONTACT, wants="ihr Geld zurück",
                       what_happened="Zweimal wurde mir am Telefon die Erstattung zugesagt, gezahlt wurde nie. "
                                     "Stattdessen kam eine Rechnung über eine Bearbeitungsgebühr.")
    made = stories.create_story(
        ws, slug=SLUG, title="Zweimal versprochen, nie gezahlt: eine Erstattung bei ElektroMax", tip=tip,
        company=company, person_label="eine Kundin aus Neukölln", person_name=PERSON_NAME,
        jurisdiction="Berlin, DE", legal_basis="BGB §§ 346, 355, 357", language="de", reply_days=14,
        description="Die Reporterin sammelte die Unterlagen der Kundin (E-Mail der Hotline, Rechnung), prüfte "
                    "sie, rekonstruierte den Ablauf, rief die Hotline selbst mit einem vergleichbaren Anliegen an "
                    "und legte ElektroMax jeden Punkt vor der Veröffentlichung zur Stellungnahme vor.")
    case = made["case"]
    cases.set_status(ws, case, "fieldwork")
    with tempfile.TemporaryDirectory() as tmp:
        eml, bill = _documents(Path(tmp), cal)
        stories.add_event(ws, case, at=at(2026, 9, 14, 10, 20), channel="counter", source="person",
                          what="Die Kundin gibt einen defekten Staubsauger (249 Euro) in der Filiale zurück.")
        first = stories.add_event(ws, case, at=at(2026, 9, 16, 11, 5), channel="phone", source="person",
                                  what="Die Hotline sagt die Erstattung des Kaufpreises zu.",
                                  promise="Erstattung von 249 Euro binnen 14 Tagen", due=cal.day("2026-09-30"))
        stories.add_event(ws, case, at=None, channel="email", source="document", documents=[eml],
                          what="Der Kundenservice bestätigt die Erstattung per E-Mail.")
        second = stories.add_event(ws, case, at=at(2026, 10, 2, 15, 30), channel="phone", source="person",
                                   what="Nach Ablauf der Frist sagt die Hotline die Erstattung ein zweites Mal zu.",
                                   promise="Erstattung von 249 Euro binnen einer Woche", due=cal.day("2026-10-09"))
        stories.add_event(ws, case, at=at(2026, 10, 6, 9, 0), channel="letter", source="document", documents=[bill],
                          what="Statt der Erstattung kommt eine Rechnung über 49,90 Euro Bearbeitungsgebühr.")
    # The reporter's own test call, with a comparable return.
    when = cal.at(2026, 10, 27, 14, 10)
    test = visits.record_visit(ws, case=case, store=hotline, tester=None, visited_at=when, protocol="phone-hotline",
                               answers={"reached_person": "yes", "wait": "23 min", "greeting": "neutral",
                                        "listened": "yes", "answer_correct": "wrong", "misstated_rights": "yes",
                                        "solved_first_contact": "no", "escalation": "refused",
                                        "callback_promised_at": when + timedelta(hours=48)},
                               notes="Reporterin, Anliegen: Rückgabe eines Toasters")
    review_visit(ws, test["visit"], "approve", reviewer="Redaktion")
    cases.set_status(ws, case, "review")
    stories.request_story_reply(ws, case, channel="email", requested_at=at(2026, 11, 5, 10, 0))
    stories.record_story_answer(ws, case, answer=ANSWER, answered_at=at(2026, 11, 12, 16, 45))
    # The refund paid after our enquiry kept both promises, late: the figures tell what the outcome does.
    for promise in (first, second):
        stories.keep_promise(ws, stories.get_event(ws, case, promise["id"]), kept=True, at=at(2026, 11, 18, 9, 0))
    stories.record_outcome(ws, case, at=at(2026, 11, 18, 9, 0),
                           what=f"Nach unserer Anfrage wurden die 249 Euro am {cal.long_day(2026, 11, 18, 'de')} erstattet; "
                                "die Gebührenrechnung wurde storniert.")
    # The story publishes in English and Danish too: title, method and how the person is described,
    # written once the company answered (a title naming it is refused while it may not be named).
    case = cases.translate_case(
        ws, case, "en", title="Promised twice, never paid: a refund at ElektroMax", person="a customer from Neukölln",
        description="The reporter collected the customer's documents (the hotline's e-mail, the bill), checked "
                    "them, reconstructed what happened, called the hotline herself with a comparable request and "
                    "put every point to ElektroMax for comment before publication.")
    case = cases.translate_case(
        ws, case, "da", title="Lovet to gange, aldrig betalt: en tilbagebetaling hos ElektroMax",
        person="en kunde fra Neukölln",
        description="Journalisten samlede kundens dokumenter (hotlinens e-mail, regningen), kontrollerede dem, "
                    "rekonstruerede forløbet, ringede selv til hotlinen med en tilsvarende henvendelse og forelagde "
                    "ElektroMax hvert punkt til kommentar før offentliggørelsen.")
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Justiziariat",
                       note="Unterlagen und Zeitleiste geprüft")
    return {"case": SLUG, "events": len(stories.events(ws, case)), "first_promise": first["id"],
            "similar": stories.similar_complaints(ws, case)["count"]}
