"""Rule patient_flow: counts of the CONSORT-style flow."""
from msc_ascites.baseline import write_patient_flow

write_patient_flow(snakemake.input.subjects, snakemake.input.labs, snakemake.params.arms,
                   snakemake.params.primary_week, snakemake.params.horizon_days, snakemake.output[0])
