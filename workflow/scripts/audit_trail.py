"""Rule audit_trail: results/provenance.json and results/manifest.json from the workflow's plan."""
from msc_ascites.audit import write_audit_trail

write_audit_trail(snakemake.params.plan, snakemake.output.provenance, snakemake.output.manifest)
