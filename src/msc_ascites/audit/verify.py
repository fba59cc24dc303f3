"""Whether anything changed since the run: every file against results/manifest.json, the manifest
against the crate's record of it, and the crate against the one the manifest makes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .crate import crate_text
from .plan import CRATE, MANIFEST
from .provenance import sha256
from .trail import read_json, shown


def verify(results: Path | str = "results") -> tuple[list[dict], int]:
    """Every difference between the files now and the manifest (changed, missing, or not listed),
    and how many files the manifest lists.

    Each difference names what depends on the file (every result made from it,
    directly or not). The manifest itself is checked against the hash the crate holds,
    and the crate against the one the manifest makes.
    """
    results = Path(results)
    manifest_path, crate = results / MANIFEST, results / CRATE
    recorded = _manifest_hash_in(crate)
    differences = []
    if recorded and recorded != sha256(manifest_path):
        differences.append({"file": shown(manifest_path), "change": "changed", "expected": recorded,
                            "actual": sha256(manifest_path), "used_by": [shown(crate)]})
    try:
        manifest = read_json(manifest_path)
    except ValueError:  # an edit broke it: nothing else can be checked
        return differences or [{"file": shown(manifest_path), "change": "not valid JSON", "expected": recorded,
                                "actual": sha256(manifest_path), "used_by": []}], 0
    if not differences and crate.is_file():
        expected = hashlib.sha256(crate_text(manifest_path, crate).encode("utf-8")).hexdigest()
        if expected != sha256(crate):
            differences.append({"file": shown(crate), "change": "changed", "expected": expected,
                                "actual": sha256(crate), "used_by": []})
    files = manifest["files"]
    used_by: dict[str, set[str]] = {}
    for name, entry in files.items():
        for source in entry.get("inputs", []):
            used_by.setdefault(source, set()).add(name)

    def dependants(name: str) -> list[str]:
        found, todo = set(), [name]
        while todo:
            for user in used_by.get(todo.pop(), ()):
                if user not in found:
                    found.add(user)
                    todo.append(user)
        return sorted(found)

    for name, entry in files.items():
        actual = sha256(name) if Path(name).is_file() else None
        if actual != entry["sha256"]:
            differences.append({"file": name, "change": "changed" if actual else "missing",
                                "expected": entry["sha256"], "actual": actual, "used_by": dependants(name)})
    unlisted = set(manifest["unlisted"])
    for path in sorted(p for p in results.rglob("*") if p.is_file()):
        if shown(path) not in files and shown(path) not in unlisted:
            differences.append({"file": shown(path), "change": "not in the manifest", "expected": None,
                                "actual": sha256(path), "used_by": []})
    return differences, len(files)


def _manifest_hash_in(crate: Path) -> str | None:
    """The manifest's SHA-256 as the crate records it; None without a crate or when an edit broke it
    (then the crate, made again from the manifest, differs)."""
    try:
        return {e["@id"]: e.get("sha256") for e in read_json(crate)["@graph"]}.get(MANIFEST)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def verify_text(differences: list[dict], checked: int) -> str:
    if not differences:
        return f"verified: {checked} files match the manifest\n"
    lines = [f"{len(differences)} difference(s) from the manifest:"]
    for d in differences:
        lines.append(f"  {d['file']}: {d['change']}")
        lines.append(f"    expected {d['expected'] or '(not listed)'}")
        lines.append(f"    actual   {d['actual'] or '(no file)'}")
        if d["used_by"]:
            shown_users = ", ".join(d["used_by"][:8]) + (f" and {len(d['used_by']) - 8} more"
                                                         if len(d["used_by"]) > 8 else "")
            lines.append(f"    used by {len(d['used_by'])}: {shown_users}")
    return "\n".join(lines) + "\n"
