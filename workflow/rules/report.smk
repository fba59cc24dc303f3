# The report: every result laid out by one template into HTML, then PDF.


rule report:
    input:
        patient_flow=rules.patient_flow.output[0],
        table1=rules.table_one.output.table,
        table1_notes=rules.table_one.output.notes,
        cleaning_log=rules.clean.output.log,
        clean_summary=rules.clean.output.summary,
        inventory=rules.ingest.output[0],
        availability=rules.datasets.output.availability,
        template=TEMPLATES / "report.html.j2",
        stylesheet=TEMPLATES / "report.css",
        code=code("report"),
    output:
        html="results/report.html",
        pdf="results/report.pdf",
    params:
        config=config,
        templates=str(TEMPLATES),
    script:
        "../scripts/report.py"
