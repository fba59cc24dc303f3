"""Analysis datasets, one tidy table per kind (in the spirit of CDISC ADaM).

- ``subjects``: one row per subject (ADSL): arm, demographics, follow-up,
  death, the competing events, infusion and the baseline value of every lab test and MELD.
- ``labs``: one row per subject, test and analysis visit (ADLB), with change
  from baseline; MELD is derived per visit from the visit's TBIL, INR and CREA.
- ``time_to_event``: one row per subject and configured event code (ADTTE): day and
  status (0 censored at last contact, 1 event, 2 death first, a competing risk).

Which event code is death, which compete with it and which are complications is
the configuration's (``EventRoles``), never a literal here.
- ``ascites``, ``paracentesis``, ``adverse_events``: the optional tables, by arm.

Every row keeps ``source_rows``/``source_row``: the lines of the raw file it
came from, so a number can be traced back to the export.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import user_errors_exit
from ..outputs import read_csv, write_csv, write_json
from ..products import DATASETS
from ..settings import ANALYSIS_DEFAULTS
from .contract import DERIVED_TEST, TABLES, WITHDRAWAL
from .meld import meld, meld_na
from .units import LAB_UNITS
from .visits import Visit, select_visit_values, visits_from_config

TIME_TO_EVENT_COLUMNS = ["subject_id", "arm", "endpoint", "day", "status", "source_file", "source_row"]
MELD_COMPONENTS = ("TBIL", "INR", "CREA")
LAB_COLUMNS = ["subject_id", "arm", "test", "unit", "visit", "week", "study_day", "value", "baseline", "change",
               "n_records", "source_rows"]
#: What `analysis_labs` reads of the cleaned labs (not the nominal visit, not the censoring mark).
LAB_RECORD_COLUMNS = ["subject_id", "test", "study_day", "value", "unit", "source_row"]


@dataclass(frozen=True)
class EventRoles:
    """The event codes by role, from config (``analysis.death_event``, ``analysis.competing_events``,
    ``endpoints.complications.events``): they decide which ADSL columns and ADTTE rows exist."""

    death: str
    competing: tuple[str, ...]
    complications: tuple[str, ...]

    @classmethod
    def from_config(cls, analysis: dict, complications: list[str]) -> "EventRoles":
        return cls(analysis["death_event"], tuple(analysis["competing_events"]), tuple(complications))

    @property
    def codes(self) -> list[str]:
        """Every code that gets an ADTTE row, sorted, each once."""
        return sorted({self.death, *self.competing, *self.complications})


def analysis_labs(labs: pd.DataFrame, subjects: pd.DataFrame, visits: list[Visit],
                  meld_score: str = "MELD") -> pd.DataFrame:
    """One value per subject, test and visit, with baseline and change from baseline. Subjects, tests
    and visits are integer codes until the table is put together, and ``labs`` is let go once read
    (pass it in no other name): at 100k subjects (6M lab rows) grouping and sorting their text and
    holding two tables of it at once were most of the job's time and memory."""
    names = {"subject_id": _sorted_names(labs["subject_id"]), "test": _sorted_names(labs["test"], DERIVED_TEST),
             "visit": np.array([v.label for v in visits], dtype=object)}
    names["unit"] = _units_of_tests(labs, names["test"])
    names["arm"] = subjects.set_index("subject_id")["arm"].reindex(names["subject_id"]).to_numpy()
    records = pd.DataFrame({"subject_id": pd.Categorical(labs["subject_id"], categories=names["subject_id"]),
                            "test": pd.Categorical(labs["test"], categories=names["test"]),
                            **{column: labs[column] for column in ("study_day", "value", "source_row")}}, copy=False)
    del labs
    chosen = select_visit_values(records, visits, by=["subject_id", "test"], value="value")
    del records
    if chosen.empty:
        return pd.DataFrame(columns=LAB_COLUMNS)
    table = {column: chosen.pop(column).cat.codes.to_numpy() for column in ("subject_id", "test")}
    table["visit"] = pd.Categorical(chosen.pop("visit"), categories=names["visit"]).codes
    table |= {column: chosen.pop(column).to_numpy() for column in list(chosen.columns)}
    meld_rows = _meld_by_visit(table, names["test"], len(visits), meld_score)
    for column, values in meld_rows.items():
        table[column] = np.concatenate([table[column], values])
    pair = table["subject_id"].astype(np.int64) * len(names["test"]) + table["test"]
    baseline_visit = next(i for i, v in enumerate(visits) if v.is_baseline)
    table["baseline"] = _baseline_values(pair, table["visit"] == baseline_visit, table["value"])
    table["change"] = table["value"] - table["baseline"]
    return _by_subject_test_visit(table, np.argsort(pair * len(visits) + table["visit"]), names)


def _sorted_names(column: pd.Series, *extra: str) -> np.ndarray:
    """The column's distinct values (and ``extra``), sorted: codes into it sort as the names do."""
    return np.array(sorted({*column.dropna().unique(), *extra}), dtype=object)


def _units_of_tests(labs: pd.DataFrame, tests: np.ndarray) -> np.ndarray:
    """Each test's unit: the canonical one, "score" for MELD, else the first the labs give it."""
    first = labs.drop_duplicates("test")
    first_unit = dict(zip(first["test"], first["unit"]))
    canonical = {test: unit for test, (unit, _) in LAB_UNITS.items()} | {DERIVED_TEST: "score"}
    return np.array([canonical.get(test, first_unit.get(test)) for test in tests], dtype=object)


def _baseline_values(pair: np.ndarray, at_baseline: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's baseline: the value of its subject and test (``pair``) at the baseline visit, NaN
    where there is none."""
    keys, base = pair[at_baseline], values[at_baseline]
    if not len(keys):
        return np.full(len(pair), np.nan)
    order = np.argsort(keys)
    keys, base = keys[order], base[order]
    at = np.searchsorted(keys, pair).clip(max=len(keys) - 1)
    return np.where(keys[at] == pair, base[at], np.nan)


def _by_subject_test_visit(table: dict[str, np.ndarray], position: np.ndarray,
                           names: dict[str, np.ndarray]) -> pd.DataFrame:
    """The table's columns in order, rows in ``position`` order, each column let go once taken:
    the table is never held twice (sorting a frame and selecting its columns copied it twice, 4 GB)."""
    subject, test = table.pop("subject_id")[position], table.pop("test")[position]
    out = {"subject_id": names["subject_id"][subject], "arm": names["arm"][subject],
           "test": names["test"][test], "unit": names["unit"][test]}
    del subject, test
    out["visit"] = names["visit"][table.pop("visit")[position]]
    for column in LAB_COLUMNS[len(out):]:
        out[column] = table.pop(column)[position]
    return pd.DataFrame(out, copy=False)


def _meld_by_visit(table: dict[str, np.ndarray], tests: np.ndarray, n_visits: int, score: str) -> dict:
    """MELD (or MELD-Na) rows at each visit where all its components have a value (none where a
    component is never measured), as columns of ``table``."""
    components = [*MELD_COMPONENTS, "NA"] if score == "MELD-Na" else list(MELD_COMPONENTS)
    pair = table["subject_id"].astype(np.int64) * n_visits + table["visit"]
    rows = {}
    for component in components:
        measured = np.flatnonzero(table["test"] == np.searchsorted(tests, component)) \
            if component in tests else np.zeros(0, dtype=np.int64)
        if not len(measured):
            return {}
        measured = measured[~np.isnan(table["value"][measured])]
        rows[component] = measured[np.argsort(pair[measured])]
    complete = functools.reduce(lambda a, b: np.intersect1d(a, b, assume_unique=True),
                                (pair[measured] for measured in rows.values()))  # one row per pair and test
    at = {component: measured[np.searchsorted(pair[measured], complete)] for component, measured in rows.items()}
    value = {component: table["value"][rows] for component, rows in at.items()}
    return {"subject_id": complete // n_visits, "test": np.full(len(complete), np.searchsorted(tests, DERIVED_TEST)),
            "visit": complete % n_visits, "week": table["week"][at[components[0]]],
            "study_day": np.maximum.reduce([table["study_day"][rows] for rows in at.values()]),
            "value": (meld_na(value["TBIL"], value["INR"], value["CREA"], value["NA"]) if score == "MELD-Na"
                      else meld(value["TBIL"], value["INR"], value["CREA"])),
            "n_records": np.add.reduce([table["n_records"][rows] for rows in at.values()]),
            "source_rows": _joined_sorted(np.column_stack([table["source_rows"][rows] for rows in at.values()]))}


def _joined_sorted(columns: np.ndarray) -> np.ndarray:
    """Each row's strings in sorted order joined by ';', a column at a time: one Python call per
    MELD visit was most of the datasets job at 100k subjects (800k visits)."""
    ordered = np.sort(columns, axis=1)
    joined = ordered[:, 0]
    for i in range(1, ordered.shape[1]):
        joined = joined + ";" + ordered[:, i]
    return joined


def subject_level(subjects: pd.DataFrame, events: pd.DataFrame, infusions: pd.DataFrame | None,
                  lab_visits: pd.DataFrame, visits: list[Visit], roles: EventRoles) -> pd.DataFrame:
    """ADSL: one row per subject. ``death``/``death_day`` is the configured death event, whatever
    its code; each competing event has its own columns (``transplant_day`` for TRANSPLANT) and
    ``competing_day`` is the first of them, the day survival's follow-up ends without a death."""
    adsl = subjects.drop(columns=["source_row"]).copy()
    columns = {"death": roles.death, **{code.lower(): code for code in roles.competing}, "withdrawal": WITHDRAWAL}
    for name, event in columns.items():
        first = events[events["event"] == event].groupby("subject_id")["study_day"].min()
        adsl[f"{name}_day"] = adsl["subject_id"].map(first)
        adsl[name] = adsl[f"{name}_day"].notna().astype(int)
    adsl["competing_day"] = adsl[[f"{code.lower()}_day" for code in roles.competing]].min(axis=1) \
        if roles.competing else np.nan
    if infusions is not None:
        per_subject = infusions.groupby("subject_id").agg(
            n_infusions=("study_day", "size"), infusion_day=("study_day", "min"),
            cells_per_kg=("cells_per_kg", "sum"))
        adsl = adsl.join(per_subject, on="subject_id")
        adsl["n_infusions"] = adsl["n_infusions"].fillna(0).astype(int)
    baseline_label = next(v.label for v in visits if v.is_baseline)
    base = lab_visits[lab_visits["visit"] == baseline_label].pivot(
        index="subject_id", columns="test", values="value")
    for test in sorted(base.columns):
        adsl[f"baseline_{test}"] = adsl["subject_id"].map(base[test])
    return adsl.sort_values("subject_id", kind="stable").reset_index(drop=True)


def time_to_event(subjects: pd.DataFrame, events: pd.DataFrame,
                  paracentesis: pd.DataFrame | None, roles: EventRoles) -> pd.DataFrame:
    """ADTTE: first occurrence of each configured event code, censored at last contact.

    For every endpoint but death itself, a death before the event is a competing
    risk (status 2 at the day of death). A code with no occurrence still gets its rows.
    """
    base = subjects.set_index("subject_id")
    death = events[events["event"] == roles.death].sort_values("study_day").drop_duplicates("subject_id")
    death = death.set_index("subject_id")
    sources = {event: events[events["event"] == event] for event in roles.codes}
    if paracentesis is not None:
        sources["PARACENTESIS"] = paracentesis
    frames = []
    for endpoint, rows in sources.items():
        file = "paracentesis.csv" if endpoint == "PARACENTESIS" else "events.csv"
        first = rows.sort_values(["study_day", "source_row"]).drop_duplicates("subject_id").set_index("subject_id")
        out = pd.DataFrame({"subject_id": base.index, "arm": base["arm"].to_numpy()})
        out["endpoint"] = endpoint
        event_day = out["subject_id"].map(first["study_day"])
        death_day = out["subject_id"].map(death["study_day"])
        last = out["subject_id"].map(base["last_contact_day"])
        competing = (endpoint != roles.death) & death_day.notna() & (event_day.isna() | (death_day < event_day))
        out["day"] = np.where(event_day.notna() & ~competing, event_day, np.where(competing, death_day, last))
        out["status"] = np.where(event_day.notna() & ~competing, 1, np.where(competing, 2, 0))
        # Where the day comes from: the event's row, the death's, or the subject's last contact.
        status = out["status"]
        out["source_file"] = np.where(status == 1, file, np.where(status == 2, "events.csv", "subjects.csv"))
        row = out["subject_id"].map(first["source_row"]).where(status == 1)
        row = row.fillna(out["subject_id"].map(death["source_row"]).where(status == 2))
        out["source_row"] = row.fillna(out["subject_id"].map(base["source_row"])).astype(int)
        frames.append(out)
    tte = pd.concat(frames, ignore_index=True)
    tte["day"] = tte["day"].astype(int)
    return tte.sort_values(["endpoint", "subject_id"], kind="stable").reset_index(drop=True)[TIME_TO_EVENT_COLUMNS]


def with_arm(table: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """The table with each subject's arm beside the id, rows by subject, day and source row (stable):
    one copy of the table, not the four of copying, sorting and re-indexing it (at 100k subjects
    the paracentesis have 1.7M rows)."""
    keys = ["subject_id", "study_day", "source_row"]
    order = table[keys].reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()
    out = table.take(order)
    out.insert(1, "arm", out["subject_id"].map(subjects.set_index("subject_id")["arm"]))
    out.index = pd.RangeIndex(len(out))
    return out


def ascites_visits(ascites: pd.DataFrame, subjects: pd.DataFrame, visits: list[Visit]) -> pd.DataFrame:
    """Ascites grade (and volume) at each analysis visit."""
    grade = select_visit_values(ascites, visits, by=["subject_id"], value="grade")
    volume = select_visit_values(ascites.dropna(subset=["volume_ml"]), visits, by=["subject_id"],
                                 value="volume_ml")
    out = grade.merge(volume[["subject_id", "visit", "volume_ml"]], on=["subject_id", "visit"], how="left")
    out.insert(1, "arm", out["subject_id"].map(subjects.set_index("subject_id")["arm"]))
    order = {v.label: i for i, v in enumerate(visits)}
    out = out.assign(_o=out["visit"].map(order)).sort_values(["subject_id", "_o"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


def build_datasets(clean: dict[str, pd.DataFrame], absent: list[str], visits: list[Visit],
                   roles: EventRoles, meld_score: str = "MELD") -> dict:
    """All analysis datasets; an absent optional table (empty when cleaned) gives an empty one.

    Time to first paracentesis is left out when the table is absent, not set
    to "no paracentesis": absence of data is not absence of events. The labs are taken out of
    ``clean`` (popped), so that the cleaned labs are freed once their analysis table is built.
    """
    subjects = clean["subjects"]
    labs = analysis_labs(clean.pop("labs"), subjects, visits, meld_score)
    infusions = None if "infusions" in absent else clean["infusions"]
    paracentesis = None if "paracentesis" in absent else clean["paracentesis"]
    out = {
        "subjects": subject_level(subjects, clean["events"], infusions, labs, visits, roles),
        "labs": labs,
        "time_to_event": time_to_event(subjects, clean["events"], paracentesis, roles),
    }
    out["ascites"] = ascites_visits(clean["ascites"], subjects, visits)
    for name in ("paracentesis", "adverse_events", "infusions"):
        out[name] = with_arm(clean[name], subjects)
    return out


@user_errors_exit
def write_datasets(clean_dir: Path | str, clean_summary: Path | str, visits_cfg: dict, meld_score: str,
                   out_dir: Path | str, roles: EventRoles | None = None,
                   not_collected: dict[str, str] | None = None) -> None:
    """Step `datasets`: every analysis dataset, and which optional tables and outcomes the cohort
    lacks (``not_collected``: outcome -> reason, from its cohort.yaml). Without ``roles``, the
    default death and competing events and no complication (what the reconstruction seeds need)."""
    absent = json.loads(Path(clean_summary).read_text(encoding="utf-8"))["absent_optional_tables"]
    roles = roles or EventRoles.from_config(ANALYSIS_DEFAULTS, [])
    # The cleaned tables in no name here: they are freed once built upon, before the writing.
    built = build_datasets(_clean_tables(Path(clean_dir)), absent, visits_from_config(visits_cfg), roles, meld_score)
    for name in DATASETS:
        write_csv(built[name], Path(out_dir) / f"{name}.csv")
    availability = {name: ({"available": False, "reason": f"{name}.csv is not in the raw data folder"}
                           if name in absent else {"available": True}) for name in DATASETS}
    for outcome, reason in sorted((not_collected or {}).items()):
        availability[outcome] = {"available": False, "reason": f"not collected: {reason}"}
    write_json(availability, Path(out_dir) / "availability.json")


def _clean_tables(clean_dir: Path) -> dict[str, pd.DataFrame]:
    """The cleaned tables; of the labs only what their analysis reads, the texts as Categoricals."""
    tables = {name: read_csv(clean_dir / f"{name}.csv") for name in TABLES if name != "labs"}
    tables["labs"] = read_csv(clean_dir / "labs.csv", LAB_RECORD_COLUMNS, categorical=("subject_id", "test", "unit"))
    return tables
