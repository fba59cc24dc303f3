"""Rules <figure>_figure: the step write_<figure> of msc_ascites.report.figures reads, draws and saves."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from msc_ascites.report import figures

step = getattr(figures, "write_" + snakemake.rule.removesuffix("_figure"))
inputs = {name: path for name, path in snakemake.input.items() if name != "code"}
step(inputs, snakemake.params.arms, snakemake.params.analysis, snakemake.output[0])
