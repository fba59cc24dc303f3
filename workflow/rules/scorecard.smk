# Reported versus reproduced: the abstract's figures beside the workflow's, and the
# abstract checked against itself. The only rules that read the published figures, with
# the reconstruction of other seeds (sensitivity.smk), which draws cohorts from them.

PUBLISHED = Path(workflow.basedir) / "resources" / "published" / "hua2020_abstract.yaml"


rule paper_consistency:
    input:
        published=PUBLISHED,
        code=code("scorecard"),
    output:
        "results/paper_consistency.csv",
    script:
        "../scripts/paper_consistency.py"


rule scorecard:
    input:
        published=PUBLISHED,
        endpoints=expand("results/endpoints/{endpoint}.json", endpoint=ENDPOINTS),
        consistency=rules.paper_consistency.output[0],
        code=code("scorecard"),
    output:
        report("results/scorecard.csv", caption="../report/scorecard.rst", category="Tables"),
    script:
        "../scripts/scorecard.py"
