"""The one publication policy: what any public output may count, name and print.

Every public byte asks this package three questions, and nothing else decides them:

1. **Which visits count?** (``counting``) Public figures count approved undercover visits
   only; the editors' working figures count every visit not rejected, and say how many are
   provisional (not yet approved). A rejected visit never counts anywhere.
2. **Which businesses may be named?** (``naming``, from the facts of ``coverage``) A business
   is named only when every finding to be published about it — observations included — was
   put to it in a reply request whose window has closed. A chain is named only when each of
   its published stores may be. Everything else gets a pseudonym, in every table and every
   "merged here" line.
3. **Which texts may be printed?** (``texts``, against the strings of ``private``)
   Corrections, the case's title and method text, reasons printed in the method and
   businesses' answers hold no private string (tester codes, observers, tip contacts, unnamed
   businesses' names, chains and addresses).

The pre-publication gate (``gate``) asks all three, plus the newsroom's checklist (with
``changes``: what a sign-off signed), before a public PDF, the public database or a public
export is written, and before a case becomes ``published`` (``cases.editorial.mark_published``).
Small groups are merged by ``cells``.

The policy reads the database and never imports the domain (``cases/``): the domain asks it
(a reply request hashes what it covers with ``coverage``, a text is checked against
``private`` when it is recorded), never the other way round.

The outputs that ask: the public PDF (``views.gather``), the reply letter
(``reports.build.build_letter``), the public database with its complaint tables
(``publish.public``), ``export --public`` (``publish.public.export_public`` and
``formats.export.export_lives``), the editors' canned queries (``publish.metadata``) and
the CLI's ``stats`` and ``fieldwork``.
"""

from .cells import DEFAULT_MIN_CELL, OTHER, min_cell, protect_groups
from .counting import PUBLIC, WORKING, case_counts, case_rates, visit_condition, visit_sql
from .naming import Naming, naming

__all__ = ["DEFAULT_MIN_CELL", "OTHER", "PUBLIC", "WORKING", "Naming", "case_counts", "case_rates", "min_cell", "naming",
           "protect_groups", "visit_condition", "visit_sql"]
