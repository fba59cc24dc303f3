"""Rule datasets: cleaned tables to analysis datasets."""
from pathlib import Path

from msc_ascites.datasets import write_datasets

write_datasets(Path(snakemake.input.summary).parent, snakemake.input.summary, snakemake.params.visits,
               snakemake.params.meld_score, Path(snakemake.output.availability).parent)
