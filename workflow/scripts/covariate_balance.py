"""Rule covariate_balance: SMDs of the adjustment covariates before and after weighting."""
from msc_ascites.sensitivity import write_balance

write_balance(snakemake.input.subjects, snakemake.params.settings, snakemake.output[0])
