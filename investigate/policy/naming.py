"""Which businesses may be named: the second question every output asks.

``naming(ws, case)`` answers it once for one output, at one moment, and every table, chart,
list and sentence of that output takes its labels from the answer:

- a store is named when every finding to be published about it was put to it by a reply
  request whose window has closed (``coverage.naming_status``), or when it passed every
  test and the newsroom names the businesses that passed (``[publish] name_compliant =
  true``); else it is "Store A" in print and a stable pseudonym (``S-…``) in the public
  database;
- a chain is named when every one of its published stores may be; else "Chain A" — and then a
  store whose own name holds the chain's ("KioskCo Sonnenallee" beside "Chain C") is not named
  either (``chain_unnamed``), or the pseudonym would be hollow;
- a business that a tip names but the workspace cannot tie to one store or chain is "Business
  A": the tip's own text for the company is never printed;
- any printed text is redacted of private strings (``redact``).

Pseudonym letters follow a hash of the case and the name, not the alphabet, so their order
says nothing about the names behind them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from ..store.workspace import Workspace
from .counting import PUBLIC, approved_only
from .coverage import (case_chains, nameable_chains, naming_status, stores_that_passed, visited_store_rows,
                       visited_stores)
from .matching import initials, mentions
from .private import PrivateMatcher, private_strings


def letters(n: int) -> str:
    """A, B, … Z, AA, AB … for the n-th (from 0) thing not named."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = string.ascii_uppercase[r] + out
    return out


def _order_key(case: dict, value: str) -> str:
    return hashlib.sha256(f"{case['id']}:{value}".encode()).hexdigest()


def public_store_id(case: dict, store_id: str) -> str:
    """A pseudonym stable across versions of one case's publication, unlinkable across cases."""
    return "S-" + _order_key(case, store_id)[:10]


@dataclass
class Naming:
    """The naming of one case for one output. Plain data; build it with ``naming()``."""

    case: dict
    status: dict[str, str]
    named_stores: set[str]
    named_chains: set[str]
    passed: set[str] = field(default_factory=set)
    #: The private strings, read when first asked for (``private``): the checklist's naming of
    #: the working scope never prints a text, and reading sixty thousand strings of a case of
    #: twenty thousand stores took a tenth of a second.
    private_of: Callable[..., list[tuple[str, str]]] = lambda initials=None: []
    _private: list[tuple[str, str]] | None = None
    _store_letters: dict[str, str] = field(default_factory=dict)
    _unsettled_stores: list = field(default_factory=list)
    _chain_letters: dict[str, str] = field(default_factory=dict)
    _business_letters: dict[str, str] = field(default_factory=dict)
    _matcher: PrivateMatcher | None = None
    _redactions: Callable | None = None

    def store_named(self, store_id: str | None) -> bool:
        return bool(store_id) and store_id in self.named_stores

    def chain_named(self, chain: str | None) -> bool:
        return bool(chain) and chain in self.named_chains

    def chain_label(self, chain: str, word: str = "Chain") -> str:
        """The chain's name, or "Chain A" (``word`` in the output's language)."""
        if self.chain_named(chain):
            return chain
        if chain not in self._chain_letters:
            self._chain_letters[chain] = letters(len(self._chain_letters))
        return f"{word} {self._chain_letters[chain]}"

    def store_label(self, store_id: str, name: str | None, word: str = "Store") -> str:
        """The store's name, or its pseudonym: "Store A" (``word`` in the output's language),
        the same letter in the PDF, the letter and the public database. Letters follow a hash
        of the case and the store, fixed for the case's stores by ``prepare_stores``."""
        if self.store_named(store_id):
            return name or ""
        if self._unsettled_stores:
            self._settle_stores()
        if store_id not in self._store_letters:
            self._store_letters[store_id] = letters(len(self._store_letters))
        return f"{word} {self._store_letters[store_id]}"

    def business_label(self, key: str, word: str = "Business") -> str:
        """A business known only from a tip's text: always a pseudonym."""
        if key not in self._business_letters:
            self._business_letters[key] = letters(len(self._business_letters))
        return f"{word} {self._business_letters[key]}"

    def _in_hash_order(self, keys, named) -> list[str]:
        return sorted({k for k in keys if k and not named(k)}, key=lambda k: _order_key(self.case, k))

    def prepare_chains(self, chains) -> None:
        """Fix the chain letters in hash order before anything is labelled."""
        for chain in self._in_hash_order(chains, self.chain_named):
            self.chain_label(chain)

    @property
    def private(self) -> list[tuple[str, str]]:
        """(kind, value) of every string this output must not print."""
        if self._private is None:
            self._private = self.private_of()
        return self._private

    @property
    def matcher(self) -> PrivateMatcher:
        if self._matcher is None:
            self._matcher = _matcher_of(tuple(self.private))
        return self._matcher

    def prepare_stores(self, store_ids) -> None:
        """Fix the store letters in hash order before anything is labelled. The order is taken
        when the first store is labelled: an output that labels none (the checklist) does not
        hash twenty thousand stores."""
        self._unsettled_stores.append(list(store_ids))

    def _settle_stores(self) -> None:
        batches, self._unsettled_stores = self._unsettled_stores, []  # emptied first: store_label asks again
        for store_ids in batches:
            for store_id in self._in_hash_order(store_ids, self.store_named):
                self.store_label(store_id, None)

    def private_kind(self, text: str | None) -> str | None:
        return self.matcher.find(text)

    def private_kinds(self, texts: list[str | None]) -> list[str | None]:
        """``private_kind`` of each of a few texts (the checklist's printed ones), without
        indexing every private string for them (``PrivateMatcher.for_texts``)."""
        matcher = self._matcher
        if matcher is None:
            # Private strings that no word of the texts could begin are not read at all
            # (``matching.initials``); those read are filtered exactly (``for_texts``).
            strings = self._private if self._private is not None else self.private_of(initials=initials(texts))
            matcher = PrivateMatcher.for_texts(strings, texts)
        return [matcher.find(text) for text in texts]

    def redact(self, text: str | None, mark: str = "[…]") -> str | None:
        """``text`` with every private string replaced by ``mark``: the last line of defence
        for text recorded before a business became unnameable again. The same few texts come
        again and again (a finding's title and statute on every violation: 40,000 redactions of
        a handful of texts in a 100k public copy), so the latest few thousand are remembered."""
        if self._redactions is None:
            self._redactions = functools.lru_cache(maxsize=4096)(self.matcher.redact)
        return self._redactions(text, mark)

    def why_unnamed(self, store_id: str) -> str | None:
        """None for a named store; else ``passed`` (it passed every test: nothing was put to
        it), ``not_asked``, ``window_open``, ``not_covered`` or ``chain_unnamed`` (its name holds
        the name of a chain that may not be named)."""
        if self.store_named(store_id):
            return None
        if self.status.get(store_id) == "chain_unnamed":  # asked or passed, but its name names the chain
            return "chain_unnamed"
        return "passed" if store_id in self.passed else self.status.get(store_id, "not_asked")

    def counts(self, store_ids=None) -> dict[str, int]:
        """How many businesses of the case (or of ``store_ids``) are named, and why the others
        are not."""
        out = {"named": 0, "passed": 0, "not_asked": 0, "window_open": 0, "not_covered": 0, "chain_unnamed": 0}
        for store_id in self.status if store_ids is None else store_ids:
            why = self.why_unnamed(store_id) or "named"
            out[why] = out.get(why, 0) + 1
        return out


@functools.lru_cache(maxsize=2)
def _matcher_of(private: tuple[tuple[str, str], ...]) -> PrivateMatcher:
    """One matcher per set of private strings: a publish or a checklist names a case more than
    once with the same strings, and indexing the sixty thousand of a case of twenty thousand
    stores took a quarter of a second each time. (The matcher's own state is a cache.)"""
    return PrivateMatcher(list(private))


def _chained(ws: Workspace, case: dict, named: set[str]) -> list[tuple[str, str, str]]:
    """(id, name, chain) of the ``named`` stores that belong to a chain and to no company: from
    the case's visited stores (``visited_store_rows``, read once for the naming), and any named
    store no visit went to looked up. Looking all twenty thousand up, once every business was
    asked, took 35 ms for each scope."""
    found, seen = [], set()
    for store_id, chain, company_id, name, *_ in visited_store_rows(ws, case):
        if store_id in named:
            seen.add(store_id)
            if chain is not None and company_id is None:
                found.append((store_id, name, chain))
    if len(seen) < len(named):
        found += ws.db.execute("select id, name, chain from stores where chain is not null and company_id is null "
                               "and id in (select value from json_each(?))", [json.dumps(sorted(named - seen))])
    return found


def naming(ws: Workspace, case: dict, *, on: datetime | None = None, scope: str = PUBLIC) -> Naming:
    """Who may be named in an output of ``case`` made at ``on`` (default now)."""
    flag = approved_only(scope)
    visited = visited_stores(ws, case, approved_only=flag)  # one pass over the visits, shared
    status = naming_status(ws, case, on=on, approved_only=flag, visited=visited)
    passed = stores_that_passed(ws, case, approved_only=flag, visited=visited)
    if ws.setting("publish", "name_compliant", False) is True:
        status.update({store_id: "named" for store_id in passed})
    named = {s for s, why in status.items() if why == "named"}
    chains = nameable_chains(ws, case, named, approved_only=flag, visited=visited)
    # A named store whose name holds its unnamed chain's would name the chain in the same
    # publication: it waits for its chain (which stays unnamed either way). A company's contact
    # point is left to the company's rule (``coverage.company_named``): its "chain" is the
    # company itself, named or not with all its contact points.
    for store_id, name, chain in _chained(ws, case, named):
        if chain not in chains and mentions(name, chain):
            named.discard(store_id)
            status[store_id] = "chain_unnamed"
    frozen_named, frozen_chains = frozenset(named), frozenset(chains)
    result = Naming(case=case, status=status, named_stores=named, named_chains=chains, passed=passed,
                    private_of=lambda initials=None: private_strings(ws, case, named=frozen_named,
                                                                     named_chains=frozen_chains, initials=initials))
    chains = set(case_chains(ws, case).values())
    if "tips" in ws.db.table_names():
        chains |= {r[0] for r in ws.db.execute(
            "select distinct chain from tips where case_id = ? and chain is not null", [case["id"]])}
    result.prepare_chains(chains)
    result.prepare_stores(visited)
    return result
