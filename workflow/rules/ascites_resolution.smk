# Disappearance of ascites at the primary visit among patients with ascites at baseline.


rule ascites_resolution:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/ascites_resolution.json",
        csv="results/endpoints/ascites_resolution.csv",
    log:
        "logs/ascites_resolution.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["ascites_resolution"],
    script:
        "../scripts/endpoint.py"
