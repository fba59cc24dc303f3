# Analysis datasets: subject level, lab values at analysis visits (windows from
# config), time to event of the configured event codes (death, competing events,
# complications) with censoring, and the optional tables by arm.


rule datasets:
    input:
        tables=rules.clean.output.tables,
        summary=rules.clean.output.summary,
        code=code("data.datasets"),
    output:
        expand("results/datasets/{dataset}.csv", dataset=DATASETS),
        availability="results/datasets/availability.json",
    log:
        "logs/datasets.log",
    params:
        visits=config["visits"],
        analysis={key: config["analysis"][key] for key in ("death_event", "competing_events", "meld_score")},
        complications=config["endpoints"]["complications"]["events"],
        not_collected=config["cohort"].get("not_collected", {}),
    script:
        "../scripts/datasets.py"
