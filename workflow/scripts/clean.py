"""Rule clean: raw exports to cleaned tables and the cleaning log."""
from pathlib import Path

from msc_ascites.cleaning import write_clean_cohort

write_clean_cohort(snakemake.params.raw_dir, snakemake.params.cohort, snakemake.params.visits,
                   Path(snakemake.output.summary).parent, snakemake.output.log, snakemake.output.summary)
