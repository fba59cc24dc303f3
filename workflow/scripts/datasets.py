"""Rule datasets: cleaned tables to analysis datasets."""
from pathlib import Path

from msc_ascites.datasets import EventRoles, write_datasets

write_datasets(Path(snakemake.input.summary).parent, snakemake.input.summary, snakemake.params.visits,
               snakemake.params.analysis["meld_score"], Path(snakemake.output.availability).parent,
               EventRoles.from_config(snakemake.params.analysis, snakemake.params.complications),
               snakemake.params.not_collected)
