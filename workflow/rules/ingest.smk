# Ingestion: which raw exports the cohort has, with the SHA-256, size and columns
# of each. Structural faults (empty file, wrong delimiter, a missing required
# column) stop the workflow here.


rule ingest:
    input:
        raw=raw_exports,
        code=code("data.rawio"),
    output:
        "results/ingest/raw_inventory.json",
    log:
        "logs/ingest.log",
    params:
        raw_dir=str(RAW_DIR),
    script:
        "../scripts/ingest.py"
