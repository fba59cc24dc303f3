"""Rule table_one: baseline characteristics by arm."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.analysis.baseline import write_table_one

write_table_one(snakemake.input.subjects, snakemake.params.arms, snakemake.params.spec,
                snakemake.output.table, snakemake.output.notes)
