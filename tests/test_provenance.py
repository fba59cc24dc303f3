"""Which package modules a step runs (provenance.module_files), the code inputs of every rule.

The expected sets come from reading each module whole with the ast module: a statement-by-
statement walk that cannot miss an import, against which the faster line scan is checked.
"""

from __future__ import annotations

import ast

import pytest

from msc_ascites import provenance
from msc_ascites.provenance import PACKAGE, PACKAGE_DIR, module_files

MODULES = sorted(PACKAGE_DIR.glob("*.py"))


def _imports_by_walking(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE + "."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith(PACKAGE + "."))
    return {name for name in found if (PACKAGE_DIR / f"{name}.py").exists()}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_the_line_scan_finds_what_a_full_parse_finds(path):
    assert provenance._imports(path) == _imports_by_walking(path.read_text(encoding="utf-8"))


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
        "import msc_ascites.formatting as fmt\n"
        "from msc_ascites.errors import UserError\n"
        "import os, msc_ascites.outputs\n"
        "from .no_such_module import x\n"
        "\n"
        "def later():\n"
        "    from .imputation import rubin\n"
        "    if True:\n"
        "        import msc_ascites.style\n",
        encoding="utf-8")
    expected = {"units", "visits", "contract", "formatting", "errors", "outputs", "imputation", "style"}
    assert _imports_by_walking(source.read_text(encoding="utf-8")) == expected
    # The docstring line "from .meld import ..." may be taken for code: it can only add a module.
    assert expected <= provenance._imports(source) <= expected | {"meld"}


def test_module_files_follow_imports_transitively():
    files = module_files("report")
    names = {path.stem for path in files}
    assert files == sorted(files)
    assert {"report", "figures", "style", "sensitivity", "settings", "provenance"} <= names
    for path in files:  # closed: nothing a listed module imports is missing
        assert provenance._imports(path) <= names
    assert "audit" not in names and "seeds" not in names  # not simply every module
