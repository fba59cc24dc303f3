"""Benchmark of the workflow on this machine: `make bench` writes results/benchmark.csv and .svg.

Every measure runs in a fresh temporary folder (the repository's Snakefile with
`--directory`), so nothing in results/ is reused. Wall time is measured around
the command (for the no-op and the bare start, which take a second or two, the
median of five runs, the two taking turns), and its CPU time (user + system of all
the processes it started), which another load on the machine changes less; peak
memory is the largest resident set of any process it started (getrusage of the
children, measured in a fresh Python for each command). The floor is the same jobs
in one Python process: Snakemake on one core running each `script:` job's file
inside its own process instead of a new Python (`run:` jobs already run there).
Timings depend on what else the machine is doing: the load average is written
beside them. `--quick` proves the benchmark works in a few minutes: the one-cell
grid stands for the full grid, 1k subjects for the cohort sizes, no test-suite run.
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
COLUMNS = ["measure", "cores", "subjects", "wall_s", "cpu_s", "peak_mb", "jobs_run", "cells", "distinct_analyses",
           "ratio", "target", "met", "load_1min"]
#: Run a command and print its wall time and the peak RSS of its children, as JSON.
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
run = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024,
                  "rc": run.returncode, "out": run.stdout[-20000:] + run.stderr[-20000:]}))
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


def row(measure_name: str, result: dict, cores="", subjects="", target="", met="", jobs="", **extra) -> dict:
    return {"measure": measure_name, "cores": cores, "subjects": subjects, "wall_s": round(result["wall"], 1),
            "cpu_s": round(result["cpu"], 1), "peak_mb": round(result["peak"]), "jobs_run": jobs, "target": target,
            "met": met, "load_1min": round(os.getloadavg()[0], 2), **extra}


FLOOR = """
# The workflow's jobs in one Python process: Snakemake with --cores 1 runs each script: job's file
# here (runpy) instead of in a new Python, so no job pays an interpreter start or its imports.
import runpy, sys
from snakemake import script
from snakemake.cli import main

def in_this_process(self, fname, edit=False):
    # A job's log_to tees stdout and stderr into its log, and Snakemake's preamble extends sys.path
    # by Snakemake's search paths, taken from sys.path: it would double with every job.
    streams, path = (sys.stdout, sys.stderr), list(sys.path)
    try:
        runpy.run_path(fname, run_name="__main__")
    finally:
        (sys.stdout, sys.stderr), sys.path[:] = streams, path

script.PythonScript.execute_script = in_this_process
main(sys.argv[1:])
"""


def floor(workdir: Path, *args: str) -> list[str]:
    """The command running the workflow's jobs in one process (see FLOOR)."""
    return [sys.executable, "-c", FLOOR, *snakemake(workdir, *args, cores=1)[1:]]


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


def grid_counts(workdir: Path) -> dict:
    """Cells and distinct analyses of the grid a build wrote: cells with the same rows of numbers
    (every endpoint's estimate, CI, p, counts) are one analysis, whatever the grid's own notes say."""
    with open(workdir / "results" / "sensitivity" / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    axes = [c for c in ("family", "population", "missing", "window_days", "test", "adjustment", "transplant",
                        "horizon_days", "seed") if rows and c in rows[0]]
    numbers = [c for c in ("endpoint", "estimand", "estimate", "lower", "upper", "p", "n_treatment", "n_control",
                           "events_treatment", "events_control") if rows and c in rows[0]]
    cells: dict[tuple, list] = {}
    for r in rows:
        cells.setdefault(tuple(r[a] for a in axes), []).append(tuple(r[c] for c in numbers))
    return {"cells": len(cells), "distinct_analyses": len({tuple(sorted(v)) for v in cells.values()})}


def ratio_row(name: str, result: dict, base: dict, limit: float, cores, subjects, jobs, extra_limit_s=None) -> dict:
    """A build against its floor (or bare start): met when within ``limit`` x (and under ``extra_limit_s``)."""
    times = result["wall"] / base["wall"]
    target = f"<= {limit} x ({limit * base['wall']:.1f} s)" + (f", < {extra_limit_s} s" if extra_limit_s else "")
    met = times <= limit and (extra_limit_s is None or result["wall"] < extra_limit_s)
    return row(name, result, cores, subjects, target=target, met=met, jobs=jobs, ratio=round(times, 2))


def bench_builds(tmp: Path, rows: list[dict], quick: bool) -> None:
    full = ["--configfile", str(SMALL_GRID)] if quick else []
    grid_words = "one-cell grid (--quick)" if quick else "full grid"
    (tmp / "floor").mkdir()
    floor_full = measure(floor(tmp / "floor", *full))
    cold = measure(snakemake(tmp / "cold", *full))
    rows += [row(f"one-process floor, {grid_words}", floor_full, 1, 78, jobs=jobs_run(floor_full["out"]),
                 target="<= 15 s", met=floor_full["wall"] <= 15, **grid_counts(tmp / "floor")),
             ratio_row(f"cold build, {grid_words}", cold, floor_full, 1.5, 2, 78, jobs_run(cold["out"]), 30)]
    if not quick:
        floor_small = measure(floor(tmp / "floor_small", "--configfile", str(SMALL_GRID)))
        small = measure(snakemake(tmp / "cold_small", "--configfile", str(SMALL_GRID)))
        rows += [row("one-process floor, one-cell grid", floor_small, 1, 78, jobs=jobs_run(floor_small["out"]),
                     **grid_counts(tmp / "floor_small")),
                 ratio_row("cold one-cell build", small, floor_small, 2, 2, 78, jobs_run(small["out"]))]
    bare_dir = tmp / "bare"
    bare_dir.mkdir()
    (bare_dir / "Snakefile").write_text('rule one:\n    output: "one.txt"\n    shell: "touch {output}"\n')
    runs = 3 if quick else 5
    noop, bare = median_runs((snakemake(tmp / "cold", *full), None),
                             ([BIN / "snakemake", "-n", "--cores", "1"], bare_dir), runs=runs)
    rows += [ratio_row(f"no-op rebuild (median of {runs} pairs taken in turn)", noop, bare, 1.3, 2, 78,
                       jobs_run(noop["out"])),
             row("bare snakemake -n, one rule", bare, 1)]
    change = tmp / "one_change.yaml"
    change.write_text("endpoints:\n  survival:\n    truncate_at_horizon: false\n", encoding="utf-8")
    # One --configfile for both: a second --configfile replaces the first.
    changed = measure(snakemake(tmp / "cold", "--configfile", *full[1:], str(change)))
    rows.append(row("rebuild after one endpoint parameter", changed, 2, 78, jobs=jobs_run(changed["out"])))
    bench_grid(tmp, rows, full, grid_words)


def bench_grid(tmp: Path, rows: list[dict], full: list[str], grid_words: str) -> None:
    """The grid alone at 1 and 2 cores: cells and distinct analyses against seconds."""
    for cores in (1, 2):
        grid_dir = tmp / f"grid{cores}"
        # Targets before --configfile, which takes every word after it as a config file.
        measure(snakemake(grid_dir, "results/datasets/availability.json", "results/endpoints/survival.json",
                          "results/endpoints/ascites_resolution.json", "results/endpoints/complications.json", *full))
        grid = measure(snakemake(grid_dir, "sensitivity", *full, cores=cores))
        rows.append(row(f"sensitivity grid alone, {grid_words}", grid, cores, 78, jobs=jobs_run(grid["out"]),
                        **grid_counts(grid_dir)))


def bench_scaling(tmp: Path, rows: list[dict], sizes: list[int]) -> None:
    for n in sizes:
        raw = tmp / f"cohort{n}"
        measure([sys.executable, "-m", "msc_ascites.reconstruction.generate", "--published",
                 ROOT / "resources/published/hua2020_abstract.yaml", "--assumptions",
                 ROOT / "resources/reconstruction/assumptions.yaml", "--out", raw, "--subjects", n, "--quiet"])
        out = tmp / f"clean{n}"
        (out / "clean").mkdir(parents=True)
        result = measure([sys.executable, "-c", INGEST_AND_CLEAN, raw, out, ROOT / "config.yaml"])
        big = n == 100_000  # the targets are stated for 100k subjects
        rows.append(row("ingest + clean", result, 1, n, target="<= 30 s, <= 1536 MB" if big else "",
                        met=(result["wall"] <= 30 and result["peak"] <= 1536) if big else ""))
        build = measure(snakemake(tmp / f"build{n}", "--configfile", str(SMALL_GRID), raw_dir=raw))
        rows.append(row("whole build (one-cell grid)", build, 2, n, jobs=jobs_run(build["out"]),
                        target="<= 120 s, <= 2048 MB" if big else "",
                        met=(build["wall"] <= 120 and build["peak"] <= 2048) if big else ""))
        shutil.rmtree(raw)


def bench_tests(rows: list[dict]) -> None:
    """The quick loop (`pytest -m "not workflow"`) and the whole suite as `make test` runs it (two xdist workers)."""
    quick = measure([sys.executable, "-m", "pytest", "-q", "-m", "not workflow"], cwd=ROOT)
    rows.append(row('pytest -m "not workflow"', quick, 2, target="<= 60 s", met=quick["wall"] <= 60))
    whole = measure(["make", "--no-print-directory", "test"], cwd=ROOT)
    rows.append(row("make test (whole suite)", whole, 2, target="<= 300 s", met=whole["wall"] <= 300))


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
    parser.add_argument("--quick", action="store_true",
                        help="a few minutes: one-cell grid for the full one, 1k subjects, no test-suite run")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="msc-bench-") as tmp:
        bench_builds(Path(tmp), rows, args.quick)
        sizes = [1_000] if args.quick else [1_000, 10_000] if args.skip_large else [1_000, 10_000, 100_000]
        bench_scaling(Path(tmp), rows, sizes)
        if not args.quick:
            bench_tests(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "benchmark.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, args.out / "benchmark.svg")
    for r in rows:
        print(f"{r['measure']:48s} {r['cores']!s:>2} {r['subjects']!s:>7} {r['wall_s']:8.1f} s {r['cpu_s']:8.1f} s CPU "
              f"{r['peak_mb']:6} MB {r['jobs_run']!s:>4} jobs  {r['target']} {r['met']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
