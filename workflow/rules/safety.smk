# Safety tables of a study report: adverse events by system organ class and preferred term
# (the term map named by config `safety.ae_terms`), exposure to the cells, lab shifts from baseline
# to the worst grade (config `safety.lab_grades`), and the listing of deaths and serious events.

#: The term map and lab grades; a relative path is the project's (beside the Snakefile), whatever --directory.
AE_TERMS = Path(workflow.basedir) / config["safety"]["ae_terms"]
LAB_GRADES = Path(workflow.basedir) / config["safety"]["lab_grades"]


rule safety:
    input:
        subjects=dataset_file("subjects"),
        adverse_events=dataset_file("adverse_events"),
        infusions=dataset_file("infusions"),
        availability=rules.datasets.output.availability,
        events="results/clean/events.csv",
        labs="results/clean/labs.csv",
        ae_terms=AE_TERMS,
        lab_grades=LAB_GRADES,
        code=code("analysis.safety"),
    output:
        adverse_events="results/tables/adverse_events_soc_pt.csv",
        exposure="results/tables/exposure.csv",
        lab_shifts="results/tables/lab_shifts.csv",
        listing="results/tables/deaths_serious_events.csv",
        json="results/tables/safety.json",
    log:
        "logs/safety.log",
    params:
        settings=config["safety"],
        arms=config["cohort"]["arms"],
        horizon_days=config["analysis"]["horizon_days"],
        death_event=config["analysis"]["death_event"],
        complications=config["endpoints"]["complications"]["events"],
    script:
        "../scripts/safety.py"
