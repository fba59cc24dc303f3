"""Which package modules a step runs, so a rule can list them as inputs; and the
identity of a file (its SHA-256, and the short id the report prints) and of the code (its git commit).

Snakemake reruns a job when its script changes, but the real work is in this
package; listing the modules a step imports (transitively, found by reading
their imports) makes a change to any of them rerun exactly the steps using it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PACKAGE = PACKAGE_DIR.name


#: Where an import statement can begin: a line's first word, with what continues it: a list in
#: parentheses (which holds names, commas and comments only) or lines ending in a backslash.
#: Docstring lines may match too: they do not parse, or can only add a module.
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*\((?:[^)#]|#[^\n]*+)*+\)"
                          r"|(?:from|import)[ \t](?:[^\n]*\\\n)*[^\n]*)", re.M)


def _import_statements(text: str):
    """The import statements of a module's text, each parsed on its own."""
    for match in _IMPORT_LINE.finditer(text):
        try:
            yield from ast.parse(match.group().strip()).body
        except SyntaxError:  # prose; what it ran into (a "(" without its ")") is read again
            yield from _import_statements(match.group().partition("\n")[2])


def _module_exists(dotted: str) -> bool:
    return (PACKAGE_DIR / (dotted.replace(".", "/") + ".py")).exists()


def _absolute(node: ast.ImportFrom, importer: str) -> str | None:
    """The dotted name inside the package that ``from ... import`` names, or None when outside it."""
    if node.level == 0:
        prefix = PACKAGE + "."
        return node.module[len(prefix):] if node.module and node.module.startswith(prefix) else None
    base = importer.split(".")[:-node.level] if node.level <= importer.count(".") + 1 else None
    if base is None:
        return None
    return ".".join(base + ([node.module] if node.module else []))


def package_modules(nodes, importer: str = "") -> frozenset[str]:
    """The package modules (dotted, e.g. ``stats.survival``) that the import statements among
    ``nodes`` (ast nodes) of module ``importer`` name: a module itself, or a package's module named
    in ``from package import module``."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            target = _absolute(node, importer)
            if target is not None:
                found.add(target)
                found.update(f"{target}.{a.name}" if target else a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name[len(PACKAGE) + 1:] for a in node.names if a.name.startswith(PACKAGE + "."))
    return frozenset(name for name in found if name and _module_exists(name))


def module_path(dotted: str) -> Path:
    """The source file of a package module named by its dotted name (``data.cleaning``)."""
    return PACKAGE_DIR / (dotted.replace(".", "/") + ".py")


def module_name(path: Path) -> str:
    """The dotted name of a package module file."""
    return ".".join(path.resolve().relative_to(PACKAGE_DIR).with_suffix("").parts)


@functools.cache
def _imports(path: Path, importer: str | None = None) -> frozenset[str]:
    """Package modules imported by one module file (read once: every rule asks).

    Only the lines that begin an import are parsed, not the whole file: every Snakemake
    start asks for every module, and parsing the package took 0.1-0.2 s of it.
    """
    text = path.read_text(encoding="utf-8")
    return package_modules(_import_statements(text), module_name(path) if importer is None else importer)


def module_files(*modules: str) -> list[Path]:
    """Source files of ``modules`` (dotted names) and of every package module they import, sorted."""
    todo, seen = list(modules), set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_imports(module_path(name)) - seen)
    return sorted(module_path(name) for name in seen)


#: Length of the provenance ids printed in the report: enough to name one file of a run.
SHORT_ID = 8


def sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def short_id(path: Path | str) -> str:
    """The provenance id of a file as the report prints it; `python -m msc_ascites trace` accepts it."""
    return sha256(path)[:SHORT_ID]


def git_state(root: Path) -> str:
    """The commit the workflow's code is at, and whether the tree had uncommitted changes."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return commit + (" (with uncommitted changes)" if dirty else "")
