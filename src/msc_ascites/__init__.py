"""Rebuild Hua 2020 (MSC for refractory ascites) from raw CRF exports.

The package holds all the logic of the workflow and knows nothing of Snakemake:
the scripts in ``workflow/scripts`` only pass paths and parameters to it.
"""
