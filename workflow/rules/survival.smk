# Overall survival: Kaplan-Meier, log-rank, Cox hazard ratio, RMST at the horizon.


rule survival:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/survival.json",
        csv="results/endpoints/survival.csv",
    log:
        "logs/survival.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["survival"],
    script:
        "../scripts/endpoint.py"
