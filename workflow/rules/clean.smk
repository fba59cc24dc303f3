# Cleaning: raw exports to typed tables in study days, by the raw data contract
# (docs/data_dictionary.md). Every change and removal goes to the cleaning log.


rule clean:
    input:
        raw=raw_exports,
        inventory=rules.ingest.output[0],
        code=code("data.cleaning"),
    output:
        tables=expand("results/clean/{table}.csv", table=list(TABLES)),
        log=report("results/cleaning_log.csv", caption="../report/cleaning_log.rst", category="Tables"),
        summary="results/clean/summary.json",
    log:
        "logs/clean.log",
    params:
        raw_dir=str(RAW_DIR),
        cohort=config["cohort"],
        visits=config["visits"],
    script:
        "../scripts/clean.py"
