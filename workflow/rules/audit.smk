# The auditor's trail, included after every other stage: each job that makes TARGETS is
# found as Snakemake finds it (the rule whose output matches, with its wildcards) and
# written down as plain data (outputs, inputs, code, params), which msc_ascites.audit.trail
# turns into results/provenance.json and results/manifest.json, and msc_ascites.audit.crate
# into an RO-Crate.
include: "audit_plan.smk"


rule audit_trail:
    """How every result was made (provenance.json) and the hash of every file (manifest.json)."""
    input:
        results=[f for job in AUDIT_PLAN["jobs"] for f in job["outputs"]],
        sources=list(AUDIT_PLAN["sources"]),
        code=code("audit.trail"),
    output:
        provenance=f"{RESULTS}/{PROVENANCE}",
        manifest=f"{RESULTS}/{MANIFEST}",
    log:
        "logs/audit_trail.log",
    params:
        plan=AUDIT_PLAN,
    script:
        "../scripts/audit_trail.py"


rule ro_crate:
    """A Workflow Run RO-Crate of the run, with results/ as its root."""
    input:
        manifest=rules.audit_trail.output.manifest,
        code=code("audit.crate"),
    output:
        f"{RESULTS}/{CRATE}",
    log:
        "logs/ro_crate.log",
    script:
        "../scripts/ro_crate.py"
