# Need for paracentesis: patients, procedures, rates and time to the first.


rule paracentesis:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/paracentesis.json",
        csv="results/endpoints/paracentesis.csv",
    log:
        "logs/paracentesis.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["paracentesis"],
    script:
        "../scripts/endpoint.py"
