"""Rule paper_consistency: the abstract checked against itself."""
from msc_ascites.scorecard import write_paper_consistency

write_paper_consistency(snakemake.input.published, snakemake.output[0])
