# Figures of the report: one rule per figure (results/figures/<figure>.svg), each drawn
# by msc_ascites.report.figures (its step write_<figure>) in the style of msc_ascites.report.style.


def figure_output(stem):
    """The figure's SVG, which `snakemake --report` shows under Figures."""
    return report(f"results/figures/{stem}.svg", caption="../report/figure.rst", category="Figures",
                  labels={"figure": stem.replace("_", " ")})


rule liver_trajectories_figure:
    input:
        liver_function_json="results/endpoints/liver_function.json",
        liver_function_csv="results/endpoints/liver_function.csv",
        code=code("report.figures"),
    output:
        figure_output("liver_trajectories"),
    log:
        "logs/liver_trajectories_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule meld_baseline_primary_figure:
    input:
        labs="results/datasets/labs.csv",
        code=code("report.figures"),
    output:
        figure_output("meld_baseline_primary"),
    log:
        "logs/meld_baseline_primary_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule km_survival_figure:
    input:
        survival_json="results/endpoints/survival.json",
        survival_csv="results/endpoints/survival.csv",
        code=code("report.figures"),
    output:
        figure_output("km_survival"),
    log:
        "logs/km_survival_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule ascites_resolution_figure:
    input:
        ascites_json="results/endpoints/ascites_resolution.json",
        code=code("report.figures"),
    output:
        figure_output("ascites_resolution"),
    log:
        "logs/ascites_resolution_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule complications_incidence_figure:
    input:
        complications_json="results/endpoints/complications.json",
        complications_csv="results/endpoints/complications.csv",
        code=code("report.figures"),
    output:
        figure_output("complications_incidence"),
    log:
        "logs/complications_incidence_figure.log",
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
        code=code("report.figures"),
    output:
        figure_output("forest_effects"),
    log:
        "logs/forest_effects_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule sensitivity_estimates_figure:
    input:
        summary="results/sensitivity/summary.csv",
        code=code("report.figures"),
    output:
        figure_output("sensitivity_estimates"),
    log:
        "logs/sensitivity_estimates_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"


rule tipping_point_figure:
    input:
        tipping_point="results/sensitivity/tipping_point.csv",
        code=code("report.figures"),
    output:
        figure_output("tipping_point"),
    log:
        "logs/tipping_point_figure.log",
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"
