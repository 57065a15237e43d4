"""The demo's customer-service case: four companies tested by phone, e-mail and at the counter.

A telecom, an energy supplier, a bank and an electronics retailer, each with a hotline, a
service e-mail address and a branch, contacted about 80 times over three weeks in October 2026
with the built-in service protocols. Promises are kept, kept late, broken, or left open (and so
overdue by the promise clock); some e-mails are still unanswered (censored reply times); one
bill is wrong and one price was raised at the till. Every company was asked for comment; three
answered. Built through the public API, seeded, like the rest of the demo.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ..cases import cases, companies, editorial, promises, visits
from ..cases.review import review_visit
from ..store.workspace import Workspace
from .calendar import DemoCalendar, in_office_hours

SLUG = "service-test-berlin-2026"
#: name, sector, hotline, e-mail, branch address, how good its service is (0..1)
COMPANIES = [
    ("TeleNord Mobilfunk", "telecom", "+49 30 2000 1000", "service@telenord.example", "Karl-Marx-Straße 101", 0.45),
    ("Spreestrom Energie", "energy", "+49 30 2000 2000", "kundenservice@spreestrom.example", "Sonnenallee 12", 0.65),
    ("Kiezbank", "bank", "+49 30 2000 3000", "hilfe@kiezbank.example", "Hermannstraße 40", 0.85),
    ("ElektroMax", "retail", "+49 30 2000 4000", "service@elektromax.example", "Karl-Marx-Straße 66", 0.6),
]
ANSWERS = {
    "TeleNord Mobilfunk": "Wir nehmen die Ergebnisse ernst. Die Wartezeiten in unserer Hotline waren im Oktober "
                          "wegen einer Systemumstellung ungewöhnlich lang. Die Aussage zum Widerrufsrecht war falsch; "
                          "wir haben alle Mitarbeitenden darauf hingewiesen.",
    "Spreestrom Energie": "Die fehlerhafte Abrechnung beruhte auf einem falsch übertragenen Zählerstand. "
                          "Die Kundin erhält eine berichtigte Rechnung; wir bedauern die Verzögerung.",
    "ElektroMax": "Der Preisunterschied an der Kasse geht auf ein nicht aktualisiertes Regaletikett zurück. "
                  "Nach unseren Regeln gilt der ausgezeichnete Preis; die Differenz wird erstattet.",
}


def build_service_case(ws: Workspace, rnd: random.Random) -> dict:
    cal = DemoCalendar.of(ws)
    case = cases.create_case(
        ws, slug=SLUG, title="Kundenservice im Test: Telefon, E-Mail und Filiale, " + cal.month_year(2026, 10, "de"),
        protocol="phone-hotline", jurisdiction="Berlin, DE",
        legal_basis="BGB § 241 Abs. 2, § 312k; UWG § 5", language="de", reply_days=14,
        description="Zwei Reporterinnen testeten drei Wochen lang den Kundenservice von vier Unternehmen "
                    "(Mobilfunk, Energie, Bank, Elektronikhandel) über die Hotline, per E-Mail und in der "
                    "Filiale, jeweils mit vorbereiteten, überprüfbaren Anliegen. Bewertet wurden Höflichkeit, "
                    "Respekt, Verbindlichkeit, Ehrlichkeit und Lösung nach festen Punkteschemata.")
    # The case publishes in English and Danish too: each language has its own title and method.
    case = cases.translate_case(
        ws, case, "en", title="Customer service tested: phone, e-mail and branch, " + cal.month_year(2026, 10, "en"),
        description="For three weeks, two reporters tested the customer service of four companies (mobile, "
                    "energy, bank, electronics retail) on the hotline, by e-mail and in the branch, each time with "
                    "prepared, verifiable requests. Courtesy, respect, commitment, honesty and resolution were "
                    "scored on fixed point schemes.")
    case = cases.translate_case(
        ws, case, "da", title="Kundeservice i test: telefon, e-mail og filial, " + cal.month_year(2026, 10, "da"),
        description="To journalister testede i tre uger kundeservicen hos fire virksomheder (mobil, energi, bank, "
                    "elektronikforhandler) via hotlinen, pr. e-mail og i filialen, hver gang med forberedte "
                    "henvendelser, der kan efterprøves. Der blev givet point for høflighed, respekt, pålidelighed, "
                    "ærlighed og løsning efter faste pointskemaer.")
    cases.set_status(ws, case, "fieldwork")
    points: dict[str, dict] = {}
    for name, sector, phone, email, address, _ in COMPANIES:
        company = companies.add_company(ws, name=name, sector=sector, country="DE")
        points[name] = {
            "company": company,
            "phone": companies.add_contact_point(ws, company, channel="phone", contact=phone,
                                                 name=f"{name} Hotline", country="DE"),
            "email": companies.add_contact_point(ws, company, channel="email", contact=email,
                                                 name=f"{name} E-Mail-Service", country="DE"),
            "in_person": companies.add_contact_point(ws, company, channel="in_person", name=f"{name} Filiale",
                                                     address=address, city="Berlin", district="Neukölln",
                                                     country="DE"),
        }
    start = cal.at(2026, 10, 12, 9, 0)
    recorded = []
    for name, _, _, _, _, q in COMPANIES:
        cp = points[name]
        plan = ["phone"] * 8 + ["email"] * 6 + ["in_person"] * 6
        rnd.shuffle(plan)
        for n, channel in enumerate(plan):
            day = n * 15 // len(plan)  # fifteen working days in three weeks
            when = start + timedelta(days=day + 2 * (day // 5), hours=rnd.randint(0, 7), minutes=rnd.randint(0, 59))
            protocol, answers = _answers(rnd, channel, q, when)
            if name == "Spreestrom Energie" and channel == "phone" and n == plan.index("phone"):
                protocol, answers = "billing-dispute", {
                    "disputed_at": when, "first_answer_at": when + timedelta(minutes=6), "bill_wrong": True,
                    "error_admitted": "after_insisting", "misstated_rights": "no", "courtesy": 3, "listened": "yes",
                    "correction_promised_at": when + timedelta(days=7), "corrected": "no"}
            if name == "ElektroMax" and channel == "in_person" and n == plan.index("in_person"):
                protocol, answers = "price-honesty", {
                    "quoted": "39.90 EUR", "charged": "59.90 EUR", "greeting": "neutral", "full_attention": "yes",
                    "corrected_when_asked": "corrected_after_insisting",
                    "refund_promised_at": when + timedelta(days=3)}
            if answers.get("reached_person") != "no" and (channel != "email" or "first_reply_at" in answers):
                answers = {**answers, "representative": _representative(name, channel, when)}  # someone answered
            r = visits.record_visit(ws, case=case, store=cp[channel], tester=None, answers=answers,
                                    visited_at=when, protocol=protocol,
                                    observer=None, notes="Skript B, Anliegen: Tarifwechsel" if n % 7 == 0 else None)
            recorded.append((name, q, r))
    kept = late = broken = 0
    for name, q, r in recorded:
        for p in r["promises"]:
            due = datetime.fromisoformat(p["due_at"])
            roll = rnd.random()
            if p["what"] == "Corrected bill":
                continue  # the wrong bill: still not corrected, overdue by the clock
            if roll < q * 0.8:
                at = in_office_hours(due - timedelta(hours=rnd.randint(1, 20)), cal.tz, earlier=True,
                                     not_before=datetime.fromisoformat(r["visit"]["visited_at"]))
                promises.keep_promise(ws, p, kept=True, at=at.isoformat())
                kept += 1
            elif roll < q * 0.8 + 0.12:
                at = in_office_hours(due + timedelta(hours=rnd.randint(6, 60)), cal.tz, earlier=False)
                promises.keep_promise(ws, p, kept=True, at=at.isoformat(), note="kam verspätet")
                late += 1
            elif roll < q * 0.8 + 0.3:
                promises.keep_promise(ws, p, kept=False, note="nichts kam, auch nicht nach Nachfrage")
                broken += 1
            # else: left open, overdue by the clock
    for _, _, r in recorded:
        review_visit(ws, r["visit"], "approve", reviewer="Redaktion")
    cases.set_status(ws, case, "review")
    asked = cal.at(2026, 11, 3, 10, 0)
    replies = 0
    for name, *_ in COMPANIES:
        company = points[name]["company"]
        replies += len(companies.request_company_reply(ws, case, company, channel="email",
                                                       requested_at=asked.isoformat()))
        if name in ANSWERS:
            companies.record_company_reply(ws, case, company, answer=ANSWERS[name],
                                           answered_at=(asked + timedelta(days=6)).isoformat())
    editorial.sign_off(ws, case, role="legal counsel", signed_by="Justiziariat", note="Wertungsschemata geprüft")
    return {"case": SLUG, "companies": len(COMPANIES), "contacts": len(recorded), "promises_kept": kept,
            "promises_late": late, "promises_broken": broken, "reply_requests": replies}


#: Who answers on each channel, most often first; a bank's counter is a teller's.
REPRESENTATIVES = {"phone": ["agent"] * 6 + ["supervisor", "chatbot"], "email": ["agent"] * 3 + ["chatbot"],
                   "in_person": ["sales_assistant"] * 3 + ["cashier", "supervisor"]}


def _representative(company: str, channel: str, when: datetime) -> str:
    """Who answered one contact: drawn from a generator of its own, seeded by the contact, so
    that the demo's other draws (and so its every figure) stay as they were before it asked."""
    if company == "Kiezbank" and channel == "in_person":
        return "teller"
    return random.Random(f"{company} {channel} {when.isoformat()}").choice(REPRESENTATIVES[channel])


def _pick(rnd: random.Random, q: float, good, middle, bad):
    roll = rnd.random()
    return good if roll < q else middle if roll < q + (1 - q) / 2 else bad


def _answers(rnd: random.Random, channel: str, q: float, when: datetime) -> tuple[str, dict]:
    """Answers of one contact for a company of quality ``q``: better companies answer sooner,
    more politely and more correctly."""
    if channel == "phone":
        reached = rnd.random() < 0.7 + 0.3 * q
        if not reached:
            return "phone-hotline", {"reached_person": "no", "wait": f"{rnd.randint(20, 35)} min"}
        answers = {"reached_person": "yes",
                   "wait": f"{round(rnd.uniform(0.3, 1.0) + rnd.expovariate(q * 0.6 + 0.1), 1)} min",
                   "greeting": _pick(rnd, q, "friendly", "neutral", "curt"),
                   "listened": "yes" if rnd.random() < 0.4 + 0.6 * q else "no",
                   "answer_correct": _pick(rnd, q, "correct", "partly", "wrong"),
                   "misstated_rights": "yes" if rnd.random() < 0.15 * (1 - q) else "no",
                   "solved_first_contact": "yes" if rnd.random() < q else "no",
                   "escalation": rnd.choice(["n/a", "n/a", _pick(rnd, q, "offered", "on_request", "refused")])}
        if answers["solved_first_contact"] == "no":
            answers["callback_promised_at"] = when + timedelta(hours=rnd.choice([24, 48, 72]))
        return "phone-hotline", answers
    if channel == "email":
        answers = {"sent_at": when, "personal_reply": "n/a", "question_answered": "n/a", "answer_correct": "n/a",
                   "misstated_rights": "n/a"}
        if rnd.random() < 0.5:
            answers["reply_promised_at"] = when + timedelta(hours=48)
        if rnd.random() < 0.55 + 0.4 * q:
            reply = when + timedelta(minutes=round(rnd.expovariate(1 / (600 + 3000 * (1 - q)))) + 20)
            answers.update(first_reply_at=reply, polite=rnd.randint(3, 5) if rnd.random() < q else rnd.randint(1, 3),
                           personal_reply="yes" if rnd.random() < q else "no",
                           question_answered=_pick(rnd, q, "fully", "partly", "not"),
                           answer_correct=_pick(rnd, q, "correct", "partly", "wrong"), misstated_rights="no")
            if answers["question_answered"] == "fully":
                answers["resolved_at"] = reply + timedelta(hours=rnd.randint(0, 30))
        return "email-webform", answers
    served = round(rnd.uniform(0.5, 4) + rnd.expovariate(q * 0.3 + 0.05), 1)
    answers = {"greeted_within": f"{round(rnd.uniform(0.1, 1.5) / (q + 0.2), 1)} min", "served_within": f"{served} min",
               "asked_politely_to_wait": "n/a" if served < 2 else ("yes" if rnd.random() < q else "no"),
               "full_attention": "yes" if rnd.random() < 0.3 + 0.7 * q else "no", "friendliness": max(1, min(5, round(1 + 4 * q + rnd.uniform(-1.2, 1.2)))),
               "information_correct": _pick(rnd, q, "correct", "partly", "wrong"), "misstated_rights": "no",
               "solved": "yes" if rnd.random() < q else "no"}
    if answers["solved"] == "no" and rnd.random() < 0.6:
        answers["follow_up_promised_at"] = when + timedelta(days=rnd.choice([2, 3, 5]))
    return "counter-branch", answers
