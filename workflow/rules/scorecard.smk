# Reported versus reproduced: the study's published figures beside the workflow's, and the
# published figures checked against themselves. Only for a raw folder whose cohort.yaml names
# a study with published figures (study.published); with the reconstruction of other seeds
# (sensitivity.smk), which draws cohorts from them, and the analysis-results table (report.smk),
# which lists them beside the reproduced numbers the scorecard reads from it, the only rules that
# read them. PUBLISHED (common.smk) is that file, found when the configuration is checked.

from msc_ascites.audit.plan import ARD, RESULTS

#: What the comparison with the published figures adds to the workflow's targets.
PUBLISHED_TARGETS = ["results/scorecard.csv"] if PUBLISHED else []

if PUBLISHED:

    rule paper_consistency:
        input:
            published=PUBLISHED,
            code=code("analysis.scorecard"),
        output:
            "results/paper_consistency.csv",
        log:
            "logs/paper_consistency.log",
        script:
            "../scripts/paper_consistency.py"

    rule scorecard:
        input:
            published=PUBLISHED,
            endpoints=expand("results/endpoints/{endpoint}.json", endpoint=ENDPOINTS),
            consistency=rules.paper_consistency.output[0],
            ard=f"{RESULTS}/{ARD}",
            code=code("analysis.scorecard"),
        output:
            report("results/scorecard.csv", caption="../report/scorecard.rst", category="Tables"),
        log:
            "logs/scorecard.log",
        script:
            "../scripts/scorecard.py"
