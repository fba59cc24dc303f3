"""Real public data mapped into the raw data contract, for integration tests.

ACTG 175 (Hammer et al., NEJM 1996; shipped with lifelines as ACTG175.csv): a
randomised HIV trial of 2,139 patients with four arms, CD4/CD8 counts at
baseline and week 20 (and week 96 for some), and time to a composite event.
The data set has no calendar dates, so enrollment dates are set to 1991-01-01
plus a day per row (mod 365): study days, the only thing analysed, are real.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from lifelines import datasets

ARM_NAMES = {0: "ZDV", 1: "ZDV+ddI", 2: "ZDV+zal", 3: "ddI"}


def write_actg175(out_dir: Path) -> Path:
    source = Path(datasets.__file__).parent / "ACTG175.csv"
    data = pd.read_csv(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    enrolled = pd.Series(pd.Timestamp("1991-01-01") + pd.to_timedelta(data.index % 365, unit="D"),
                         index=data.index)

    def iso(dates: pd.Series) -> pd.Series:
        return dates.dt.strftime("%Y-%m-%d")

    ids = data["pidnum"].astype(str)
    pd.DataFrame({
        "subject_id": ids, "arm": data["arms"].map(ARM_NAMES), "enrollment_date": iso(enrolled),
        "sex": data["gender"].map({1: "1", 0: "0"}), "age_years": data["age"],
        "last_contact_date": iso(enrolled + pd.to_timedelta(data["days"], unit="D")),
        "weight_kg": data["wtkg"].round(1), "karnofsky": data["karnof"],
    }).to_csv(out_dir / "subjects.csv", index=False)
    labs = []
    for column, test, day in (("cd40", "CD4", 0), ("cd420", "CD4", 140), ("cd496", "CD4", 672),
                              ("cd80", "CD8", 0), ("cd820", "CD8", 140)):
        labs.append(pd.DataFrame({"subject_id": ids, "sample_date": iso(enrolled + pd.Timedelta(days=day)),
                                  "test": test, "value": data[column].astype("Int64").astype(str)
                                  .replace("<NA>", "NA"), "unit": "cells/uL"}))
    pd.concat(labs).to_csv(out_dir / "labs.csv", index=False)
    events = data[data["cens"] == 1]
    pd.DataFrame({"subject_id": events["pidnum"].astype(str), "event": "PROGRESSION",
                  "event_date": iso(enrolled[events.index] + pd.to_timedelta(events["days"], unit="D"))}
                 ).to_csv(out_dir / "events.csv", index=False)
    (out_dir / "cohort.yaml").write_text(
        "# ACTG 175: zidovudine alone is the control arm; gender 1 = male.\n"
        "arms:\n"
        "  treatment: {label: 'ddI or combination', raw_labels: ['ZDV+ddI', 'ZDV+zal', 'ddI']}\n"
        "  control: {label: 'ZDV', raw_labels: ['ZDV']}\n"
        "sex_codes: {M: ['1'], F: ['0']}\n")
    return out_dir
