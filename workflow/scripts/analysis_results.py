"""Rule analysis_results: the report's results to results/ard.csv."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.report.ard import write_analysis_results

inputs = {name: path for name, path in snakemake.input.items() if name != "code"}
write_analysis_results(inputs, snakemake.params.config, snakemake.output[0])
