"""Rules of the endpoints (one per endpoint): the endpoint named after the rule."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from pathlib import Path

from msc_ascites.analysis.endpoints import write_endpoint

write_endpoint(snakemake.rule, Path(snakemake.input[0]).parent, snakemake.params.analysis, snakemake.params.spec,
               snakemake.output.json, snakemake.output.csv)
