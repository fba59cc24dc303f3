# Sensitivity analyses: the paper's comparisons redone under every combination of
# the choices in config.yaml's `sensitivity` section. Each cell is one job, in
# the group `sensitivity` (a cluster profile packs many cells into one job), so
# adding a value to an axis runs only the new cells.
#
# The cells are many (132 by default) and small (0.1-3 s of work each). As scripts, each
# paid a Python start and the imports of pandas and scipy (about 1.5 s); as `run:` blocks,
# with `force-use-threads` from profiles/default, they run inside the Snakemake process,
# which imports the package once.
from msc_ascites.settings import paper_tests, primary_spec, settings_from_config, visits_with_window, window_label

SENSITIVITY = config["sensitivity"]
SETTINGS = settings_from_config(config)
PRIMARY = primary_spec(config)
WINDOWS = [window_label(w) for w in SENSITIVITY["primary_windows"]]
# Other generator seeds only make sense when the raw folder is itself a reconstruction.
SEEDS = SENSITIVITY["reconstruction_seeds"] if "reconstruction_seed" in config["cohort"] else []


wildcard_constraints:
    population="|".join(SENSITIVITY["populations"]),
    missing="|".join(SENSITIVITY["missing"]),
    window=r"\d+-\d+",
    test="|".join(SENSITIVITY["tests"]),
    adjustment="|".join(SENSITIVITY["adjustments"]),
    transplant="|".join(SENSITIVITY["transplant"]),
    horizon=r"\d+",
    seed=r"\d+",


rule sensitivity_datasets:
    """The analysis datasets again, with another window for the primary week (the configured window's
    are the `datasets` step's: see window_datasets)."""
    input:
        tables=rules.clean.output.tables,
        summary=rules.clean.output.summary,
        code=code("data.datasets"),
    output:
        expand("results/sensitivity/datasets/window{{window}}/{dataset}.csv", dataset=DATASETS),
        availability="results/sensitivity/datasets/window{window}/availability.json",
    log:
        "logs/sensitivity_datasets/window{window}.log",
    group:
        "sensitivity"
    params:
        visits=lambda wc: visits_with_window(config["visits"], SETTINGS["week"], [int(d) for d in wc.window.split("-")]),
        analysis={key: config["analysis"][key] for key in ("death_event", "competing_events", "meld_score")},
        complications=config["endpoints"]["complications"]["events"],
        not_collected=config["cohort"].get("not_collected", {}),
    script:
        "../scripts/datasets.py"


rule sensitivity_imputations:
    """The values chained equations impute, once per population and window: every multiple-imputation
    cell of that population and window (tests x adjustments) reads its completed data sets here."""
    input:
        datasets=window_datasets,
        code=code("sensitivity.grid"),
    output:
        "results/sensitivity/imputations/{population}/window{window}.csv",
    log:
        "logs/sensitivity_imputations/{population}/window{window}.log",
    group:
        "sensitivity"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=SETTINGS,
    run:
        from msc_ascites.joblog import call_logged
        from msc_ascites.sensitivity.grid import write_imputations

        call_logged(
            log, write_imputations, Path(input.datasets).parent, wildcards.population, params.settings, output[0]
        )


rule sensitivity_primary:
    """Primary-visit labs and ascites disappearance: population x missing data x window x test x adjustment."""
    input:
        datasets=window_datasets,
        imputations=cell_imputations,
        code=code("sensitivity.grid"),
    output:
        "results/sensitivity/cells/primary/{population}/{missing}/{window}/{test}/{adjustment}.json",
    log:
        "logs/sensitivity_primary/{population}/{missing}/{window}/{test}/{adjustment}.log",
    group:
        "sensitivity"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=SETTINGS,
    run:
        from msc_ascites.joblog import call_logged
        from msc_ascites.sensitivity.grid import write_primary_cell

        spec = {
            "population": wildcards.population,
            "missing": wildcards.missing,
            "window_days": wildcards.window,
            "test": wildcards.test,
            "adjustment": wildcards.adjustment,
        }
        imputations = input.imputations[0] if input.imputations else None
        call_logged(
            log, write_primary_cell, Path(input.datasets).parent, spec, params.settings, output[0], imputations
        )


rule sensitivity_survival:
    """Death: population x adjustment x transplant handling x horizon."""
    input:
        subjects="results/datasets/subjects.csv",
        code=code("sensitivity.grid"),
    output:
        "results/sensitivity/cells/survival/{population}/{adjustment}/{transplant}/{horizon}.json",
    log:
        "logs/sensitivity_survival/{population}/{adjustment}/{transplant}/{horizon}.log",
    group:
        "sensitivity"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=SETTINGS,
    run:
        from msc_ascites.joblog import call_logged
        from msc_ascites.sensitivity.grid import write_survival_cell

        spec = {
            "population": wildcards.population,
            "adjustment": wildcards.adjustment,
            "transplant": wildcards.transplant,
            "horizon_days": int(wildcards.horizon),
        }
        call_logged(log, write_survival_cell, input.subjects, spec, params.settings, output[0])


rule sensitivity_reconstruction:
    """The primary analysis on the cohort the generator draws with another seed."""
    input:
        published=PUBLISHED,
        assumptions=RECONSTRUCTION_ASSUMPTIONS,
        config_file=Path(workflow.basedir) / "config.yaml",
        code=code("reconstruction.seeds"),
    output:
        "results/sensitivity/cells/reconstruction/seed{seed}.json",
    log:
        "logs/sensitivity_reconstruction/seed{seed}.log",
    group:
        "sensitivity"
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        study_cohort=STUDY_COHORT,
        visits=config["visits"],
        meld_score=config["analysis"]["meld_score"],
        settings=SETTINGS,
        primary=PRIMARY,
    script:
        "../scripts/sensitivity_reconstruction.py"


rule covariate_balance:
    """Standardised mean differences before and after inverse probability weighting."""
    input:
        subjects="results/datasets/subjects.csv",
        code=code("sensitivity.grid"),
    output:
        "results/sensitivity/covariate_balance.csv",
    log:
        "logs/covariate_balance.log",
    params:
        settings=SETTINGS,
    script:
        "../scripts/covariate_balance.py"


rule robustness:
    """Fragility indexes, E-values and the tipping point of the primary-visit MELD comparison."""
    input:
        endpoints=expand(
            "results/endpoints/{endpoint}.json", endpoint=["ascites_resolution", "survival", "complications"]
        ),
        datasets=rules.datasets.output.availability,
        code=code("sensitivity.grid"),
    output:
        json="results/sensitivity/robustness.json",
        tipping_point="results/sensitivity/tipping_point.csv",
    log:
        "logs/robustness.log",
    params:
        settings=SETTINGS,
        shifts=SENSITIVITY["tipping_point_shifts"],
    script:
        "../scripts/robustness.py"


rule sensitivity_summary:
    """One row per cell and endpoint."""
    input:
        cells=sensitivity_cells,
        code=code("sensitivity.grid"),
    output:
        report("results/sensitivity/summary.csv", caption="../report/sensitivity_summary.rst", category="Tables"),
    log:
        "logs/sensitivity_summary.log",
    params:
        primary=PRIMARY,
        tests=paper_tests(config),
    script:
        "../scripts/sensitivity_summary.py"


rule sensitivity:
    """Target: the whole grid, its summary and the robustness analyses."""
    input:
        rules.sensitivity_summary.output,
        rules.covariate_balance.output,
        rules.robustness.output,
