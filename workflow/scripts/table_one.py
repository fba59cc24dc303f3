"""Rule table_one: baseline characteristics by arm."""
from msc_ascites.baseline import write_table_one

write_table_one(snakemake.input.subjects, snakemake.params.arms, snakemake.params.spec,
                snakemake.output.table, snakemake.output.notes)
