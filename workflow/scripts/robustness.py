"""Rule robustness: fragility indexes, E-values, tipping point."""
from msc_ascites.joblog import log_to

log_to(snakemake.log)  # stdout and stderr also into logs/<rule>/..., before the imports that may warn
from pathlib import Path

import numpy as np

from msc_ascites.sensitivity.grid import write_robustness

shifts = snakemake.params.shifts
grid = np.arange(shifts["from"], shifts["to"] + shifts["step"] / 2, shifts["step"])
write_robustness(snakemake.input.endpoints, Path(snakemake.input.datasets).parent, snakemake.params.settings, grid,
                 snakemake.output.json, snakemake.output.tipping_point)
