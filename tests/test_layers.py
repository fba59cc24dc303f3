"""The package's folders are its layers, and imports go one way: down.

Each layer may import the layers listed for it and nothing above. The statistics know nothing of
the cohort's tables, the report is imported by nothing below it, and the reconstruction's
generator does not use the cleaning code (a cohort it makes is checked by that code, not built with it).
"""

from __future__ import annotations

import pytest

from msc_ascites.audit import provenance

#: What each layer may import besides itself. The top-level modules are the core:
#: errors and file writing (imported by all), the registries, and the settings read from config.
MAY_IMPORT = {
    "core": {"data"},  # settings and study read the contract's codes and units
    "data": {"core"},
    "stats": {"core"},
    "analysis": {"core", "data", "stats"},
    "sensitivity": {"core", "data", "stats", "analysis"},
    "audit": {"core", "data", "analysis"},
    "report": {"core", "data", "stats", "analysis", "sensitivity", "audit"},
    "reconstruction": {"core", "data", "stats", "analysis", "sensitivity"},
}
#: The core modules that may import the data layer (the others import only core modules); products
#: names the contract's death code in the registry of endpoints.
CORE_READING_DATA = {"products", "settings", "study"}


def layer(module: str) -> str:
    head = module.split(".")[0]
    return head if "." in module else "core"


MODULES = {provenance.module_name(path): path for path in sorted(provenance.PACKAGE_DIR.rglob("*.py"))
           if path.stem not in {"__init__", "__main__"}}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    here = layer(module)
    allowed = MAY_IMPORT[here] | {here}
    if here == "core" and module not in CORE_READING_DATA:
        allowed = {"core"}
    upward = sorted(m for m in provenance._imports(MODULES[module]) if layer(m) not in allowed)
    assert not upward, f"{module} ({here}) imports {upward}"


def test_the_generator_does_not_use_the_cleaning_code():
    files = provenance.module_files("reconstruction.generate")
    assert provenance.module_path("data.cleaning") not in files
    assert provenance.module_path("data.rawio") not in files


@pytest.mark.parametrize("package", sorted({m.split(".")[0] for m in MODULES if "." in m}))
def test_subpackages_import_nothing_when_imported(package):
    """The Snakefile imports light modules at parse time; a subpackage's __init__ must not pull in scipy."""
    assert (provenance.PACKAGE_DIR / package / "__init__.py").read_text() == ""
