"""Rule patient_flow: counts of the CONSORT-style flow."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.analysis.flow import write_patient_flow

write_patient_flow(snakemake.input.subjects, snakemake.input.labs, snakemake.params.arms,
                   snakemake.params.primary_week, snakemake.params.horizon_days, snakemake.output[0],
                   snakemake.params.visits, snakemake.input.endpoints)
