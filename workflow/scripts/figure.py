"""Rule figure: the function of the {figure} wildcard's FIGURES entry reads, draws and saves."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/figure/..., before the imports that may warn
from msc_ascites.products import FIGURES, step

entry = FIGURES[snakemake.wildcards.figure]
inputs = dict(zip(entry.inputs, snakemake.input.files))  # the entry's names, in its order
step(entry.function)(inputs, snakemake.params.arms, snakemake.params.analysis, snakemake.output[0])
