"""Rule report: results to results/report.html and results/report.pdf."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from pathlib import Path

from msc_ascites.report.render import write_report

inputs = {name: path for name, path in snakemake.input.items() if name != "code"}
write_report(inputs, snakemake.params.config, snakemake.params.git, Path(snakemake.input.template).parent,
             Path(snakemake.output.html), Path(snakemake.output.pdf))
