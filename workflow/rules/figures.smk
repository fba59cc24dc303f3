# Figures of the report: one rule per figure (results/figures/<figure>.svg), each drawn
# by msc_ascites.figures (its step write_<figure>) in the style of msc_ascites.style.


rule liver_trajectories_figure:
    input:
        liver_function_json="results/endpoints/liver_function.json",
        liver_function_csv="results/endpoints/liver_function.csv",
        code=code("figures"),
    output:
        "results/figures/liver_trajectories.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule meld_baseline_week48_figure:
    input:
        labs="results/datasets/labs.csv",
        code=code("figures"),
    output:
        "results/figures/meld_baseline_week48.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule km_survival_figure:
    input:
        survival_json="results/endpoints/survival.json",
        survival_csv="results/endpoints/survival.csv",
        code=code("figures"),
    output:
        "results/figures/km_survival.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule ascites_resolution_figure:
    input:
        ascites_json="results/endpoints/ascites_resolution.json",
        code=code("figures"),
    output:
        "results/figures/ascites_resolution.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule complications_incidence_figure:
    input:
        complications_json="results/endpoints/complications.json",
        complications_csv="results/endpoints/complications.csv",
        code=code("figures"),
    output:
        "results/figures/complications_incidence.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule forest_effects_figure:
    input:
        ascites_json="results/endpoints/ascites_resolution.json",
        complications_json="results/endpoints/complications.json",
        survival_json="results/endpoints/survival.json",
        code=code("figures"),
    output:
        "results/figures/forest_effects.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule sensitivity_estimates_figure:
    input:
        summary="results/sensitivity/summary.csv",
        code=code("figures"),
    output:
        "results/figures/sensitivity_estimates.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule tipping_point_figure:
    input:
        tipping_point="results/sensitivity/tipping_point.csv",
        code=code("figures"),
    output:
        "results/figures/tipping_point.svg",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"
