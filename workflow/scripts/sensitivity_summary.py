"""Rule sensitivity_summary: every cell's rows in one table."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.sensitivity.grid import write_summary

write_summary(snakemake.input.cells, snakemake.params.primary, snakemake.params.tests, snakemake.output[0])
