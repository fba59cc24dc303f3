# Figures of the report: one job per entry of msc_ascites.products.FIGURES
# (results/figures/<figure>.svg), reading only the results its entry names (figure_inputs,
# common.smk), drawn in the style of msc_ascites.report.style.


rule figure:
    input:
        files=figure_inputs,
        code=code("report.figures"),
    output:
        report(
            "results/figures/{figure}.svg",
            caption="../report/figure.rst",
            category="Figures",
            labels=figure_label,
        ),
    log:
        "logs/figure/{figure}.log",
    wildcard_constraints:
        figure="|".join(FIGURES),
    params:
        arms=config["cohort"]["arms"],
        analysis=config["analysis"],
    script:
        "../scripts/figure.py"
