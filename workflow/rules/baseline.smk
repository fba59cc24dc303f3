# Baseline characteristics by arm (Table 1) and the patient flow (with the n each endpoint analysed).


rule table_one:
    input:
        subjects="results/datasets/subjects.csv",
        code=code("analysis.baseline"),
    output:
        table=report("results/tables/table1.csv", caption="../report/table1.rst", category="Tables"),
        notes="results/tables/table1_notes.json",
    log:
        "logs/table_one.log",
    params:
        arms=config["cohort"]["arms"],
        spec=config["table1"],
    script:
        "../scripts/table_one.py"


rule patient_flow:
    input:
        subjects="results/datasets/subjects.csv",
        labs="results/datasets/labs.csv",
        endpoints=expand("results/endpoints/{endpoint}.json", endpoint=ENDPOINTS),
        code=code("analysis.flow"),
    output:
        "results/patient_flow.json",
    log:
        "logs/patient_flow.log",
    params:
        arms=config["cohort"]["arms"],
        primary_week=config["analysis"]["primary_week"],
        horizon_days=config["analysis"]["horizon_days"],
        visits=config["visits"],
    script:
        "../scripts/patient_flow.py"
