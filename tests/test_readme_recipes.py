"""The README's recipes for real layouts run as printed (issue 24): each command that names a
file is run, word for word, on a fixture in the real layout it describes, and the recipe in
``visit import --help`` agrees with the README's (running both adds nothing twice)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from investigate.cli import cli

from conftest import DATA

README = Path(__file__).resolve().parent.parent / "README.md"
# The file each recipe names → a fixture in that real layout (see tests/data/README.md and
# tests/data/layouts/ORIGIN.md for what each imitates).
FILES = {
    "./lexington-lives": DATA / "lives-lexington",
    "./sf-lives": DATA / "layouts" / "lives-sf",
    "compliance_checks.csv": DATA / "layouts" / "fda-search-export.csv",
    "chicago.csv": DATA / "layouts" / "chicago-results.csv",
    "complaints.csv": DATA / "cfpb" / "complaints.csv",
}


def commands(text: str) -> list[list[str]]:
    """Every `investigate …` command of the README's indented blocks, continuation lines joined,
    comments dropped, `a && b` split; as argument lists without the program name."""
    out, pending = [], ""
    for line in text.splitlines():
        if not line.startswith("    "):
            pending = ""
            continue
        if not pending and not line.strip().startswith("investigate "):
            continue  # prose in a block (a layout diagram, a config snippet)
        pending += line.strip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        words = shlex.split(pending, comments=True)
        pending = ""
        while words and words[0] == "investigate":
            end = words.index("&&") if "&&" in words else len(words)
            out.append(words[1:end])
            words = words[end + 1:]
    return out


def recipes() -> list[list[str]]:
    """The recipes for real layouts, in README order: those naming a file of ``FILES`` and
    the case they need."""
    found = []
    for words in commands(README.read_text(encoding="utf-8")):
        if any(w in FILES for w in words) or words[:3] == ["case", "new", "chicago"]:
            found.append([str(FILES.get(w, w)) for w in words])
        elif words[:1] == ["leads"] and found and found[-1][:2] == ["tip", "import"]:
            found.append(words)
    return found


def run(workspace, words):
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), *words], catch_exceptions=False)
    assert result.exit_code == 0, (words, result.output)
    return result


def test_the_readme_recipes_for_real_layouts_run_as_printed(workspace):
    found = recipes()
    # Every layout the README describes is exercised: a recipe dropped from the README (or
    # renamed) must show here, not pass quietly.
    named = {w for words in found for w in words}
    assert {str(p) for p in FILES.values()} <= named, named
    for words in found:
        run(workspace, words)
    chicago = {r["attempt"]: r for r in workspace.db.query(
        "select v.* from visits v join cases c on c.id = v.case_id where c.slug = 'chicago'")}
    assert workspace.db.execute("select count(*) from visits v join cases c on c.id = v.case_id "
                                "where c.slug = 'chicago'").fetchone()[0] == 8
    assert {"completed", "closed", "other", "not_found"} <= set(chicago)


def test_the_help_recipe_after_the_readme_recipe_adds_nothing(workspace):
    for words in recipes():
        if words[:2] == ["store", "import"] or words[:3] == ["case", "new", "chicago"] or "chicago" in words:
            run(workspace, words)
    help_text = run(workspace, ["visit", "import", "--help"]).output
    recipe = [w for w in commands("\n".join("    " + ln.strip() for ln in
                                            help_text.split("Example", 1)[1].splitlines()[1:]
                                            if ln.strip().startswith(("investigate", "--"))))][0]
    assert recipe[:2] == ["visit", "import"]
    again = json.loads(run(workspace, [*[str(FILES.get(w, w)) for w in recipe], "--json"]).output)
    assert again["visits"] == 0 and again["already_imported"] == 8
