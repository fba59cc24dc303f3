# Complications (HRS, HE, SBP) within the horizon, with death as a competing risk.


rule complications:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/complications.json",
        csv="results/endpoints/complications.csv",
    log:
        "logs/complications.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["complications"],
    script:
        "../scripts/endpoint.py"
