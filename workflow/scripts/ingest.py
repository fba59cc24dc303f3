"""Rule ingest: inventory of the raw exports."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.data.rawio import write_inventory

write_inventory(snakemake.params.raw_dir, snakemake.output[0])
