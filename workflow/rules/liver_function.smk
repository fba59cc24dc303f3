# Liver function (albumin, prothrombin, bilirubin, INR, creatinine): values by visit,
# primary-visit change within arms and comparison between arms.


rule liver_function:
    input:
        rules.datasets.output,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/liver_function.json",
        csv="results/endpoints/liver_function.csv",
    log:
        "logs/liver_function.log",
    params:
        analysis=config["analysis"],
        spec=config["endpoints"]["liver_function"],
    script:
        "../scripts/endpoint.py"
