# The paper's endpoints: one job per entry of msc_ascites.products.ENDPOINTS, each reading
# only the analysis datasets its entry names (endpoint_datasets, common.smk).


rule endpoint:
    input:
        files=endpoint_datasets,
        code=code("analysis.endpoints"),
    output:
        json="results/endpoints/{endpoint}.json",
        csv="results/endpoints/{endpoint}.csv",
    log:
        "logs/endpoint/{endpoint}.log",
    wildcard_constraints:
        endpoint="|".join(ENDPOINTS),
    params:
        analysis=config["analysis"],
        spec=lambda wildcards: config["endpoints"][wildcards.endpoint],
    script:
        "../scripts/endpoint.py"
