"""Rule ro_crate: the Workflow Run RO-Crate of the run, rooted at results/."""
from msc_ascites.audit import write_crate

write_crate(snakemake.input.manifest, snakemake.output[0])
