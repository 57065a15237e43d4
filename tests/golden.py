"""The demo's public outputs as text: the snapshot that proves a code move changed no byte.

Issue 26 moves every module of the package into layers "with behaviour unchanged". This script
builds the demo workspace with the clock frozen, publishes it and renders every public report
and every reply letter, then extracts

- the public database row by row (every table, rows sorted) and its Datasette metadata;
- the text of every public PDF (each case in English, German and Danish) and of the letter to
  every business asked for comment, with the log checkpoint each PDF carries;
- the one-line refusals of what cannot be published (they are behaviour too).

What differs from run to run is normalised (``normalise``), nothing else: random ids, the
signing key, and what the key, the workspace id or a random id reaches (signatures, log roots).

    python tests/golden.py            # rewrite tests/data/golden/ (only before a move!)
    python tests/golden.py --raw DIR  # the same files unnormalised, to see what a run varies

``tests/test_golden.py`` builds it again and compares.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
TZ = ZoneInfo("Europe/Berlin")
#: After every dated thing the demo records (its story's refund is 18 November 2026): no visit
#: or event is in the future. The one reply window the demo opens relative to today is open.
FROZEN_AT = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
LANGS = ("en", "de", "da")
OVERRIDE = "golden snapshot: the demo's checklist stays open on purpose"


def _pdf_text(path: Path) -> str:
    """Every page's text, then every embedded file (the log checkpoint) as text."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    parts = [f"pages: {len(reader.pages)}"]
    for n, page in enumerate(reader.pages, 1):
        parts.append(f"--- page {n}\n{page.extract_text()}")
    for name, contents in sorted(reader.attachments.items()):
        for data in contents:
            parts.append(f"--- attachment {name}\n{data.decode('utf-8')}")
    return "\n".join(parts) + "\n"


def _database_rows(path: Path) -> str:
    """Every table's columns and rows, rows sorted as their masked text (a random value must
    not decide the order, or numbering the values by first appearance would vary)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        parts = []
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' order by name")]
        for table in tables:
            cur = conn.execute(f"select * from [{table}]")
            columns = [d[0] for d in cur.description]
            rows = [json.dumps(dict(zip(columns, row)), ensure_ascii=False, sort_keys=False) for row in cur]
            rows.sort(key=lambda line: (mask(line), line))
            parts.append(f"== {table} ({len(rows)} rows) {', '.join(columns)}")
            parts.extend(rows)
        return "\n".join(parts) + "\n"
    finally:
        conn.close()


def _refusal(fn, *args, **kwargs) -> str | None:
    """None when ``fn`` worked, else the one line a user would read."""
    from investigate.errors import InvestigateError

    try:
        fn(*args, **kwargs)
    except InvestigateError as ex:
        return f"{type(ex).__name__}: {ex}"
    return None


def build(root: Path) -> dict[str, str]:
    """Build, publish and render everything in ``root``; return file name -> raw text."""
    from investigate.cases.cases import get_case
    from investigate.demo.build import build_demo
    from investigate.publish.public import build_public
    from investigate.reports.build import build_letter, build_report
    from investigate.store.workspace import Workspace

    files: dict[str, str] = {}
    refusals: list[str] = []
    with time_machine.travel(FROZEN_AT, tick=False):
        summary = build_demo(root / "ws")
        with Workspace(root / "ws") as ws:
            slugs = summary["cases"]
            for slug in slugs:
                case = get_case(ws, slug)
                for lang in LANGS:
                    out = root / "pdf" / f"report-{slug}-{lang}.pdf"
                    why = _refusal(build_report, ws, case, edition="public", lang=lang, override=OVERRIDE, out=out)
                    if why:
                        refusals.append(f"report {slug} {lang}: {why}")
                    else:
                        files[f"report-{slug}-{lang}.txt"] = _pdf_text(out)
            publishable = []
            for slug in slugs:
                why = _refusal(build_public, ws, root / "try" / slug, slugs=[slug], override=OVERRIDE, record=False)
                if why:
                    refusals.append(f"publish {slug}: {why}")
                else:
                    publishable.append(slug)
            built = build_public(ws, root / "public", slugs=publishable, override=OVERRIDE)
            files["public-db.txt"] = _database_rows(Path(built["database"]))
            files["public-metadata.json"] = Path(built["metadata"]).read_text(encoding="utf-8")
            # Each business asked for comment gets its letter on the day after the request, when
            # its deadline is still ahead (a letter asks for an answer by a date to come).
            pairs = list(ws.db.query(
                "select c.slug, r.store_id, s.name, max(r.requested_at) as asked from replies r "
                "join cases c on c.id = r.case_id join stores s on s.id = r.store_id "
                "group by c.slug, r.store_id order by c.slug, s.name, asked"))
            letters: dict[str, list[str]] = {}
            for n, pair in enumerate(pairs, 1):
                case = get_case(ws, pair["slug"])
                store = ws.get("stores", pair["store_id"])
                for lang in LANGS:
                    with time_machine.travel(datetime.fromisoformat(pair["asked"]) + timedelta(hours=1), tick=False):
                        out = root / "pdf" / f"letter-{n}-{lang}.pdf"
                        why = _refusal(build_letter, ws, case, store, lang=lang, out=out)
                    text = f"refused: {why}\n" if why else _pdf_text(out)
                    letters.setdefault(pair["slug"], []).append(f"=== letter to {pair['name']} ({lang})\n{text}")
            for slug, texts in letters.items():
                files[f"letters-{slug}.txt"] = "".join(texts)
    files["refusals.txt"] = "".join(line + "\n" for line in refusals)
    return files


# -- what varies from run to run ----------------------------------------------------------------


def _wrapped(*classes: str) -> str:
    """A token of these characters, one class per character, which a PDF may have broken over
    lines anywhere: its width depends on the random characters, so the break moves too."""
    return "\\n?".join(classes)


HEX, B64 = "[0-9a-f]", "[A-Za-z0-9+/=]"
UUID = _wrapped(*[HEX] * 8, "-", *[HEX] * 4, "-", *[HEX] * 4, "-", *[HEX] * 4, "-", *[HEX] * 12)
ORIGIN = r"investigate\.log/\n?" + UUID  # a PDF may break the line after the slash too
#: (pattern, placeholder name), in order: a match is replaced by ``<name-N>``, N counting the
#: distinct values (line breaks left out) in order of first appearance within one file, so
#: which value equals which stays visible. Everything here comes from the signing key (made
#: at random with the workspace), the workspace id, or the tips' random ids and the keyed
#: hashes of sources that the log's entries hold.
RANDOM = [
    # A signed note's signature line: key name, then base64 of key id and Ed25519 signature.
    (re.compile(r"(?<=— )" + ORIGIN + r"\s+" + _wrapped(*[B64] * 92)), "signature"),
    # The verifier key: name, key id, base64 of the key.
    (re.compile(ORIGIN + r"\n?\+" + _wrapped(*[HEX] * 8) + r"\n?\+" + _wrapped(*[B64] * 44)), "key"),
    # The log's origin line names the workspace id.
    (re.compile(ORIGIN), "origin"),
    # The log's root: a line of its own in a checkpoint, hex in the public database.
    (re.compile(r"(?:(?<=\n)|(?<=\\n))[A-Za-z0-9+/]{43}=(?=\n|\\n)"), "root"),
    (re.compile(r'(?<="root_hash": ")[0-9a-f]{64}'), "root"),
    # Row ids (the demo's tips take random ones).
    (re.compile(UUID), "id"),
]


def mask(text: str) -> str:
    """``text`` with every random value replaced by its bare placeholder (for sorting)."""
    for pattern, name in RANDOM:
        text = pattern.sub(f"<{name}>", text)
    return text


def normalise(text: str) -> str:
    """``text`` with every random value numbered by its first appearance, and the folder the
    package is installed in (error messages name its protocol files) as ``<package>``."""
    import investigate

    text = text.replace(str(Path(investigate.__file__).resolve().parent), "<package>")
    for pattern, name in RANDOM:
        seen: dict[str, int] = {}

        def number(match: re.Match, name=name, seen=seen) -> str:
            value = re.sub(r"\s", "", match.group(0))
            return f"<{name}-{seen.setdefault(value, len(seen) + 1)}>"

        text = pattern.sub(number, text)
    return text


def snapshot() -> dict[str, str]:
    """The normalised snapshot of a fresh build."""
    with tempfile.TemporaryDirectory() as tmp:
        return {name: normalise(text) for name, text in build(Path(tmp)).items()}


def write(files: dict[str, str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.name != "README.md":
            old.unlink()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--raw"]:
        with tempfile.TemporaryDirectory() as tmp:
            write(build(Path(tmp)), Path(sys.argv[2]))
    else:
        write(snapshot(), GOLDEN)
