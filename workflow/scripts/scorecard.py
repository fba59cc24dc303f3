"""Rule scorecard: reported versus reproduced."""
from msc_ascites.scorecard import write_scorecard

write_scorecard(snakemake.input.published, snakemake.input.endpoints, snakemake.input.consistency,
                snakemake.output[0])
