"""The layers are a contract (issue 26): arrows run down only, the faces never import each other,
and there is no import cycle anywhere. The contracts live in pyproject.toml ([tool.importlinter]);
import-linter reads every import of the package, those inside functions too, so a cycle cannot
hide in a deferred import again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import investigate

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(investigate.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    """lint-imports with the repository's contracts over the package found in ``where``."""
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
                          cwd=where, env=env, capture_output=True, text=True, timeout=300)


def test_the_package_keeps_its_layers_faces_apart_and_no_cycle():
    result = lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize("module, line, broken", [
    # The store reaching up to the domain, hidden in a function as the old cycles were.
    ("store/lookup.py", "def _upward():\n    from ..cases import cases  # noqa: F401\n",
     "investigate.store is not allowed to import investigate.cases"),
    # The policy asking the domain: the policy reads the database, never cases/.
    ("policy/naming.py", "from ..cases import replies  # noqa: F401\n",
     "investigate.policy is not allowed to import investigate.cases"),
    # One face importing another.
    ("publish/public.py", "from ..reports import render  # noqa: F401\n",
     "investigate.publish is not allowed to import investigate.reports"),
    # Two modules of one package importing each other.
    ("cases/cases.py", "def _cycle():\n    from . import stories  # noqa: F401\n", "No import cycle anywhere BROKEN"),
])
def test_an_import_that_runs_upward_or_in_a_circle_fails_the_contract(tmp_path, module, line, broken):
    copy = tmp_path / "investigate"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    with open(copy / module, "a", encoding="utf-8") as fp:
        fp.write("\n\n" + line)
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout, result.stdout


def test_the_checklist_imports_neither_the_protocols_model_nor_what_records_visits(workspace, tobacco_case):
    """An editor runs the checklist at deadline, on cases of a million visits, where its start is
    a third of its time. It asks whether the case's protocol is the newsroom's own without
    loading a protocol (the model, its parser and msgspec took 16 ms), and it lives in a module
    of its own, apart from what recording and reviewing visits import."""
    probe = ("import sys\nfrom investigate.cli import main\ntry:\n    main(sys.argv[1:])\n"
             "except SystemExit as ex:\n    assert not ex.code, ex.code\nprint(' '.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe, "-w", str(workspace.root), "checklist", "tobacco-nk"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    *printed, modules = out.stdout.splitlines()
    assert any("legal_signoff" in line for line in printed)  # the checklist ran
    loaded = set(modules.split())
    assert "investigate.policy.gate" in loaded
    assert not loaded & {"msgspec", "investigate.protocol.model", "investigate.protocol.parse",
                         "investigate.cases.visits", "investigate.cases.review"}
