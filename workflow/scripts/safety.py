"""Rule safety: adverse events by SOC and PT, exposure, lab shifts, deaths and serious events."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.analysis.safety import write_safety

write_safety(dict(snakemake.input), snakemake.params.settings, snakemake.params.arms,
             snakemake.params.horizon_days, snakemake.params.death_event, snakemake.params.complications,
             dict(snakemake.output))
