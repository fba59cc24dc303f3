# The report: every result laid out by one template into HTML, then PDF. The comparison with
# published figures goes in only when the raw folder's study has them (scorecard.smk).
from msc_ascites.audit.plan import ARD, RESULTS
from msc_ascites.audit.provenance import git_state

#: The results whose numbers the report prints: the analysis-results table reads exactly these.
ANALYSIS_RESULTS = dict(
    **({"published": PUBLISHED, "consistency": rules.paper_consistency.output[0]} if PUBLISHED else {}),
    **{f"safety_{name}": path for name, path in rules.safety.output.items()},
    patient_flow=rules.patient_flow.output[0],
    table1=rules.table_one.output.table,
    table1_notes=rules.table_one.output.notes,
    endpoints=expand("results/endpoints/{endpoint}.json", endpoint=ENDPOINTS),
    clean_summary=rules.clean.output.summary,
    inventory=rules.ingest.output[0],
    availability=rules.datasets.output.availability,
    sensitivity_summary=rules.sensitivity_summary.output[0],
    covariate_balance=rules.covariate_balance.output[0],
    robustness=rules.robustness.output.json,
)


rule analysis_results:
    """Every number the report prints, one row each (address, endpoint, population, group, statistic,
    value, method, source): what the report and `trace` read."""
    input:
        **ANALYSIS_RESULTS,
        code=code("report.ard"),
    output:
        f"{RESULTS}/{ARD}",
    log:
        "logs/analysis_results.log",
    params:
        config=config,
    script:
        "../scripts/analysis_results.py"


rule report:
    input:
        **ANALYSIS_RESULTS,
        **(
            {"reconstruction_assumptions": RECONSTRUCTION_ASSUMPTIONS}
            if "reconstruction_seed" in config["cohort"]
            else {}
        ),
        **({"scorecard": rules.scorecard.output[0]} if PUBLISHED else {}),
        ard=rules.analysis_results.output[0],
        figures=expand("results/figures/{figure}.svg", figure=FIGURES),
        cleaning_log=rules.clean.output.log,
        template=TEMPLATES / "report.html.j2",
        included_templates=[
            TEMPLATES / name
            for name in ("safety.html.j2", "patient_flow.html.j2", "reconstruction.html.j2", "limitations.html.j2")
        ],
        stylesheet=TEMPLATES / "report.css",
        code=code("report.render"),
    output:
        html="results/report.html",
        pdf=report("results/report.pdf", caption="../report/report_pdf.rst", category="Paper"),
    log:
        "logs/report.log",
    params:
        config=config,
        git=git_state(workflow.basedir),
    script:
        "../scripts/report.py"
