"""Rule scorecard: reported versus reproduced."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.analysis.scorecard import write_scorecard

write_scorecard(snakemake.input.published, snakemake.input.endpoints, snakemake.input.consistency,
                snakemake.input.ard, snakemake.output[0])
