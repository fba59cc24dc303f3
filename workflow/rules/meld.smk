# MELD score at baseline and the primary visit, within and between arms.


rule meld:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/meld.json",
        csv="results/endpoints/meld.csv",
    log:
        "logs/meld.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["meld"],
    script:
        "../scripts/endpoint.py"
