"""Rules sensitivity_week48 and sensitivity_survival: one cell of the grid, from its wildcards."""
from pathlib import Path

from msc_ascites.sensitivity import write_survival_cell, write_week48_cell

wc = snakemake.wildcards
if snakemake.rule == "sensitivity_week48":
    spec = {"population": wc.population, "missing": wc.missing, "window_days": wc.window, "test": wc.test,
            "adjustment": wc.adjustment}
    write_week48_cell(Path(snakemake.input.datasets).parent, spec, snakemake.params.settings, snakemake.output[0])
else:
    spec = {"population": wc.population, "adjustment": wc.adjustment, "transplant": wc.transplant,
            "horizon_days": int(wc.horizon)}
    write_survival_cell(snakemake.input.subjects, spec, snakemake.params.settings, snakemake.output[0])
