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
