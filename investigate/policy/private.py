"""The workspace's private strings, and the check that keeps them out of text meant for print.

Text that goes public — a correction, a case's title and method text, a reason printed in the
method, a business's answer — is written by people, and people quote: "Shop B (Kiosk am Park)
was tested by T-07". Such text is checked when it is recorded, against every string the
workspace must keep private:

- tester codes and observers' names;
- tip sources' contacts;
- the names, chains, addresses and licence numbers of the case's businesses that may not be
  named yet (conservatively: every finding that is not rejected must be covered by a closed
  reply request).

Texts and strings are compared as a reader reads them, whatever the spelling
(``policy.matching``). A match is refused with a one-line error that names the *kind* of string, never its value (the
error may be read over a shoulder or pasted into a chat). The publication policy checks the
same texts again when it publishes, with the exact naming of that moment
(``investigate.policy.texts``).
"""

from __future__ import annotations

import json

from ..errors import InvalidInput
from ..store.workspace import Workspace
from .coverage import (STORE_COLUMNS, case_requests, company_named, nameable_chains, nameable_store_ids, story_of,
                       visited_store_rows)
from .matching import PrivateMatcher, may_be_in, mentions

__all__ = ["MIN_LENGTH", "PrivateMatcher", "find_private", "mentions", "private_strings", "refuse_private"]

#: Strings shorter than this are not searched for: "A" or "7" would match everything.
MIN_LENGTH = 3

#: Words of a name that are not the name: "der" of "Maria von der Heide" is in every German text.
NAME_PARTICLES = {"von", "vom", "zum", "zur", "van", "der", "den", "del", "della", "des", "dos", "das", "ter", "ten",
                  "bin", "ibn", "abu", "mac", "san", "und", "and"}


def private_strings(ws: Workspace, case: dict | None = None, *, named: set[str] | None = None,
                    named_chains: set[str] | None = None, businesses: bool = True,
                    initials: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """(kind, value) for every private string. ``named``/``named_chains`` are the businesses
    that may be named; when not given, the conservative working rule decides.

    With ``initials`` (``matching.initials`` of a few texts), only the strings that could be
    found in those texts are certain to be among them: an unnamed business's name, address or
    licence number is left out when its first letters tell that it is not in them
    (``matching.may_be_in``)."""
    found: list[tuple[str, str]] = []
    found += [("a tester code", r[0]) for r in ws.db.execute("select code from testers")]
    found += [("an observer's name", r[0]) for r in ws.db.execute(
        "select distinct observer from visits where observer is not null")]
    if "tip_sources" in ws.db.table_names():
        found += [("a tip source's contact", r[0]) for r in ws.db.execute(
            "select contact from tip_sources where contact is not null")]
    if "story_sources" in ws.db.table_names():
        found += _story_person_strings(ws)
    if businesses and case is not None:
        if named is None:
            named = nameable_store_ids(ws, case, approved_only=False)
        if named_chains is None:
            named_chains = nameable_chains(ws, case, named, approved_only=False)
        has_tips = "tips" in ws.db.table_names()
        rows = _case_store_rows(ws, case, has_tips)
        chains_found = set(named_chains)  # each chain once: twenty thousand stores are of two hundred
        # (Each value tested in turn, not through a comprehension per store: that was half of
        # this pass over twenty thousand unnamed stores, 22 ms.)
        append = found.append
        for store_id, chain, _company_id, name, address, licence in rows:  # ``STORE_COLUMNS``
            # A chain that may not be named is private whoever its stores are: a store named by
            # its own reply (asked, window closed) whose visits are none of them publishable
            # leaves its chain with no published store, so unnameable — the soak of the
            # publication property found "Quorvex shops were visited." printed as written.
            if chain and chain not in chains_found:
                chains_found.add(chain)
                found.append(("an unnamed business's chain", chain))
            if store_id not in named:
                if name and (initials is None or may_be_in(name, initials)):
                    append(("an unnamed business's name", name))
                if address and (initials is None or may_be_in(address, initials)):
                    append(("an unnamed business's address", address))
                if licence and (initials is None or may_be_in(licence, initials)):
                    append(("an unnamed business's licence number", licence))
        if has_tips:
            # A tip's own words for a business it could not be tied to, and chains it names.
            for chain, company, store_id in ws.db.execute(
                    "select chain, company, store_id from tips where case_id = ?", [case["id"]]):
                if chain and chain not in named_chains:
                    found.append(("an unnamed business's chain", chain))
                if company and store_id not in named and not (chain and chain in named_chains):
                    found.append(("a business named in a tip", company))
        if (case.get("kind") or "") == "story":
            found += _story_company_strings(ws, case, named)
    # Each string once, in the order found: a chain's name came once per store of it (twenty
    # thousand stores in two hundred chains), and every copy was read and indexed again.
    return list(dict.fromkeys((kind, value.strip()) for kind, value in found
                              if value and len(value.strip()) >= MIN_LENGTH))


def _case_store_rows(ws: Workspace, case: dict, has_tips: bool) -> list[tuple]:
    """(id, *``STORE_COLUMNS``) of every store of the case, by id: those
    visited (``coverage.visited_store_rows``, read once for the naming too), and the targets,
    the stores asked and those tips name that no visit went to."""
    rows = visited_store_rows(ws, case)
    sources = ["case_stores", *(["tips"] if has_tips else [])]
    others = {store_id for (store_id,) in ws.db.execute(
        " union ".join(f"select store_id from {table} where case_id = ?" for table in sources),
        [case["id"]] * len(sources)) if store_id is not None}
    others.update(store_id for _, store_id, _ in case_requests(ws, case))  # read once for the naming too
    if others:
        others -= {row[0] for row in rows}
    if others:
        rows = sorted(rows + ws.db.execute(
            f"select id, {', '.join(STORE_COLUMNS)} from stores where id in (select value from json_each(?))",
            [json.dumps(sorted(others))]).fetchall(), key=lambda row: row[0])
    return rows


def _story_person_strings(ws: Workspace) -> list[tuple[str, str]]:
    """The person behind a story: their contact and address always; their name unless they
    consented — the whole name and each of its words, for an answer says "Frau Schmidt" or
    "Jana", not "Jana Schmidt"; and the source material of their documents (sender,
    recipients, the e-mail addresses and phone numbers in them), a business's own contact
    points aside: "service@shop.example" is the business speaking, not the person."""
    found: list[tuple[str, str]] = []
    address = ", ss.address" if "address" in ws.db["story_sources"].columns_dict else ", null"
    for name, contact, consent, where in ws.db.execute(
            f"select ss.name, ss.contact, s.name_consent{address} from story_sources ss "
            "join stories s on s.id = ss.story_id"):
        found += [("a story source's contact", contact), ("a story source's address", where)]
        if not consent and name:
            kind = "the name of a person who did not consent to be named"
            # Split at spaces only: a double name ("Müller-Lüdenscheidt") stays one word.
            found += [(kind, name)] + [(kind, part.strip(".,")) for part in name.split()
                                       if len(part) >= MIN_LENGTH and part.lower() not in NAME_PARTICLES]
    if "story_document_sources" in ws.db.table_names():
        business = {(r[0] or "").strip().lower() for r in ws.db.execute(
            "select contact from stores where contact is not null")}
        for (material,) in ws.db.execute("select found from story_document_sources where found is not null"):
            for value in material.splitlines():
                if value.strip().lower() not in business:
                    found.append(("an e-mail address or phone number from a story's documents", value))
    return found


def _story_company_strings(ws: Workspace, case: dict, named: set[str]) -> list[tuple[str, str]]:
    """A story's company and all its contact points are private until the company may be
    named, also those the case never tested (the person dealt with them)."""
    story = story_of(ws, case)
    if story is None or company_named(ws, case, named):
        return []
    company = ws.get("companies", story["company_id"])
    found = [("an unnamed business's name", company["name"])]
    for s in ws.db.query("select name, chain, address, contact, licence_number from stores where company_id = ?",
                         [company["id"]]):
        found += [("an unnamed business's name", s["name"]), ("an unnamed business's chain", s["chain"]),
                  ("an unnamed business's address", s["address"]), ("an unnamed business's contact", s["contact"]),
                  ("an unnamed business's licence number", s["licence_number"])]
    return found


def find_private(text: str | None, strings: list[tuple[str, str]]) -> str | None:
    """The kind of the first private string found in ``text``, or None."""
    return PrivateMatcher(strings).find(text)


def refuse_private(ws: Workspace, text: str | None, *, what: str, case: dict | None = None,
                   businesses: bool = True) -> None:
    """Raise InvalidInput when ``text`` holds a private string; the message names its kind."""
    kind = find_private(text, private_strings(ws, case, businesses=businesses))
    if kind:
        raise InvalidInput(f"the {what} contains {kind}: text that may be published must not "
                           "(rewrite it, e.g. 'Store B' or 'the tester')")
