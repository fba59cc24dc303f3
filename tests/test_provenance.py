"""Which package modules a step runs (provenance.module_files), the code inputs of every rule.

The line scan that finds a module's import statements is checked against a walk of the
module's whole syntax tree, which cannot miss one; both name modules the same way
(provenance.package_modules), and that naming is checked against a written-out set.
"""

from __future__ import annotations

import ast

import pytest

from msc_ascites.audit import provenance
from msc_ascites.audit.provenance import PACKAGE_DIR, module_files, package_modules

MODULES = sorted(PACKAGE_DIR.rglob("*.py"))


def _imports_by_walking(source: str, importer: str) -> frozenset[str]:
    return package_modules(ast.walk(ast.parse(source)), importer)


@pytest.mark.parametrize("path", MODULES, ids=provenance.module_name)
def test_the_line_scan_finds_what_a_full_parse_finds(path):
    text = path.read_text(encoding="utf-8")
    assert provenance._imports(path) == _imports_by_walking(text, provenance.module_name(path))


def test_every_form_of_import_is_found_and_prose_is_not(tmp_path):
    source = tmp_path / "example.py"
    source.write_text(
        '"""A module whose docstring says\n'
        "from the raw rows, import nothing; and\n"
        "    from .meld import words that are no code\n"
        "from here import (a bracket that this prose never closes\n"
        '"""\n'
        "from . import (\n"
        "    units,\n"
        "    visits,  # a comment ) with a bracket\n"
        ")\n"
        "from .contract import \\\n"
        "    TABLES\n"
        "import msc_ascites.report.formatting as fmt\n"
        "from msc_ascites.errors import UserError\n"
        "import os, msc_ascites.outputs\n"
        "from .no_such_module import x\n"
        "from .. import settings\n"
        "\n"
        "def later():\n"
        "    from ..stats.imputation import rubin\n"
        "    if True:\n"
        "        import msc_ascites.report.style\n",
        encoding="utf-8")
    # Read as if it were the module data/example.py: relative imports resolve from data/.
    expected = {"data.units", "data.visits", "data.contract", "report.formatting", "errors", "outputs",
                "settings", "stats.imputation", "report.style"}
    assert _imports_by_walking(source.read_text(encoding="utf-8"), "data.example") == expected
    # The docstring line "from .meld import ..." may be taken for code: it can only add a module.
    assert expected <= provenance._imports(source, "data.example") <= expected | {"data.meld"}


def test_module_files_follow_imports_transitively():
    files = module_files("report.render")
    names = {provenance.module_name(path) for path in files}
    assert files == sorted(files)
    assert {"report.render", "report.formatting", "sensitivity.grid", "stats.adjustment", "stats.lazy_scipy",
            "settings", "audit.provenance"} <= names
    for path in files:  # closed: nothing a listed module imports is missing
        assert provenance._imports(path) <= names
    assert "audit.trail" not in names and "reconstruction.seeds" not in names  # not simply every module
