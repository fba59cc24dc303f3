"""Rule clean: raw exports to cleaned tables and the cleaning log."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from pathlib import Path

from msc_ascites.data.cleaning import write_clean_cohort

write_clean_cohort(snakemake.params.raw_dir, snakemake.params.cohort, snakemake.params.visits,
                   Path(snakemake.output.summary).parent, snakemake.output.log, snakemake.output.summary)
