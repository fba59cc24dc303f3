"""Rule sensitivity_reconstruction: the primary analysis on the cohort of another generator seed."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.reconstruction.seeds import write_seed_cell

p = snakemake.params
write_seed_cell(int(snakemake.wildcards.seed), snakemake.input.published, snakemake.input.assumptions,
                snakemake.input.config_file, p.study_cohort, p.visits, p.meld_score, p.settings, p.primary,
                snakemake.output[0])
