# Analysis datasets: subject level, lab values at analysis visits (windows from
# config), time to event with censoring, and the optional tables by arm.

rule datasets:
    input:
        tables=rules.clean.output.tables,
        summary=rules.clean.output.summary,
        code=code("datasets"),
    output:
        expand("results/datasets/{dataset}.csv", dataset=DATASETS),
        availability="results/datasets/availability.json",
    log:
        "logs/datasets.log",
    params:
        visits=config["visits"],
        meld_score=config["analysis"]["meld_score"],
    script:
        "../scripts/datasets.py"
