"""What the workflow makes, by name: the analysis datasets, and the registries of endpoints and figures.

Rules, scripts, the audit trail and the report share these entries: adding an endpoint or a
figure is one entry here and one function. They live apart from the code that computes them
so that parsing the Snakefile imports no analysis library: every Snakemake start (a no-op,
each cluster job) would otherwise pay for it. `step` imports a function only when called.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from .data.contract import DEATH, DERIVED_TEST

#: results/datasets/<name>.csv
DATASETS = ("subjects", "labs", "time_to_event", "ascites", "paracentesis", "adverse_events", "infusions")


DATASETS_DIR = "results/datasets"


def dataset_file(name: str, folder: str = DATASETS_DIR) -> str:
    return f"{folder}/{name}.csv"


def endpoint_file(name: str, kind: str = "json") -> str:
    return f"results/endpoints/{name}.{kind}"


def step(dotted: str):
    """The function at ``dotted`` (e.g. 'analysis.endpoints.meld_endpoint') inside this package."""
    module, _, function = dotted.rpartition(".")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


@dataclass(frozen=True)
class Test:
    """A test an endpoint may pre-specify (config ``endpoints.<name>.primary_test``): its name in the
    report, and where its p sits in the comparison it belongs to (relative to the endpoint's node)."""

    name: str
    p: str


#: Every pre-specifiable test, by the name config uses.
TESTS: dict[str, Test] = {
    "student_t": Test("Student's t-test", "student_t.p"),
    "welch_t": Test("Welch's t-test", "welch_t.p"),
    "mann_whitney": Test("Mann-Whitney test", "mann_whitney.p"),
    "ancova": Test("ANCOVA adjusted for baseline", "ancova.p"),
    "fisher_exact": Test("Fisher's exact test", "fisher_exact.p"),
    "chi_square": Test("chi-square test", "chi_square.p"),
    "chi_square_yates": Test("chi-square test with Yates' correction", "chi_square_yates.p"),
    "logrank": Test("log-rank test", "logrank.p"),
    "cox_likelihood_ratio": Test("Cox likelihood-ratio test", "cox.lr_p"),
    "cox_wald": Test("Cox Wald test", "cox.wald_p"),
    "poisson": Test("Poisson regression", "rate_ratio.poisson.p"),
    "negative_binomial": Test("negative binomial regression", "rate_ratio.negative_binomial.p"),
}

_BETWEEN_MEANS = ("student_t", "welch_t", "mann_whitney", "ancova")
_TWO_BY_TWO = ("fisher_exact", "chi_square", "chi_square_yates")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: results/endpoints/<name>.json and .csv.

    ``function`` computes it from the datasets (``function(data, analysis, spec, availability)``);
    ``reads`` are the analysis datasets it reads (its job's inputs: subjects for the counts by arm);
    ``needs`` the entries of availability.json without which it is not available (an optional table,
    or an outcome a cohort.yaml declares not collected). A trace of one of its numbers follows the
    rows of ``traced`` whose key (test or endpoint column) is ``traced_key`` (default: the address's
    first part), at the baseline week too when ``traced_baseline``. ``tests`` are those of TESTS it may
    pre-specify as its one primary test; the others it computes are supplementary. ``columns``: of a
    dataset it reads, the columns it uses, where that is not all (at 100k subjects the analysis labs
    are 6.6M rows; their source rows alone, one text per row, are a third of the memory). ``rows``:
    of a dataset, the column and its values of the only rows it uses (MELD reads its own rows of the
    labs, a tenth of them, not all of them with their source rows: 2.2 GB at 100k subjects).
    """

    name: str
    function: str
    reads: tuple[str, ...]
    traced: str
    needs: tuple[str, ...] = ()
    traced_key: str | None = None
    traced_baseline: bool = False
    tests: tuple[str, ...] = ()
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    rows: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Figure:
    """One figure: results/figures/<name>.svg, drawn by ``function(inputs, arms, analysis, out_path)``
    from ``inputs`` (name: results file), ``height_cm`` high (a figure that cannot be drawn keeps it),
    with its report ``caption`` (no numbers: levels and weeks come from the config)."""

    name: str
    function: str
    inputs: dict[str, str] = field(hash=False)
    height_cm: float
    caption: str


def _registry(entries) -> dict:
    return {entry.name: entry for entry in entries}


#: The analysis labs' columns the lab endpoints summarise and compare (not the study day, the
#: number of records or the source rows of each value).
LAB_SUMMARY_COLUMNS = ("subject_id", "arm", "test", "unit", "visit", "week", "value", "baseline", "change")

#: In the order of the paper.
ENDPOINTS: dict[str, Endpoint] = _registry([
    Endpoint("liver_function", "analysis.endpoints.liver_function_endpoint", ("subjects", "labs"), traced="labs",
             needs=("labs",), tests=_BETWEEN_MEANS, columns={"labs": LAB_SUMMARY_COLUMNS}),
    Endpoint("meld", "analysis.endpoints.meld_endpoint", ("subjects", "labs"), traced="labs", needs=("labs",),
             traced_key=DERIVED_TEST, tests=_BETWEEN_MEANS, columns={"labs": (*LAB_SUMMARY_COLUMNS, "source_rows")},
             rows={"labs": ("test", (DERIVED_TEST,))}),
    Endpoint("survival", "analysis.endpoints.survival_endpoint", ("subjects",), traced="time_to_event",
             needs=("death",), traced_key=DEATH, tests=("logrank", "cox_likelihood_ratio", "cox_wald")),
    Endpoint("ascites_resolution", "analysis.endpoints.ascites_resolution_endpoint", ("subjects", "ascites"),
             traced="ascites", needs=("ascites",), traced_baseline=True, tests=_TWO_BY_TWO),
    Endpoint("paracentesis", "analysis.endpoints.paracentesis_endpoint",
             ("subjects", "time_to_event", "paracentesis"), traced="paracentesis", needs=("paracentesis",),
             tests=("negative_binomial", "poisson", *_TWO_BY_TWO, "logrank")),
    Endpoint("complications", "analysis.endpoints.complications_endpoint", ("subjects", "time_to_event"),
             traced="time_to_event", needs=("complications",), tests=_TWO_BY_TWO),
    Endpoint("adverse_events", "analysis.endpoints.adverse_events_endpoint", ("subjects", "adverse_events"),
             traced="adverse_events", needs=("adverse_events",)),
])


def _endpoint_files(*names: str, csv: bool = False) -> dict[str, str]:
    """A figure's inputs from endpoint results: <name>_json (and <name>_csv)."""
    files = {f"{name}_json": endpoint_file(name) for name in names}
    return {**files, **({f"{name}_csv": endpoint_file(name, "csv") for name in names} if csv else {})}


#: In the order of the report.
FIGURES: dict[str, Figure] = _registry([
    Figure("liver_trajectories", "report.figures.write_liver_trajectories", _endpoint_files("liver_function", csv=True),
           6.5, "Albumin, prothrombin activity and total bilirubin by analysis visit and arm: mean with t-based "
                "confidence interval."),
    Figure("meld_baseline_primary", "report.figures.write_meld_baseline_primary", {"labs": dataset_file("labs")},
           7.0, "MELD score at baseline and at the primary week by arm: one point per patient, with box (median, "
                "quartiles, Tukey whiskers)."),
    Figure("km_survival", "report.figures.write_km_survival", _endpoint_files("survival", csv=True),
           12.0, "Overall survival by arm (Kaplan-Meier) with confidence bands and a tick at each censoring; under it "
                 "(KMunicate), per arm, the numbers at risk, censored and died before each time; the pre-specified "
                 "test and the Cox hazard ratio with its interval."),
    Figure("ascites_resolution", "report.figures.write_ascites_resolution",
           {"ascites_json": endpoint_file("ascites_resolution")},
           4.8, "Disappearance of ascites at the primary week by arm, with Wilson confidence intervals; the "
                "pre-specified test."),
    Figure("complications_incidence", "report.figures.write_complications_incidence",
           _endpoint_files("complications", csv=True),
           8.0, "Cumulative incidence of each complication by arm, with death as a competing risk (Aalen-Johansen), "
                "confidence bands, the numbers at risk and Gray's test."),
    Figure("forest_effects", "report.figures.write_forest_effects",
           {"ascites_json": endpoint_file("ascites_resolution"), **_endpoint_files("complications", "survival")},
           6.0, "Treatment versus control: risk differences and risk ratios (Katz intervals, the measure of the "
                "sensitivity grid and the E-values) of ascites disappearance and of each complication, and the risk "
                "difference (deaths within the horizon) and hazard ratio of death, with confidence intervals."),
    Figure("sensitivity_estimates", "report.figures.write_sensitivity_estimates",
           {"summary": "results/sensitivity/summary.csv"},
           7.5, "Every cell of the sensitivity grid, sorted by its estimate, with its confidence interval: filled, "
                "and dark in the strip under each panel, where p is below the significance level; the paper's own "
                "choices ringed; the reconstruction seeds as grey diamonds."),
    Figure("tipping_point", "report.figures.write_tipping_point",
           {"tipping_point": "results/sensitivity/tipping_point.csv"},
           7.5, "MELD at the primary week compared after shifting the imputed missing values of each arm: p-value of "
                "the pooled difference, with the line where it crosses the significance level."),
])


def endpoint_inputs(name: str, folder: str = DATASETS_DIR) -> list[str]:
    """What the endpoint's job reads: the datasets of its entry, and availability.json."""
    return [*(dataset_file(dataset, str(folder)) for dataset in ENDPOINTS[name].reads),
            f"{folder}/availability.json"]
