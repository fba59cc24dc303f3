"""What the workflow makes, by name: the analysis datasets, endpoints and figures.

Rules, scripts and the report share these names. They live apart from the code
that computes them so that parsing the Snakefile imports no analysis library:
every Snakemake start (a no-op, each cluster job) would otherwise pay for it.
"""

#: results/datasets/<name>.csv
DATASETS = ("subjects", "labs", "time_to_event", "ascites", "paracentesis", "adverse_events", "infusions")

#: results/endpoints/<name>.json and .csv, in the order of the paper.
ENDPOINTS = ("liver_function", "meld", "survival", "ascites_resolution", "paracentesis", "complications",
             "adverse_events")

#: results/figures/<name>.svg, in the order of the report.
FIGURES = ("liver_trajectories", "meld_baseline_primary", "km_survival", "ascites_resolution",
           "complications_incidence", "forest_effects", "sensitivity_estimates", "tipping_point")
