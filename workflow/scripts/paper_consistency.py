"""Rule paper_consistency: the abstract checked against itself."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.analysis.scorecard import write_paper_consistency

write_paper_consistency(snakemake.input.published, snakemake.output[0])
