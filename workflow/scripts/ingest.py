"""Rule ingest: inventory of the raw exports."""
from msc_ascites.rawio import write_inventory

write_inventory(snakemake.params.raw_dir, snakemake.output[0])
