"""Safety as a clinical study report shows it (ICH E3 section 12): adverse events by system organ
class (SOC) and preferred term (PT), exposure to the cells, and a listing of deaths and serious events.

Every patient is counted once per row, at the worst grade of the row's events, so a row reads as
"patients with", never "events". The term-to-SOC map is data (``resources/safety/ae_terms.yaml``):
a raw term it does not know is tabulated as "unmapped" and named, never dropped. Disease outcomes
(death and the complications of events.csv) are a separate collection; what the AE collection holds
of them is counted from the data, not assumed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserError, user_errors_exit
from ..outputs import read_csv, write_csv, write_json
from ..safe_files import load_yaml
from ..stats.quantiles import describe

#: Worst-grade columns (CTCAE): the band's name and the grades in it.
GRADE_BANDS = (("grade_1_2", (1, 2)), ("grade_3", (3,)), ("grade_4", (4,)), ("grade_5", (5,)))
#: Relatedness values that make an event related to the treatment.
RELATED = ("possible", "probable", "definite")
UNMAPPED = "unmapped"
ANY_EVENT = "Any adverse event"


def normalised_term(text: str) -> str:
    """A raw term as the map matches it: case, spaces and hyphens do not matter."""
    return re.sub(r"[\s\-_]+", " ", str(text)).strip().casefold()


@dataclass(frozen=True)
class TermMap:
    """The map from raw terms to (PT, SOC), and the events.csv code a PT also is as an outcome."""

    coding: dict[str, tuple[str, str]]
    outcome_events: dict[str, str]

    def code(self, term: str) -> tuple[str, str]:
        """(PT, SOC) of a raw term; an unknown one keeps its own words under "unmapped"."""
        return self.coding.get(normalised_term(term), (str(term).strip(), UNMAPPED))


def term_map(data, source: str) -> TermMap:
    """The map of a parsed ae_terms file, checked: a synonym naming two PTs is an error."""
    if not isinstance(data, dict) or not isinstance(data.get("terms"), dict) or not data["terms"]:
        raise UserError(f"{source}: needs a non-empty 'terms' mapping (preferred term -> soc, synonyms)")
    coding, outcomes = {}, {}
    for pt, entry in data["terms"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("soc"), str) or not entry["soc"].strip():
            raise UserError(f"{source}: term {pt!r}: needs 'soc', a system organ class name")
        synonyms = entry.get("synonyms", [])
        if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
            raise UserError(f"{source}: term {pt!r}: 'synonyms' must be a list of strings")
        for raw in dict.fromkeys([str(pt), *synonyms]):
            key = normalised_term(raw)
            if key in coding and coding[key][0] != str(pt):
                raise UserError(f"{source}: synonym {raw!r} is under both {coding[key][0]!r} and {pt!r}")
            coding[key] = (str(pt), entry["soc"].strip())
        if entry.get("outcome_event"):
            outcomes[str(pt)] = str(entry["outcome_event"])
    return TermMap(coding, outcomes)


def load_term_map(path: Path | str) -> TermMap:
    return term_map(load_yaml(path), str(path))


def load_lab_grades(path: Path | str) -> dict:
    return lab_grades(load_yaml(path), str(path))


def coded_events(aes: pd.DataFrame, subjects: pd.DataFrame, terms: TermMap) -> pd.DataFrame:
    """The AEs with PT, SOC and onset in days from the patient's first infusion (from day 0,
    enrollment, for a patient never infused)."""
    out = aes.copy()
    coded = [terms.code(term) for term in out["term"]]
    out["pt"] = [pt for pt, _ in coded]
    out["soc"] = [soc for _, soc in coded]
    out["grade"] = out["grade"].astype(int)
    start = subjects.set_index("subject_id")["infusion_day"] if "infusion_day" in subjects else None
    reference = out["subject_id"].map(start).fillna(0) if start is not None else 0
    out["onset_day"] = (out["study_day"] - reference).astype(int)
    return out


def _patients(events: pd.DataFrame, arm: str, n: int) -> dict:
    """One row's cells for one arm: patients, their worst grades, the related ones, and onset."""
    rows = events[events["arm"] == arm]
    worst = rows.groupby("subject_id")["grade"].max()
    related = rows.loc[rows["related"].isin(RELATED), "subject_id"].nunique()
    onset = rows.groupby("subject_id")["onset_day"].min()
    cells = {"patients": int(len(worst)), "percent": 100 * len(worst) / n if n else None,
             **{band: int(worst.isin(grades).sum()) for band, grades in GRADE_BANDS},
             "related": int(related), "related_percent": 100 * related / n if n else None,
             "onset_median": float(np.median(onset)) if len(onset) else None,
             "onset_min": int(onset.min()) if len(onset) else None,
             "onset_max": int(onset.max()) if len(onset) else None}
    return {f"{arm}_{key}": value for key, value in cells.items()}


def _row(level: str, soc: str, pt: str, events: pd.DataFrame, n: dict) -> dict:
    row = {"level": level, "soc": soc, "pt": pt, "total_patients": int(events["subject_id"].nunique())}
    for arm, size in n.items():
        row.update(_patients(events, arm, size))
    return row


def _by_frequency(events: pd.DataFrame, column: str) -> list[str]:
    """The values of ``column`` by patients with them (all arms), most first, then by name."""
    counts = events.groupby(column)["subject_id"].nunique()
    return sorted(counts.index, key=lambda name: (-counts[name], name))


def ae_table(events: pd.DataFrame, n: dict) -> pd.DataFrame:
    """Any AE, then each SOC and its PTs, by frequency; "unmapped" last, its terms as written."""
    rows = [_row("any", "", ANY_EVENT, events, n)]
    socs = [s for s in _by_frequency(events, "soc") if s != UNMAPPED]
    for soc in socs + ([UNMAPPED] if (events["soc"] == UNMAPPED).any() else []):
        in_soc = events[events["soc"] == soc]
        rows.append(_row("soc", soc, "", in_soc, n))
        rows.extend(_row("pt", soc, pt, in_soc[in_soc["pt"] == pt], n) for pt in _by_frequency(in_soc, "pt"))
    return pd.DataFrame(rows)


def ae_summary(coded: pd.DataFrame, subjects: pd.DataFrame, horizon: int,
               arms: dict) -> tuple[pd.DataFrame, dict]:
    """The SOC/PT table of the coded AEs with onset from day 0 to the horizon, and what its notes
    say: N per arm, the unmapped raw terms, the events outside the window."""
    n = {arm: int((subjects["arm"] == arm).sum()) for arm in arms}
    inside = (coded["study_day"] >= 0) & (coded["study_day"] <= horizon)
    window = coded[inside]
    unmapped = sorted(set(window.loc[window["soc"] == UNMAPPED, "term"].astype(str)))
    notes = {"n": n, "horizon_days": horizon, "unmapped_terms": unmapped,
             "events": int(len(window)), "outside_window": int((~inside).sum())}
    return ae_table(window, n), notes


def _spread(values: pd.Series) -> dict:
    """Median, quartiles (R's default, type 7) and range; each None when there is no value."""
    described = describe(values)
    return {"n": described["n"], **{key: described.get(key) for key in ("median", "q1", "q3", "min", "max")}}


def exposure(infusions: pd.DataFrame, subjects: pd.DataFrame, arms: dict) -> pd.DataFrame:
    """Per arm: patients infused, infusions per infused patient, cells per infusion (10^6/kg) and
    days from day 0 to the first infusion. The control arm (cleaning refuses its infusions) reads
    "not applicable", not 0; the treatment arm is the first of ``arms``."""
    treated = next(iter(arms))
    rows = []
    for arm in arms:
        given = infusions[infusions["arm"] == arm]
        n = int((subjects["arm"] == arm).sum())
        per_patient = given.groupby("subject_id")
        infused = int(given["subject_id"].nunique())
        stats = {"infused": {"n": infused, "percent": 100 * infused / n if n else None},
                 "infusions_per_patient": _spread(per_patient.size()),
                 "cells_per_kg_1e6": _spread(given["cells_per_kg"] / 1e6),
                 "days_to_first_infusion": _spread(per_patient["study_day"].min())}
        rows.extend({"arm": arm, "statistic": name, "applicable": arm == treated, "patients": n, **values}
                    for name, values in stats.items())
    return pd.DataFrame(rows)


def _outcome(subject: pd.Series, death_row: bool) -> str:
    """What became of the patient, as the data record it."""
    if death_row:
        return "fatal"
    if pd.notna(subject.get("death_day")):
        return f"died, day {int(subject['death_day'])}"
    return f"alive, last contact day {int(subject['last_contact_day'])}"


def listing(events: pd.DataFrame, coded: pd.DataFrame | None, subjects: pd.DataFrame, death: str,
            codes: list[str], arms: dict) -> pd.DataFrame:
    """Deaths and the outcome events of ``codes`` (events.csv, which records no grade, seriousness or
    relatedness), and the AEs that are serious or of grade 3 or higher, by arm, patient and day."""
    by_id = subjects.set_index("subject_id")
    rows = [{"subject_id": e.subject_id, "day": int(e.study_day), "source": "events.csv", "event": e.event,
             "grade": "", "serious": "", "related": "", "outcome": _outcome(by_id.loc[e.subject_id], e.event == death)}
            for e in events[events["event"].isin(codes)].itertuples()]
    if coded is not None:
        severe = coded[(coded["serious"] == "Y") | (coded["grade"] >= 3)]
        rows += [{"subject_id": a.subject_id, "day": int(a.study_day), "source": "adverse_events.csv",
                  "event": f"{a.pt} ({a.soc})", "grade": str(a.grade), "serious": a.serious, "related": a.related,
                  "outcome": _outcome(by_id.loc[a.subject_id], a.grade == 5)} for a in severe.itertuples()]
    columns = ["subject_id", "arm", "day", "source", "event", "grade", "serious", "related", "outcome"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    out["arm"] = out["subject_id"].map(by_id["arm"])
    out["_arm"] = out["arm"].map({arm: i for i, arm in enumerate(arms)})
    return out.sort_values(["_arm", "subject_id", "day", "source", "event"], kind="stable")[columns]


def listing_summary(rows: pd.DataFrame, arms: dict) -> list[dict]:
    """The listing counted: per event (or AE term) and source, the events and patients of each arm;
    what the report prints when the listing is too long to print."""
    out = []
    for (source, event), group in rows.groupby(["source", "event"], sort=True):
        counts = {}
        for arm in arms:
            in_arm = group[group["arm"] == arm]
            counts.update({f"{arm}_events": int(len(in_arm)), f"{arm}_patients": int(in_arm["subject_id"].nunique())})
        out.append({"source": source, "event": event, **counts})
    return out


def collection(events: pd.DataFrame, coded: pd.DataFrame | None, terms: TermMap, codes: list[str]) -> dict:
    """What each collection holds: the AEs (serious, grade 3 or higher) and, per outcome code of
    events.csv, its events and patients and how many AEs are coded to the same condition."""
    outcomes = []
    for code in codes:
        rows = events[events["event"] == code]
        same = [pt for pt, event in terms.outcome_events.items() if event == code]
        as_ae = int(coded["pt"].isin(same).sum()) if coded is not None else None
        outcomes.append({"code": code, "events": int(len(rows)), "patients": int(rows["subject_id"].nunique()),
                         "as_adverse_events": as_ae})
    out = {"outcomes": outcomes}
    if coded is not None:
        out.update(ae_events=int(len(coded)), ae_patients=int(coded["subject_id"].nunique()),
                   serious=int((coded["serious"] == "Y").sum()), grade_3_plus=int((coded["grade"] >= 3).sum()))
    return out


@dataclass(frozen=True)
class LabGrade:
    """A lab test's CTCAE grading: grade g from value < bounds[g-1] (``low``) or > it (``high``)."""

    test: str
    term: str
    direction: str
    limit: str
    bounds: tuple[float, ...]

    def grade(self, values: pd.Series) -> pd.Series:
        """The grade of each value, 0 within limits; missing stays missing."""
        crossed = [(values < b) if self.direction == "low" else (values > b) for b in self.bounds]
        grades = sum(c.astype(int) for c in crossed)
        return grades.where(values.notna())


def lab_grades(data, source: str) -> dict[str, LabGrade]:
    """The gradings of a parsed lab_grades file, checked: bounds must get worse grade by grade."""
    if not isinstance(data, dict) or not isinstance(data.get("tests"), dict):
        raise UserError(f"{source}: needs a 'tests' mapping (test code -> term, direction, limit, bounds)")
    out = {}
    for test, entry in data["tests"].items():
        bounds = entry.get("bounds") if isinstance(entry, dict) else None
        direction = entry.get("direction") if isinstance(entry, dict) else None
        if direction not in ("low", "high") or not isinstance(bounds, list) or not bounds \
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
            raise UserError(f"{source}: test {test!r}: needs direction low or high and a list of numeric bounds")
        worse = list(bounds) == sorted(bounds, reverse=direction == "low")
        if not worse or len(set(bounds)) != len(bounds):
            raise UserError(f"{source}: test {test!r}: bounds {bounds} must {'fall' if direction == 'low' else 'rise'} "
                            "from grade 1 up")
        out[str(test)] = LabGrade(str(test), str(entry.get("term", test)), direction, str(entry.get("limit", "")),
                                  tuple(float(b) for b in bounds))
    return out


#: The cleaned labs' columns the shift tables read (at 100k subjects the file is 6M rows).
LAB_SHIFT_COLUMNS = ["subject_id", "study_day", "test", "value"]


def lab_shifts(labs: pd.DataFrame, subjects: pd.DataFrame, grades: dict[str, LabGrade], arms: dict,
               horizon: int) -> pd.DataFrame:
    """Patients by baseline grade and worst grade after baseline (days 1 to the horizon), per test
    and arm; "missing" where a patient has no value. Long format: one row per cell, zeros included."""
    after = labs[(labs["study_day"] >= 1) & (labs["study_day"] <= horizon)]
    rows = []
    for test, grading in grades.items():
        if f"baseline_{test}" not in subjects or not (labs["test"] == test).any():
            continue
        values = after[after["test"] == test]
        worst = grading.grade(values["value"]).groupby(values["subject_id"]).max()
        base = grading.grade(subjects.set_index("subject_id")[f"baseline_{test}"])
        levels = [str(g) for g in range(len(grading.bounds) + 1)] + ["missing"]
        for arm in arms:
            ids = subjects.loc[subjects["arm"] == arm, "subject_id"]
            pairs = pd.DataFrame({"baseline": ids.map(base), "worst": ids.map(worst)})
            pairs = pairs.apply(lambda c: c.map(lambda g: "missing" if pd.isna(g) else str(int(g))))
            counts = pairs.value_counts()
            rows += [{"test": test, "term": grading.term, "limit": grading.limit, "arm": arm, "baseline": b,
                      "worst": w, "patients": int(counts.get((b, w), 0))} for b in levels for w in levels]
    return pd.DataFrame(rows, columns=["test", "term", "limit", "arm", "baseline", "worst", "patients"])


def shift_report(shifts: pd.DataFrame, arms: dict) -> list[dict]:
    """The shift tables as the report lays them out: per test, one row per baseline grade that
    occurs, with per arm the patients by worst grade."""
    tables = []
    for test, cells in shifts.groupby("test", sort=False):
        levels = list(dict.fromkeys(cells["worst"]))
        shown = [b for b in levels if cells.loc[cells["baseline"] == b, "patients"].sum() > 0]
        rows = [{"baseline": b, **{arm: [int(cells.loc[(cells["arm"] == arm) & (cells["baseline"] == b)
                                                        & (cells["worst"] == w), "patients"].sum()) for w in levels]
                                   for arm in arms}} for b in shown]
        tables.append({"test": test, "term": cells["term"].iloc[0], "limit": cells["limit"].iloc[0],
                       "grades": levels, "rows": rows})
    return tables


def _unavailable(availability: dict) -> tuple[pd.DataFrame, dict]:
    """A table the cohort has no data for: one row, and the report's entry, saying why."""
    entry = {"available": False, "reason": availability["reason"]}
    return pd.DataFrame([entry]), entry


@user_errors_exit
def write_safety(inputs: dict, settings: dict, arms: dict, horizon: int, death: str,
                 complications: list[str], outputs: dict) -> None:
    """Step `safety`: the AE table by SOC and PT, exposure, lab shifts, the listing of deaths and
    serious events (CSV each) and all of them with their notes for the report (JSON). ``inputs``: the subjects,
    adverse_events and infusions datasets, availability.json, the cleaned events and the term map.
    ``settings``: config ``safety`` (the files as named there, the listing's printed rows). A table the cohort lacks the data for is one row
    saying why; an outcome not collected is left out."""
    availability = json.loads(Path(inputs["availability"]).read_text(encoding="utf-8"))
    subjects, events = read_csv(inputs["subjects"]), read_csv(inputs["events"])
    codes = [c for c, what in ((death, "death"), *((c, "complications") for c in complications))
             if availability.get(what, {}).get("available", True)]
    terms = load_term_map(inputs["ae_terms"])
    report, coded = {"arms": list(arms), "settings": settings}, None
    if availability["adverse_events"]["available"]:
        coded = coded_events(read_csv(inputs["adverse_events"]), subjects, terms)
        table, notes = ae_summary(coded, subjects, horizon, arms)
        report["adverse_events"] = {"available": True, "rows": table.to_dict("records"), **notes}
    else:
        table, report["adverse_events"] = _unavailable(availability["adverse_events"])
    write_csv(table, outputs["adverse_events"])
    if availability["infusions"]["available"]:
        table = exposure(read_csv(inputs["infusions"]), subjects, arms)
        report["exposure"] = {"available": True, "by_arm": {
            arm: {row["statistic"]: row for row in rows.to_dict("records")} for arm, rows in table.groupby("arm")}}
    else:
        table, report["exposure"] = _unavailable(availability["infusions"])
    write_csv(table, outputs["exposure"])
    if availability.get("labs", {}).get("available", True):
        labs = read_csv(inputs["labs"], LAB_SHIFT_COLUMNS)
        table = lab_shifts(labs, subjects, load_lab_grades(inputs["lab_grades"]), arms, horizon)
        report["lab_shifts"] = {"available": True, "tables": shift_report(table, arms),
                                "not_graded": sorted(set(labs["test"]) - set(table["test"]))}
    else:
        table, report["lab_shifts"] = _unavailable(availability["labs"])
    write_csv(table, outputs["lab_shifts"])
    table = listing(events, coded, subjects, death, codes, arms)
    report["listing"] = {"rows": table.to_dict("records"), "summary": listing_summary(table, arms), "codes": codes,
                         "death": death if death in codes else None}
    report["collection"] = collection(events, coded, terms, codes)
    write_csv(table, outputs["listing"])
    write_json(report, outputs["json"])
