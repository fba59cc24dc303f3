"""Rule audit_trail: results/provenance.json and results/manifest.json from the workflow's plan."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.audit.trail import write_audit_trail

write_audit_trail(snakemake.params.plan, snakemake.output.provenance, snakemake.output.manifest)
