"""Analysis visits from study days, by the windows in config.

The nominal visit label on a CRF is never trusted over the date: a sample
belongs to the visit whose window holds its study day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError


@dataclass(frozen=True)
class Visit:
    label: str
    week: int          # 0 for baseline
    target_day: int
    first_day: int
    last_day: int

    @property
    def is_baseline(self) -> bool:
        return self.week == 0


def visits_from_config(cfg: dict) -> list[Visit]:
    """Baseline, then the scheduled visits in order; windows must not overlap."""
    base = cfg["baseline"]
    visits = [Visit(base["label"], 0, 0, -int(base["lookback_days"]), 0)]
    for item in sorted(cfg["scheduled"], key=lambda v: v["week"]):
        first, last = item["window_days"]
        target = 7 * int(item["week"])
        if not first <= target <= last:
            raise ConfigError(f"visits.scheduled week {item['week']}: window_days {item['window_days']} "
                              f"must contain the target day {target}")
        if first <= visits[-1].last_day:
            raise ConfigError(f"visits.scheduled week {item['week']}: window_days {item['window_days']} "
                              f"overlaps the window of {visits[-1].label}")
        visits.append(Visit(item["label"], int(item["week"]), target, int(first), int(last)))
    return visits


def nominal_visit(study_day, visits: list[Visit]) -> np.ndarray:
    """Label of the visit window that holds each study day ('' when none does)."""
    days = np.asarray(study_day)
    labels = np.full(days.shape, "", dtype=object)
    for visit in visits:
        labels[(days >= visit.first_day) & (days <= visit.last_day)] = visit.label
    return labels


def select_visit_values(records: pd.DataFrame, visits: list[Visit], by: list[str],
                        value: str) -> pd.DataFrame:
    """One value per ``by`` group and visit.

    Baseline takes the last record on or before day 0 (within the lookback);
    week N the record closest to its target day, ties to the earlier day.
    Several records on the chosen day are averaged (their rows are all kept in
    ``source_rows``). Columns out: by, visit, week, study_day, value, n_records,
    source_rows.
    """
    out_columns = [*by, "visit", "week", "study_day", value, "n_records", "source_rows"]
    if records.empty:
        return pd.DataFrame(columns=out_columns)
    days = records["study_day"].to_numpy()
    pieces = []
    for visit in visits:
        inside = (days >= visit.first_day) & (days <= visit.last_day)
        part = records.loc[inside, [*by, "study_day", value, "source_row"]].copy()
        if part.empty:
            continue
        # Rank: baseline prefers the latest day; scheduled the nearest, then the earlier.
        part["_rank"] = (-part["study_day"] if visit.is_baseline
                         else (part["study_day"] - visit.target_day).abs() * 2
                         + (part["study_day"] > visit.target_day))
        best = part.groupby(by, sort=False)["_rank"].transform("min")
        chosen = part[part["_rank"] == best].sort_values([*by, "source_row"], kind="stable")
        grouped = chosen.groupby(by, sort=True)
        result = grouped.agg(study_day=("study_day", "first"), n_records=(value, "size"),
                             first_row=("source_row", "first"))
        result[value] = grouped[value].mean()
        result["source_rows"] = result.pop("first_row").astype(str)
        several = result["n_records"] > 1
        if several.any():  # rare: join the rows only where a day has more than one record
            sizes = grouped["source_row"].transform("size")
            joined = chosen[sizes > 1].groupby(by, sort=True)["source_row"].agg(
                lambda rows: ";".join(str(r) for r in rows))
            result.loc[joined.index, "source_rows"] = joined
        result = result.reset_index()
        result["visit"] = visit.label
        result["week"] = visit.week
        pieces.append(result)
    if not pieces:
        return pd.DataFrame(columns=out_columns)
    return pd.concat(pieces, ignore_index=True)[out_columns]
