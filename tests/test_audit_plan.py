"""The audit plan on hand-made rules: which jobs, which wildcards, what each file is."""

import re

from msc_ascites.audit.plan import CRATE, MANIFEST, UNLISTED, Step, audit_plan, job, walk


def step(name, pattern, outputs, inputs, code=(), script=(), params=None):
    """A rule making files that match ``pattern`` (a regex with named groups = wildcards)."""
    def match(path):
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None

    def files(wildcards):
        fill = lambda items: [item.format(**wildcards) for item in items]
        return {"outputs": fill(outputs), "inputs": fill(inputs) + list(code), "code": list(code),
                "script": list(script), "snakefile": f"rules/{name}.smk", "params": params or {}}
    return Step(name, match, files)


RAW = "raw"
STEPS = [
    step("clean", r"results/clean/(?P<table>\w+)\.csv", ["results/clean/{table}.csv"], ["raw/{table}.csv"],
         code=["src/cleaning.py"], script=["scripts/clean.py"], params={"cohort": {"x": 1}}),
    step("report", r"results/report\.pdf", ["results/report.pdf"],
         ["results/clean/labs.csv", "results/clean/events.csv", "templates/report.j2"], code=["src/report.py"]),
]


def test_job_keeps_code_apart_from_data():
    record = job("clean", {"table": "labs"}, {"outputs": ["o"], "inputs": ["raw/labs.csv", "src/b.py", "src/a.py"],
                                               "code": ["src/b.py", "src/a.py"], "script": ["s.py"],
                                               "snakefile": "r.smk", "params": {}})
    assert record == {"rule": "clean", "wildcards": {"table": "labs"}, "outputs": ["o"],
                      "inputs": ["raw/labs.csv"], "code": ["src/a.py", "src/b.py", "s.py", "r.smk"], "params": {}}


def test_walk_finds_each_job_once_with_its_wildcards():
    jobs, sources = walk(STEPS, ["results/report.pdf", "results/clean/labs.csv"], RAW)
    assert sorted(jobs) == [("clean", (("table", "events"),)), ("clean", (("table", "labs"),)), ("report", ())]
    assert jobs[("clean", (("table", "labs"),))]["inputs"] == ["raw/labs.csv"]
    assert sources == {"src/report.py": "code", "src/cleaning.py": "code", "scripts/clean.py": "code",
                       "rules/report.smk": "code", "rules/clean.smk": "code", "raw/labs.csv": "raw",
                       "raw/events.csv": "raw", "templates/report.j2": "resource"}


def test_the_first_rule_that_matches_makes_the_file():
    shadow = step("other", r"results/clean/labs\.csv", ["results/clean/labs.csv"], ["elsewhere.csv"])
    jobs, _ = walk([STEPS[0], shadow], ["results/clean/labs.csv"], RAW)
    assert [record["rule"] for record in jobs.values()] == ["clean"]
    jobs, _ = walk([shadow, STEPS[0]], ["results/clean/labs.csv"], RAW)
    assert [record["rule"] for record in jobs.values()] == ["other"]


def test_plan_sorts_jobs_and_names_config_and_snakefiles():
    plan = audit_plan(STEPS, ["results/report.pdf"], RAW, snakefiles=["Snakefile", "rules/common.smk"],
                      configfiles=["config.yaml"], workflow_file="/x/Snakefile", name="A study")
    assert [record["outputs"][0] for record in plan["jobs"]] == [
        "results/clean/events.csv", "results/clean/labs.csv", "results/report.pdf"]
    # Only a job that read config values (params) records the config files they came from.
    assert [record["config_files"] for record in plan["jobs"]] == [["config.yaml"], ["config.yaml"], []]
    assert plan["sources"]["Snakefile"] == plan["sources"]["rules/common.smk"] == "code"
    assert plan["sources"]["config.yaml"] == "config"
    assert plan["crate"] == {"workflow": "/x/Snakefile", "name": "A study"}
    assert plan["unlisted"][:2] == [f"results/{MANIFEST}", f"results/{CRATE}"] and plan["unlisted"] == UNLISTED


def test_a_file_no_rule_makes_is_raw_only_in_the_raw_folder(tmp_path):
    jobs, sources = walk(STEPS, [str(tmp_path / "raw" / "x.csv"), "raw/y.csv", "raw/sub/z.csv"], tmp_path / "raw")
    assert jobs == {}
    assert sources == {str(tmp_path / "raw" / "x.csv"): "raw", "raw/y.csv": "resource", "raw/sub/z.csv": "resource"}
