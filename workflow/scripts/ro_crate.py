"""Rule ro_crate: the Workflow Run RO-Crate of the run, rooted at results/."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.audit.crate import write_crate

write_crate(snakemake.input.manifest, snakemake.output[0])
