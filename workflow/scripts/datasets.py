"""Rule datasets: cleaned tables to analysis datasets."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from pathlib import Path

from msc_ascites.data.datasets import EventRoles, write_datasets

write_datasets(Path(snakemake.input.summary).parent, snakemake.input.summary, snakemake.params.visits,
               snakemake.params.analysis["meld_score"], Path(snakemake.output.availability).parent,
               EventRoles.from_config(snakemake.params.analysis, snakemake.params.complications),
               snakemake.params.not_collected)
