"""Bad files, not bad values: YAML that does not parse, pipes, devices, directories, symlinks out
of the raw folder, alias bombs, oversized exports, and configs that fail the schema, each run
through the real `snakemake` command as a user would.

Each must end in one line naming the file (and line or key), what is wrong and what to do; exit
status 1; no traceback; and within 60 s (a named pipe used to block forever, nested YAML aliases
to run for minutes). The section "Files and configuration" of docs/bad_input_matrix.md is
generated from CASES (``python tests/test_bad_input_files.py``); a test fails when they differ.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from msc_ascites import safe_files
from msc_ascites.errors import FileError
from workflow_runs import MINI_COHORT, ROOT, snakemake_command

DOC = ROOT / "docs" / "bad_input_matrix.md"
SECTION = "## Files and configuration"
#: No case may take longer (the pipe and the alias bomb used to hang).
LIMIT_SECONDS = 60
INVENTORY = "results/ingest/raw_inventory.json"

#: Nine levels of nine aliases: 9**7 values once expanded, from 400 bytes.
LAUGHS = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg"))


@dataclass(frozen=True)
class FileCase:
    id: str
    file: str
    what: str                              # the corruption, for the doc
    setup: Callable[[Path, Path], None]    # (raw folder, test folder): corrupt the copy
    message: str                           # the whole stderr line; <raw>, <tmp> stand for the folders
    args: tuple[str, ...] = ()             # more snakemake arguments (--configfile, --config values)
    target: str = "-n"                     # "-n": stops when the Snakefile parses; else the file to build
    env: dict = field(default_factory=dict)


def write(name: str, data: str | bytes) -> Callable[[Path, Path], None]:
    def setup(raw: Path, tmp: Path) -> None:
        path = tmp / name
        path.unlink(missing_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return setup


def replace_with(name: str, make: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    """Remove ``name`` and let ``make(path, tmp)`` put something else in its place."""
    def setup(raw: Path, tmp: Path) -> None:
        path = tmp / name
        path.unlink()
        make(path, tmp)
    return setup


def outside_link(path: Path, tmp: Path) -> None:
    (tmp / "elsewhere.csv").write_bytes((MINI_COHORT / path.name).read_bytes() if path.suffix == ".csv"
                                        else b"date_formats: {labs: DD/MM/YYYY}\n")
    path.symlink_to(tmp / "elsewhere.csv")


def published(old: str, new: str, inside: bool = True) -> Callable[[Path, Path], None]:
    """The shipped cohort's published figures with ``old`` replaced, as pub.yaml in the raw folder (or beside
    it), named by cohort.yaml as study.published."""
    def setup(raw: Path, tmp: Path) -> None:
        text = (ROOT / "resources" / "raw" / "hua2020_abstract.yaml").read_text(encoding="utf-8")
        assert old in text, old
        (raw if inside else tmp).joinpath("pub.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
        write(COHORT, LABS + f"study: {{title: T, published: {'' if inside else '../'}pub.yaml}}\n")(raw, tmp)
    return setup


COHORT = "raw/cohort.yaml"
LABS = "date_formats:\n  labs: DD/MM/YYYY\n"
ERR = "config error: <raw>/cohort.yaml"
CASES = [
    FileCase("cohort_yaml_syntax", "cohort.yaml", "a key indented by one space", write(COHORT, LABS + " arms: 1\n"),
             f"{ERR}, line 3: not valid YAML: expected <block end>, but found '<block mapping start>'; "
             "fix the file (indentation, quotes, colons)"),
    FileCase("cohort_yaml_unclosed_quote", "cohort.yaml", "a quote left open", write(COHORT, LABS + 'x: "open\n'),
             f"{ERR}, line 4: not valid YAML: found unexpected end of stream; fix the file (indentation, quotes, colons)"),
    FileCase("cohort_yaml_latin1", "cohort.yaml", "Latin-1 `é` in line 2", write(COHORT, b"date_formats:\n  l\xe9: 1\n"),
             f"{ERR}, line 2: not valid UTF-8 (byte 17); save the file as UTF-8"),
    FileCase("cohort_yaml_utf16", "cohort.yaml", "UTF-16 with its byte-order mark",
             write(COHORT, LABS.encode("utf-16")), f"{ERR}, line 1: not valid UTF-8 (byte 0); save the file as UTF-8"),
    FileCase("cohort_yaml_python_tag", "cohort.yaml", "`!!python/object/apply:os.system`",
             write(COHORT, LABS + 'x: !!python/object/apply:os.system ["touch pwned"]\n'),
             f"{ERR}, line 3: could not determine a constructor for the tag "
             "'tag:yaml.org,2002:python/object/apply:os.system'; settings are plain YAML values, remove the tag"),
    FileCase("cohort_yaml_directory", "cohort.yaml", "a directory named cohort.yaml",
             replace_with(COHORT, lambda path, tmp: path.mkdir()),
             f"{ERR}: is a directory, not a regular file; replace it with the file itself"),
    FileCase("cohort_yaml_named_pipe", "cohort.yaml", "a named pipe (used to block forever)",
             replace_with(COHORT, lambda path, tmp: os.mkfifo(path)),
             f"{ERR}: is a named pipe, not a regular file; replace it with the file itself"),
    FileCase("cohort_yaml_billion_laughs", "cohort.yaml", "nested aliases, 9**7 values (used to run for minutes)",
             write(COHORT, LAUGHS), f"{ERR}, line 6: YAML aliases expand to more than 100000 values; "
             "write the settings out without nested aliases (&/*)"),
    FileCase("cohort_yaml_duplicate_key", "cohort.yaml", "`labs` given twice under `date_formats` (the last used to win)",
             write(COHORT, LABS + "  labs: YYYY-MM-DD\n"),
             f"{ERR}, line 3: key 'labs' is given twice; keep one"),
    FileCase("cohort_yaml_recursive_alias", "cohort.yaml", "an alias inside its own anchor",
             write(COHORT, LABS + "x: &x [*x]\n"), f"{ERR}, line 3: a YAML alias refers to itself; write the value out"),
    FileCase("cohort_yaml_too_large", "cohort.yaml", "2 MB of comments", write(COHORT, LABS + "#" * 2**21 + "\n"),
             f"{ERR}: larger than the limit of 1048576 bytes; is it the right file? "
             "(raise MSC_MAX_TABLE_BYTES for a larger export)"),
    FileCase("cohort_yaml_symlink_outside", "cohort.yaml", "a symlink to a file outside the raw folder",
             replace_with(COHORT, outside_link),
             f"{ERR}: a symlink to <tmp>/elsewhere.csv, outside <raw>; copy the file into <raw>"),
    FileCase("cohort_yaml_dangling_symlink", "cohort.yaml", "a symlink to nothing",
             replace_with(COHORT, lambda path, tmp: path.symlink_to("gone.yaml")),
             f"{ERR}: a symlink to gone.yaml, which does not exist; put the file itself there"),
    FileCase("published_directory", "cohort.yaml", "`study.published` names a directory",
             lambda raw, tmp: ((raw / "figures").mkdir(), write(COHORT, LABS + "study: {title: T, published: figures}\n")(raw, tmp)),
             "config error: <raw>/figures: is a directory, not a regular file; replace it with the file itself"),
    FileCase("published_bad_yaml", "cohort.yaml", "`study.published` names a file that is not YAML",
             lambda raw, tmp: ((raw / "pub.yaml").write_text("a: [1\n"), write(COHORT, LABS + "study: {title: T, published: pub.yaml}\n")(raw, tmp)),
             "config error: <raw>/pub.yaml, line 2: not valid YAML: expected ',' or ']', but got '<stream end>'; "
             "fix the file (indentation, quotes, colons)"),
    FileCase("schema_cohort_yaml_type", "cohort.yaml", "an arm label that is a number",
             write(COHORT, LABS + "arms: {treatment: {label: 5}}\n"),
             f"{ERR}: cohort.arms.treatment.label: 5 is not of type 'string'"),
    FileCase("schema_cohort_yaml_unknown_key", "cohort.yaml", "a misspelt key `date_format`",
             write(COHORT, "date_format:\n  labs: DD/MM/YYYY\n"),
             f"{ERR}: cohort: Additional properties are not allowed ('date_format' was unexpected)"),
    FileCase("schema_configfile_type", "extra.yaml", "`analysis.primary_week: forty-eight` in a --configfile",
             write("extra.yaml", "analysis: {primary_week: forty-eight}\n"),
             "config error: <tmp>/extra.yaml: analysis.primary_week: 'forty-eight' is not of type 'integer'",
             args=("--configfile", "<tmp>/extra.yaml")),
    FileCase("schema_configfile_list_item", "extra.yaml", "a visit without its window in a --configfile",
             write("extra.yaml", "visits:\n  scheduled:\n  - {week: 48, label: W48}\n"),
             "config error: <tmp>/extra.yaml: visits.scheduled[0]: 'window_days' is a required property",
             args=("--configfile", "<tmp>/extra.yaml")),
    FileCase("schema_ae_terms_not_yaml", "extra.yaml", "`safety.ae_terms` naming a file that is not YAML",
             write("extra.yaml", "safety: {ae_terms: resources/safety/ae_terms.txt}\n"),
             "config error: <tmp>/extra.yaml: safety.ae_terms: 'resources/safety/ae_terms.txt' does not match "
             "'\\\\.ya?ml$'", args=("--configfile", "<tmp>/extra.yaml")),
    FileCase("schema_config_unknown_key", "--config", "`--config bogus_key=1`", lambda raw, tmp: None,
             "config error: --config: (top level): Additional properties are not allowed ('bogus_key' was unexpected)",
             args=("bogus_key=1",)),
    FileCase("configfile_billion_laughs", "extra.yaml", "nested aliases in a --configfile", write("extra.yaml", LAUGHS),
             "config error: <tmp>/extra.yaml, line 6: YAML aliases expand to more than 100000 values; "
             "write the settings out without nested aliases (&/*)", args=("--configfile", "<tmp>/extra.yaml")),
    # Second set (issue 16, rerun). The published figures, checked when the Snakefile parses.
    FileCase("published_arm_of_none", "pub.yaml", "the control arm's n is 0 (a ZeroDivisionError in paper_consistency)",
             published('control: {label: "SMT", n: 39}', 'control: {label: "SMT", n: 0}'),
             "config error: <raw>/pub.yaml: arms.control.n: 0 is less than the minimum of 1"),
    FileCase("published_n_as_text", "pub.yaml", "`n: 39 patients`",
             published('control: {label: "SMT", n: 39}', 'control: {label: "SMT", n: 39 patients}'),
             "config error: <raw>/pub.yaml: arms.control.n: '39 patients' is not of type 'integer'"),
    FileCase("published_figure_twice", "pub.yaml", "two figures with the id `n_treatment`",
             published("  - id: n_control", "  - id: n_treatment"),
             "config error: <raw>/pub.yaml: figures[1].id: 'n_treatment' is given twice; keep one"),
    FileCase("published_percent_as_text", "pub.yaml", "a percentage written `15%`",
             published("    value: 15\n", "    value: 15%\n"),
             "config error: <raw>/pub.yaml: figures[17].value: '15%' is not a percentage from 0 to 100 "
             "(hrs_control_pct is a per cent of patients)"),
    FileCase("published_value_as_words", "pub.yaml", "a p value written `significant`",
             published('value: "<0.05"', "value: significant"),
             "config error: <raw>/pub.yaml: figures[2].value: 'significant' is neither a number nor a bound such as "
             "'<0.05'"),
    FileCase("published_figure_without_value", "pub.yaml", "a figure without its `value`",
             published("    value: 39\n", ""),
             "config error: <raw>/pub.yaml: figures[0]: 'value' is a required property"),
    FileCase("published_outside_raw", "cohort.yaml", "`study.published: ../pub.yaml`, outside the raw folder",
             published("value: 39", "value: 39", inside=False),
             f"{ERR}: study.published '../pub.yaml': outside the raw folder (<tmp>/pub.yaml); copy the file into <raw>"),
    # Configuration as users get it wrong.
    FileCase("cohort_yaml_a_list", "cohort.yaml", "a list, not a mapping", write(COHORT, "- MSC\n- SMT\n"),
             f"{ERR}: expected a mapping of cohort settings, found a list"),
    FileCase("cohort_yaml_tab_indent", "cohort.yaml", "a tab indenting a list item",
             write(COHORT, LABS + "missing_codes:\n\t- NA\n"),
             f"{ERR}, line 4: not valid YAML: found character '\\t' that cannot start any token; fix the file "
             "(indentation, quotes, colons)"),
    FileCase("cohort_yaml_date_format_lower_case", "cohort.yaml", "`labs: dd/mm/yyyy`", write(COHORT, "date_formats:\n  labs: dd/mm/yyyy\n"),
             f"{ERR}: cohort.date_formats.labs: 'dd/mm/yyyy' is not one of ['YYYY-MM-DD', 'DD/MM/YYYY', 'YYYY/MM/DD', "
             "'YYYY-MM-DD HH:MM[:SS]']"),
    FileCase("cohort_yaml_sex_code_twice_spaced", "cohort.yaml", "sex code `' m'` under F (`M` is under M)",
             write(COHORT, LABS + "sex_codes:\n  M: [M, male, '1']\n  F: [F, female, '2', ' m']\n"),
             "config error: cohort.sex_codes.F: ' m' is also listed under 'M'; a raw sex code must map to one value "
             "(cohort.yaml of the raw folder, merged over config.yaml)"),
    FileCase("configfile_key_typo", "extra.yaml", "`analysis.primary_wek` in a --configfile",
             write("extra.yaml", "analysis:\n  primary_wek: 48\n"),
             "config error: <tmp>/extra.yaml: analysis: Additional properties are not allowed ('primary_wek' was "
             "unexpected)", args=("--configfile", "<tmp>/extra.yaml")),
    FileCase("configfile_nested_key_typo", "extra.yaml", "`windows_days` in a visit of a --configfile",
             write("extra.yaml", "visits:\n  scheduled:\n  - {week: 48, label: W48, windows_days: [295, 378]}\n"),
             "config error: <tmp>/extra.yaml: visits.scheduled[0]: Additional properties are not allowed "
             "('windows_days' was unexpected)", args=("--configfile", "<tmp>/extra.yaml")),
    FileCase("configfile_duplicate_key", "extra.yaml", "`primary_week` twice in a --configfile (the last used to win)",
             write("extra.yaml", "analysis:\n  primary_week: 48\n  primary_week: 24\n"),
             "config error: <tmp>/extra.yaml, line 3: key 'primary_week' is given twice; keep one",
             args=("--configfile", "<tmp>/extra.yaml")),
    FileCase("raw_dir_missing", "--config", "`raw_dir` naming no folder (each table was then missing in turn)",
             lambda raw, tmp: None, "config error: raw_dir: <tmp>/nothere is not a folder (no such folder); name the "
             "folder of the raw exports (--config raw_dir=...)", args=("raw_dir=<tmp>/nothere",)),
    FileCase("raw_dir_a_file", "--config", "`raw_dir` naming a file", lambda raw, tmp: None,
             "config error: raw_dir: <raw>/events.csv is not a folder (a file); name the folder of the raw exports "
             "(--config raw_dir=...)", args=("raw_dir=<tmp>/raw/events.csv",)),
    FileCase("labs_named_pipe", "labs.csv", "a named pipe (used to block forever)",
             replace_with("raw/labs.csv", lambda path, tmp: os.mkfifo(path)),
             "error: <raw>/labs.csv: is a named pipe, not a regular file; replace it with the file itself",
             target=INVENTORY),
    FileCase("labs_device", "labs.csv", "the device /dev/zero (used to exhaust memory)",
             replace_with("raw/labs.csv", lambda path, tmp: os.mknod(path, 0o644 | 0o020000, os.makedev(1, 5))),
             "error: <raw>/labs.csv: is a character device, not a regular file; replace it with the file itself",
             target=INVENTORY),
    FileCase("events_directory", "events.csv", "a directory named events.csv",
             replace_with("raw/events.csv", lambda path, tmp: path.mkdir()),
             "error: <raw>/events.csv: is a directory, not a regular file; replace it with the file itself",
             target=INVENTORY),
    FileCase("labs_symlink_outside", "labs.csv", "a symlink to a copy outside the raw folder",
             replace_with("raw/labs.csv", outside_link),
             "error: <raw>/labs.csv: a symlink to <tmp>/elsewhere.csv, outside <raw>; copy the file into <raw>",
             target=INVENTORY),
    FileCase("optional_table_dangling_symlink", "adverse_events.csv", "a symlink to nothing (not an absent table)",
             replace_with("raw/adverse_events.csv", lambda path, tmp: path.symlink_to("gone.csv")),
             "error: <raw>/adverse_events.csv: a symlink to gone.csv, which does not exist; put the file itself there",
             target=INVENTORY),
    FileCase("labs_over_size_limit", "labs.csv", "larger than the size limit (MSC_MAX_TABLE_BYTES=500)",
             lambda raw, tmp: None,
             "error: <raw>/labs.csv: larger than the limit of 500 bytes; is it the right file? "
             "(raise MSC_MAX_TABLE_BYTES for a larger export)", target=INVENTORY, env={"MSC_MAX_TABLE_BYTES": "500"}),
]


def run_case(case: FileCase, tmp: Path) -> tuple[subprocess.CompletedProcess, str]:
    """The case through `snakemake`, killed (and failed) at LIMIT_SECONDS; and its expected line."""
    raw = tmp / "raw"
    shutil.copytree(MINI_COHORT, raw)
    case.setup(raw, tmp)
    args = [a.replace("<tmp>", str(tmp)) for a in case.args]
    command = snakemake_command(tmp / "work", raw, *args, cores=1)
    command.insert(1, case.target)  # before --config, which takes the values after it
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT_SECONDS,
                             env={**os.environ, **case.env})
    except subprocess.TimeoutExpired:
        pytest.fail(f"{case.id}: snakemake still running after {LIMIT_SECONDS} s")
    return run, case.message.replace("<raw>", str(raw)).replace("<tmp>", str(tmp))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file_is_one_line_within_the_time_limit(case, tmp_path):
    run, message = run_case(case, tmp_path)
    assert run.returncode == 1, run.stderr[-3000:]
    assert message in run.stderr.splitlines(), run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    if case.target == "-n":  # stopped while the Snakefile parsed: that line and nothing of Snakemake's after it
        assert run.stderr.rstrip().endswith(message), run.stderr[-3000:]
    assert not (tmp_path / "work" / "pwned").exists()


def test_debug_shows_the_traceback(tmp_path):
    """MSC_DEBUG=1: the traceback behind the one line, for whoever must find the cause."""
    case = next(c for c in CASES if c.id == "cohort_yaml_syntax")
    run, _ = run_case(FileCase(**{**case.__dict__, "env": {"MSC_DEBUG": "1"}}), tmp_path)
    output = run.stdout + run.stderr  # Snakemake prints the exception to stdout
    assert run.returncode == 1 and "FileError" in output and "safe_files.py" in output, output[-3000:]


def test_unreadable_file(tmp_path, monkeypatch):
    """Permission denied (root reads anything, so the refusal is simulated)."""
    path = tmp_path / "labs.csv"
    path.write_text("x\n")

    def refuse(*args):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(safe_files.os, "open", refuse)
    with pytest.raises(FileError) as error:
        safe_files.read_bytes(path)
    assert str(error.value) == (f"{path}: permission denied; make the file readable (chmod a+r) "
                                "or run as a user who may read it")


def test_a_shipped_yaml_loads_as_before():
    """The bounded loader reads what yaml.safe_load reads."""
    import yaml
    for path in (ROOT / "config.yaml", ROOT / "resources" / "raw" / "hua2020_abstract.yaml"):
        assert safe_files.load_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def render_section() -> str:
    lines = [SECTION, "", "Generated from `CASES` in `tests/test_bad_input_files.py` (`python tests/test_bad_input_files.py`).",
             "Each case runs through the real `snakemake` command (the YAML and config ones stop while the",
             "Snakefile parses, the raw tables in `ingest`) and must end within 60 s with exit status 1 and",
             "this one line, without a traceback (`MSC_DEBUG=1` shows it). `<raw>` is the raw folder.",
             "Permission denied is tested by simulating it (root reads anything).", "",
             "| Case | File | Input | Message |", "|---|---|---|---|"]
    for c in CASES:
        message = c.message.replace("<tmp>/", "").replace("|", "/")
        lines.append(f"| `{c.id}` | {c.file} | {c.what} | `{message}` |")
    return "\n".join(lines) + "\n"


def test_doc_section_matches_cases():
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text and text[text.index(SECTION):] == render_section(), \
        "run: python tests/test_bad_input_files.py"


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    head = text[:text.index(SECTION)] if SECTION in text else text + "\n"
    DOC.write_text(head + render_section(), encoding="utf-8")
