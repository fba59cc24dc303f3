# Adverse events up to the horizon by term, grade, seriousness and relatedness.


rule adverse_events:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/adverse_events.json",
        csv="results/endpoints/adverse_events.csv",
    log:
        "logs/adverse_events.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["adverse_events"],
    script:
        "../scripts/endpoint.py"
