"""Benchmark of the workflow on this machine: `make bench` writes results/benchmark.csv and .svg.

Every measure runs in a fresh temporary folder (the repository's Snakefile with
`--directory`), so nothing in results/ is reused. Wall time is measured around
the command (for the no-op and the bare start, which take a second or two, the
median of five runs, the two taking turns); peak memory is the largest resident
set of any process it started (getrusage of the children, measured in a fresh
Python for each command).
Timings depend on what else the machine is doing: the load average is written
beside them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMALL_GRID = ROOT / "tests" / "data" / "small_grid.yaml"
COLUMNS = ["measure", "cores", "subjects", "wall_s", "peak_mb", "jobs_run", "target", "met", "load_1min"]
#: Run a command and print its wall time and the peak RSS of its children, as JSON.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "peak": peak, "rc": run.returncode, "out": run.stdout[-20000:] + run.stderr[-20000:]}))
"""


def measure(command: list[str], cwd: Path | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, *map(str, command)], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONHASHSEED": "0"})
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(map(str, command))}\n{result['out'][-3000:]}")
    return result


def median_runs(*commands: tuple[list[str], Path | None], runs: int = 5) -> list[dict]:
    """For each (command, cwd), the run of median wall time among ``runs``, the commands taking
    turns: for measures of a second or two, whose run-to-run noise (0.2-0.4 s here) and drift
    are as large as the differences they are read for, and which are compared to each other."""
    results = [[] for _ in commands]
    for _ in range(runs):
        for (command, cwd), done in zip(commands, results):
            done.append(measure(command, cwd))
    return [sorted(done, key=lambda result: result["wall"])[runs // 2] for done in results]


def snakemake(workdir: Path, *args: str, cores: int = 2, raw_dir: Path = ROOT / "resources" / "raw") -> list[str]:
    return [str(BIN / "snakemake"), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--cores", str(cores), *args, "--config", f"raw_dir={raw_dir}"]


def jobs_run(output: str) -> int:
    """Jobs Snakemake ran, from its own 'N of M steps' lines (0 when nothing was to be done)."""
    steps = re.findall(r"(\d+) of (\d+) steps", output)
    return int(steps[-1][0]) if steps else 0


def row(measure_name: str, result: dict, cores="", subjects="", target="", met="", jobs="") -> dict:
    return {"measure": measure_name, "cores": cores, "subjects": subjects, "wall_s": round(result["wall"], 1),
            "peak_mb": round(result["peak"]), "jobs_run": jobs, "target": target, "met": met,
            "load_1min": round(os.getloadavg()[0], 2)}


FLOOR = """
# The analyses of the workflow in one Python process, rule by rule, as the scripts call them.
import sys, json
from pathlib import Path
import numpy as np
from msc_ascites.data import rawio
from msc_ascites.data import cleaning
from msc_ascites.data import datasets
from msc_ascites.analysis import baseline
from msc_ascites.analysis import endpoints
from msc_ascites.analysis import scorecard
from msc_ascites.sensitivity import grid as sensitivity
from msc_ascites.reconstruction import seeds
from msc_ascites.report import render as report
from msc_ascites import products
import yaml
from msc_ascites.settings import load_config, merge, primary_spec, settings_from_config, visits_with_window, window_label
out = Path(sys.argv[1]); root = Path(sys.argv[2])
config = load_config(root / "config.yaml", raw_dir=str(root / "resources" / "raw"))
for path in sys.argv[3:]:
    config = merge(config, yaml.safe_load(Path(path).read_text()))
study_cohort = yaml.safe_load((root / "config.yaml").read_text())["cohort"]
rawio.write_inventory(config["raw_dir"], out / "ingest/raw_inventory.json")
cleaning.write_clean_cohort(config["raw_dir"], config["cohort"], config["visits"], out / "clean",
                            out / "cleaning_log.csv", out / "clean/summary.json")
datasets.write_datasets(out / "clean", out / "clean/summary.json", config["visits"], config["analysis"]["meld_score"],
                        out / "datasets")
ds = out / "datasets"
baseline.write_table_one(ds / "subjects.csv", config["cohort"]["arms"], config["table1"], out / "tables/table1.csv",
                         out / "tables/table1_notes.json")
baseline.write_patient_flow(ds / "subjects.csv", ds / "labs.csv", config["cohort"]["arms"],
                            config["analysis"]["primary_week"], config["analysis"]["horizon_days"],
                            out / "patient_flow.json")
for name in products.ENDPOINTS:
    endpoints.write_endpoint(name, products.endpoint_inputs(name, ds), config["analysis"], config["endpoints"][name],
                             out / f"endpoints/{name}.json", out / f"endpoints/{name}.csv")
published = root / "resources/published/hua2020_abstract.yaml"
scorecard.write_paper_consistency(published, out / "paper_consistency.csv")
scorecard.write_scorecard(published, [out / f"endpoints/{n}.json" for n in products.ENDPOINTS],
                          out / "paper_consistency.csv", out / "scorecard.csv")
settings = settings_from_config(config)
primary = primary_spec(config)
grid = config["sensitivity"]
cells = []
for window in grid["primary_windows"]:
    label = window_label(window)
    wdir = out / f"sensitivity/datasets/window{label}"
    datasets.write_datasets(out / "clean", out / "clean/summary.json",
                            visits_with_window(config["visits"], settings["week"], window),
                            config["analysis"]["meld_score"], wdir)
    for population in grid["populations"]:
        for missing in grid["missing"]:
            for test in grid["tests"]:
                for adjustment in grid["adjustments"]:
                    spec = {"population": population, "missing": missing, "window_days": label, "test": test,
                            "adjustment": adjustment}
                    cells.append(out / f"sensitivity/cells/primary/{population}/{missing}/{label}/{test}/{adjustment}.json")
                    sensitivity.write_primary_cell(wdir, spec, settings, cells[-1])
for population in grid["populations"]:
    for adjustment in grid["adjustments"]:
        for transplant in grid["transplant"]:
            for horizon in grid["horizons_days"]:
                spec = {"population": population, "adjustment": adjustment, "transplant": transplant,
                        "horizon_days": horizon}
                cells.append(out / f"sensitivity/cells/survival/{population}/{adjustment}/{transplant}/{horizon}.json")
                sensitivity.write_survival_cell(ds / "subjects.csv", spec, settings, cells[-1])
if "reconstruction_seed" in config["cohort"]:
    for seed in grid["reconstruction_seeds"]:
        cells.append(out / f"sensitivity/cells/reconstruction/seed{seed}.json")
        seeds.write_seed_cell(seed, published, root / "resources/reconstruction/assumptions.yaml",
                              root / "config.yaml", study_cohort, config["visits"], config["analysis"]["meld_score"],
                              settings, primary, cells[-1])
sensitivity.write_summary(cells, primary, out / "sensitivity/summary.csv")
sensitivity.write_balance(ds / "subjects.csv", settings, out / "sensitivity/covariate_balance.csv")
shifts = grid["tipping_point_shifts"]
sensitivity.write_robustness([out / f"endpoints/{n}.json" for n in ("ascites_resolution", "survival", "complications")],
                             ds, settings, np.arange(shifts["from"], shifts["to"] + shifts["step"] / 2, shifts["step"]),
                             out / "sensitivity/robustness.json", out / "sensitivity/tipping_point.csv")
inputs = {"liver_function_json": out / "endpoints/liver_function.json",
          "liver_function_csv": out / "endpoints/liver_function.csv", "labs": ds / "labs.csv",
          "survival_json": out / "endpoints/survival.json", "survival_csv": out / "endpoints/survival.csv",
          "ascites_json": out / "endpoints/ascites_resolution.json",
          "complications_json": out / "endpoints/complications.json",
          "complications_csv": out / "endpoints/complications.csv",
          "summary": out / "sensitivity/summary.csv", "tipping_point": out / "sensitivity/tipping_point.csv"}
for name in products.FIGURES:
    products.step(products.FIGURES[name].function)(inputs, config["cohort"]["arms"], config["analysis"],
                                                   out / f"figures/{name}.svg")
report.write_report({
    "patient_flow": out / "patient_flow.json", "table1": out / "tables/table1.csv",
    "table1_notes": out / "tables/table1_notes.json",
    "endpoints": [out / f"endpoints/{n}.json" for n in products.ENDPOINTS],
    "adverse_events_table": out / "endpoints/adverse_events.csv", "scorecard": out / "scorecard.csv",
    "consistency": out / "paper_consistency.csv", "figures": [out / f"figures/{n}.svg" for n in products.FIGURES],
    "cleaning_log": out / "cleaning_log.csv", "clean_summary": out / "clean/summary.json",
    "inventory": out / "ingest/raw_inventory.json", "availability": ds / "availability.json",
    "sensitivity_summary": out / "sensitivity/summary.csv",
    "covariate_balance": out / "sensitivity/covariate_balance.csv",
    "robustness": out / "sensitivity/robustness.json"},
    config, "benchmark", root / "workflow/templates", out / "report.html", out / "report.pdf")
"""

INGEST_AND_CLEAN = """
import sys
from msc_ascites.settings import load_config
from msc_ascites.data.rawio import write_inventory
from msc_ascites.data.cleaning import write_clean_cohort
config = load_config(sys.argv[3], raw_dir=sys.argv[1])
write_inventory(config["raw_dir"], sys.argv[2] + "/raw_inventory.json")
write_clean_cohort(config["raw_dir"], config["cohort"], config["visits"], sys.argv[2] + "/clean",
                   sys.argv[2] + "/cleaning_log.csv", sys.argv[2] + "/clean/summary.json")
"""


def bench_builds(tmp: Path, rows: list[dict]) -> None:
    cold_dir = tmp / "cold"
    cold = measure(snakemake(cold_dir))
    bare_dir = tmp / "bare"
    bare_dir.mkdir()
    (bare_dir / "Snakefile").write_text('rule one:\n    output: "one.txt"\n    shell: "touch {output}"\n')
    noop, bare = median_runs((snakemake(cold_dir), None), ([BIN / "snakemake", "-n", "--cores", "1"], bare_dir))
    change = tmp / "one_change.yaml"
    change.write_text("endpoints:\n  survival:\n    truncate_at_horizon: false\n", encoding="utf-8")
    changed = measure(snakemake(cold_dir, "--configfile", str(change)))
    small = measure(snakemake(tmp / "cold_small", "--configfile", str(SMALL_GRID)))
    (tmp / "floor").mkdir()
    floor = measure([sys.executable, "-c", FLOOR, tmp / "floor", ROOT])
    (tmp / "floor_small").mkdir()
    floor_small = measure([sys.executable, "-c", FLOOR, tmp / "floor_small", ROOT, SMALL_GRID])
    rows += [
        row("cold build, full grid", cold, 2, 78, jobs=jobs_run(cold["out"]),
            target=f"<= 2 x floor ({2 * floor['wall']:.1f} s)", met=cold["wall"] <= 2 * floor["wall"]),
        row("floor: one process, full grid", floor, 1, 78),
        row("cold build, one-cell grid", small, 2, 78, jobs=jobs_run(small["out"]),
            target=f"<= 2 x floor ({2 * floor_small['wall']:.1f} s), < 30 s",
            met=small["wall"] <= 2 * floor_small["wall"] and small["wall"] < 30),
        row("floor: one process, one-cell grid", floor_small, 1, 78),
        row("no-op rebuild", noop, 2, 78, jobs=jobs_run(noop["out"]),
            target=f"<= 1.5 x bare start ({1.5 * bare['wall']:.1f} s)", met=noop["wall"] <= 1.5 * bare["wall"]),
        row("bare snakemake -n, one rule", bare, 1),
        row("rebuild after one endpoint parameter", changed, 2, 78, jobs=jobs_run(changed["out"])),
    ]
    for cores in (1, 2):
        grid_dir = tmp / f"grid{cores}"
        measure(snakemake(grid_dir, "results/datasets/availability.json", "results/endpoints/survival.json",
                          "results/endpoints/ascites_resolution.json", "results/endpoints/complications.json"))
        grid = measure(snakemake(grid_dir, "sensitivity", cores=cores))
        rows.append(row("sensitivity grid alone", grid, cores, 78, jobs=jobs_run(grid["out"])))


def bench_scaling(tmp: Path, rows: list[dict], sizes: list[int]) -> None:
    for n in sizes:
        raw = tmp / f"cohort{n}"
        measure([sys.executable, "-m", "msc_ascites.reconstruction.generate", "--published",
                 ROOT / "resources/published/hua2020_abstract.yaml", "--assumptions",
                 ROOT / "resources/reconstruction/assumptions.yaml", "--out", raw, "--subjects", n, "--quiet"])
        out = tmp / f"clean{n}"
        (out / "clean").mkdir(parents=True)
        result = measure([sys.executable, "-c", INGEST_AND_CLEAN, raw, out, ROOT / "config.yaml"])
        big = n == 100_000  # the target is stated for 100k subjects
        rows.append(row("ingest and clean", result, 1, n, target="< 60 s and < 2048 MB at 100k" if big else "",
                        met=(result["wall"] < 60 and result["peak"] < 2048) if big else ""))
        build = measure(snakemake(tmp / f"build{n}", "--configfile", str(SMALL_GRID), raw_dir=raw))
        rows.append(row("whole build (one-cell grid)", build, 2, n, jobs=jobs_run(build["out"])))
        shutil.rmtree(raw)


def plot(rows: list[dict], path: Path) -> None:
    from msc_ascites.report.style import new_figure, save_svg
    figure = new_figure(2 + 0.45 * len(rows))
    axis = figure.subplots()
    labels = [f"{r['measure']} ({r['subjects'] or '-'} subj., {r['cores'] or '-'} cores)" for r in rows]
    axis.barh(range(len(rows))[::-1], [r["wall_s"] for r in rows], color="#777777")
    axis.set_yticks(range(len(rows))[::-1], labels, fontsize=7)
    axis.set_xscale("log")
    axis.set_xlabel("Wall time, s (log scale)")
    save_svg(figure, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--skip-large", action="store_true", help="scale only to 10k subjects")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="msc-bench-") as tmp:
        bench_builds(Path(tmp), rows)
        bench_scaling(Path(tmp), rows, [1_000, 10_000] if args.skip_large else [1_000, 10_000, 100_000])
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "benchmark.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, args.out / "benchmark.svg")
    for r in rows:
        print(f"{r['measure']:42s} {r['cores']!s:>2} {r['subjects']!s:>7} {r['wall_s']:8.1f} s {r['peak_mb']:6} MB "
              f"{r['jobs_run']!s:>4} jobs  {r['target']} {r['met']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
