"""Rule covariate_balance: SMDs of the adjustment covariates before and after weighting."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.sensitivity.grid import write_balance

write_balance(snakemake.input.subjects, snakemake.params.settings, snakemake.output[0])
