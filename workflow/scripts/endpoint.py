"""Rule endpoint: the endpoint of the {endpoint} wildcard, computed by its ENDPOINTS entry."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/endpoint/..., before the imports that may warn
from msc_ascites.analysis.endpoints import write_endpoint

write_endpoint(snakemake.wildcards.endpoint, snakemake.input.files, snakemake.params.analysis, snakemake.params.spec,
               snakemake.output.json, snakemake.output.csv)
