"""Real public trials mapped into the raw data contract, for the end-to-end tests.

Each ``write_<trial>(out_dir)`` writes the contract's CSV files and the trial's cohort.yaml
(copied from ``tests/data/public/<trial>/``); ``CONFIGS[<trial>]`` is the small config file
(analysis, visits, endpoints) the build is given with ``--configfile``. Nothing is invented
but what is said below.

Dates. The data sets give study days only (except cgd), so enrollment dates are synthetic:
a fixed date per trial plus one day per subject (subject index mod 365); every other date is
enrollment plus the recorded day. Study days, the only thing analysed, are the data's own.

ACTG 175 (Hammer et al., NEJM 1996; lifelines' ``ACTG175.csv``): a randomised HIV trial, 2,139
patients, four arms. Control: zidovudine alone (``arms`` 0); treatment: the three others pooled
(ZDV+ddI, ZDV+zalcitabine, ddI). ``gender`` 1 = male; ``wtkg`` (kg), ``karnof`` kept as an
extra column. Labs: ``cd40``/``cd80`` at day 0, ``cd420``/``cd820`` at week 20 (dated day 140:
the data say only "20 +/- 5 weeks"), ``cd496`` at week 96 (day 672), as ``CD4``/``CD8`` in
cells/uL. ``cens`` = 1 is the trial's composite event (CD4 decline of 50% or more, AIDS or
death) at ``days``: event ``PROGRESSION``. The data do not separate deaths, so events.csv has
no ``DEATH``. Primary visit: week 20, window +/- 5 weeks.

PBC (Mayo Clinic primary biliary cirrhosis trial, D-penicillamine versus placebo, 1974-1984;
R ``survival::pbcseq``, Debian r-cran-survival): the 312 randomised patients with their
follow-up labs. ``trt`` 1 = D-penicillamine (treatment), 0 = placebo (control): checked
against ``survival::pbc`` (1/2 there, 158 and 154 patients). ``sex`` m/f; ``age`` in years.
Labs at ``day``: ``bili`` -> ``TBIL`` mg/dL, ``albumin`` -> ``ALB`` g/dL (the help page says
mg/dl; values of 2-5 are g/dL), ``protime`` -> ``PT`` s, ``platelet`` -> ``PLT`` 10^3/uL
(count per cubic mm / 1000), ``alk.phos`` -> ``ALP`` U/L (``ast``, in U/mL by the help page, is
left out: SGOT is another name of the contract's AST in U/L, which cleaning refuses),
``chol`` -> ``CHOL`` mg/dL. A missing value is written ``NA`` (cleaning removes and logs it).
``futime`` is the last contact; ``status`` 1 -> ``TRANSPLANT``, 2 -> ``DEATH`` at ``futime``:
transplant competes with death. The presence-only ``ascites``, ``hepato``, ``spiders``,
``edema`` and ``stage`` are not mapped (the contract's ascites table needs a grade). Protocol
visits at 6 months, 1 year, then yearly: the primary visit is week 52.

Colon (Moertel et al., 1990, adjuvant chemotherapy of stage B/C colon cancer; R
``survival::colon``): two rows per patient, ``etype`` 1 recurrence, 2 death. Treatment
``Lev+5FU`` (levamisole + 5-FU, 304 patients), control ``Obs`` (observation, 315); the third
arm ``Lev`` (levamisole alone, 310) is left out of subjects.csv, as in the trial's main
comparison, so that both arms are the trial's own. ``sex`` 1 = male; ``age`` in years. The
death row's ``time`` is the last contact; recurrence (``status`` 1 on the ``etype`` 1 row) ->
``RECURRENCE``, death -> ``DEATH``: death competes with recurrence. No labs at all (labs.csv
has its header only); the other columns (nodes, extent, ...) are not written.

CGD (International CGD Study Group, NEJM 1991, gamma interferon versus placebo in chronic
granulomatous disease; R ``survival::cgd``): 128 patients, ``random`` (date of randomisation,
a real date) is the enrollment date. ``treat`` rIFN-g (treatment) / placebo (control), ``sex``
male/female, ``age``, ``weight`` (kg). Each ``tstop`` with ``status`` 1 is a serious infection
(``INFECTION``, one row each); the last ``tstop`` is the last contact. No deaths and no labs.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import shutil
import warnings
import zlib
from functools import cache
from pathlib import Path

import pandas as pd
from lifelines import datasets

CONFIG_DIR = Path(__file__).parent / "data" / "public"
#: Debian's r-cran-survival installs R survival's data sets here (read without R by `rdata`).
R_SURVIVAL_DATA = Path("/usr/lib/R/library/survival/data")
LABS_HEADER = "subject_id,sample_date,test,value,unit\n"
ARM_NAMES = {0: "ZDV", 1: "ZDV+ddI", 2: "ZDV+zal", 3: "ddI"}


def r_survival_available() -> bool:
    return (R_SURVIVAL_DATA / "Rdata.rdx").exists() and (R_SURVIVAL_DATA / "Rdata.rdb").exists()


@cache
def _r_index() -> dict:
    import rdata
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unknown file type")
        index = rdata.conversion.convert(rdata.parser.parse_data(
            gzip.decompress((R_SURVIVAL_DATA / "Rdata.rdx").read_bytes())))
    return {name: (int(start), int(length)) for name, (start, length) in index["variables"].items()}


def r_survival_dataset(name: str) -> pd.DataFrame:
    """One data set of R's survival package, from its lazy-load database (Rdata.rdx/.rdb)."""
    import rdata
    start, length = _r_index()[name]
    with (R_SURVIVAL_DATA / "Rdata.rdb").open("rb") as db:
        db.seek(start)
        blob = db.read(length)
    kind = blob[4:5]
    if kind == b"Z":
        data = lzma.decompress(blob[5:], format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])
    elif kind == b"2":
        data = bz2.decompress(blob[5:])
    elif kind == b"0":
        data = blob[5:]
    else:
        data = zlib.decompress(blob[4:])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unknown file type")
        warnings.filterwarnings("ignore", message='Missing constructor for R class "Date"')
        return rdata.conversion.convert(rdata.parser.parse_data(data, expand_altrep=True))


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")


def _synthetic_enrollment(n: int, first: str) -> pd.Series:
    return pd.Series(pd.Timestamp(first) + pd.to_timedelta(pd.RangeIndex(n) % 365, unit="D"))


def _after(enrolled: pd.Series, days: pd.Series) -> pd.Series:
    return _iso(enrolled.reset_index(drop=True) + pd.to_timedelta(days.reset_index(drop=True), unit="D"))


def _write(out_dir: Path, trial: str, tables: dict[str, pd.DataFrame]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out_dir / f"{name}.csv", index=False)
    shutil.copy(CONFIG_DIR / trial / "cohort.yaml", out_dir / "cohort.yaml")
    return out_dir


def _events(ids: pd.Series, enrolled: pd.Series, days: pd.Series, code: str, happened: pd.Series):
    keep = happened.to_numpy().astype(bool)
    return pd.DataFrame({"subject_id": ids[keep].to_numpy(), "event": code,
                         "event_date": _after(enrolled[keep], days[keep]).to_numpy()})


def write_actg175(out_dir: Path) -> Path:
    data = pd.read_csv(Path(datasets.__file__).parent / "ACTG175.csv")
    enrolled = _synthetic_enrollment(len(data), "1991-01-01")
    ids = data["pidnum"].astype(str)
    subjects = pd.DataFrame({
        "subject_id": ids, "arm": data["arms"].map(ARM_NAMES), "enrollment_date": _iso(enrolled),
        "sex": data["gender"].map({1: "1", 0: "0"}), "age_years": data["age"],
        "last_contact_date": _after(enrolled, data["days"]),
        "weight_kg": data["wtkg"].round(1), "karnofsky": data["karnof"],
    })
    labs = [pd.DataFrame({"subject_id": ids, "sample_date": _after(enrolled, pd.Series(day, index=data.index)),
                          "test": test, "value": data[column].astype("Int64").astype(str).replace("<NA>", "NA"),
                          "unit": "cells/uL"})
            for column, test, day in (("cd40", "CD4", 0), ("cd420", "CD4", 140), ("cd496", "CD4", 672),
                                      ("cd80", "CD8", 0), ("cd820", "CD8", 140))]
    events = _events(ids, enrolled, data["days"], "PROGRESSION", data["cens"] == 1)
    return _write(out_dir, "actg175", {"subjects": subjects, "labs": pd.concat(labs), "events": events})


PBC_LABS = (("bili", "TBIL", "mg/dL"), ("albumin", "ALB", "g/dL"), ("protime", "PT", "s"),
            ("platelet", "PLT", "10^3/uL"), ("alk.phos", "ALP", "U/L"),
            ("chol", "CHOL", "mg/dL"))


def write_pbcseq(out_dir: Path) -> Path:
    visits = r_survival_dataset("pbcseq").reset_index(drop=True)
    first = visits.drop_duplicates("id").reset_index(drop=True)
    enrolled = _synthetic_enrollment(len(first), "1980-01-01")
    ids = first["id"].astype(int).astype(str)
    subjects = pd.DataFrame({
        "subject_id": ids, "arm": first["trt"].map({1: "D-penicillamine", 0: "placebo"}),
        "enrollment_date": _iso(enrolled), "sex": first["sex"].astype(str), "age_years": first["age"],
        "last_contact_date": _after(enrolled, first["futime"].astype(int))})
    enrolled_by_id = pd.Series(enrolled.to_numpy(), index=ids)
    visit_ids = visits["id"].astype(int).astype(str)
    dates = _after(visit_ids.map(enrolled_by_id), visits["day"].astype(int))
    labs = [pd.DataFrame({"subject_id": visit_ids, "sample_date": dates, "test": test,
                          "value": visits[column].astype("Float64").astype(str).replace("<NA>", "NA"),
                          "unit": unit})
            for column, test, unit in PBC_LABS]
    futime = first["futime"].astype(int)
    events = pd.concat([_events(ids, enrolled, futime, "TRANSPLANT", first["status"] == 1),
                        _events(ids, enrolled, futime, "DEATH", first["status"] == 2)])
    return _write(out_dir, "pbcseq", {"subjects": subjects, "labs": pd.concat(labs), "events": events})


def write_colon(out_dir: Path) -> Path:
    rows = r_survival_dataset("colon")
    rows = rows[rows["rx"].astype(str) != "Lev"]
    recurrence = rows[rows["etype"] == 1].sort_values("id").reset_index(drop=True)
    death = rows[rows["etype"] == 2].sort_values("id").reset_index(drop=True)
    enrolled = _synthetic_enrollment(len(death), "1985-01-01")
    ids = death["id"].astype(int).astype(str)
    subjects = pd.DataFrame({
        "subject_id": ids, "arm": death["rx"].astype(str), "enrollment_date": _iso(enrolled),
        "sex": death["sex"].astype(int).astype(str), "age_years": death["age"].astype(int),
        "last_contact_date": _after(enrolled, death["time"].astype(int))})
    events = pd.concat([_events(ids, enrolled, recurrence["time"].astype(int), "RECURRENCE",
                                recurrence["status"] == 1),
                        _events(ids, enrolled, death["time"].astype(int), "DEATH", death["status"] == 1)])
    out = _write(out_dir, "colon", {"subjects": subjects, "events": events})
    (out / "labs.csv").write_text(LABS_HEADER)
    return out


def write_cgd(out_dir: Path) -> Path:
    rows = r_survival_dataset("cgd").sort_values(["id", "enum"]).reset_index(drop=True)
    first = rows.drop_duplicates("id").reset_index(drop=True)
    last = rows.drop_duplicates("id", keep="last").reset_index(drop=True)
    # rdata returns R's Date class as its number: days since 1970-01-01.
    enrolled = pd.to_datetime(first["random"].astype(int), unit="D", origin="unix").reset_index(drop=True)
    ids = first["id"].astype(int).astype(str)
    subjects = pd.DataFrame({
        "subject_id": ids, "arm": first["treat"].astype(str), "enrollment_date": _iso(enrolled),
        "sex": first["sex"].astype(str), "age_years": first["age"].astype(int),
        "last_contact_date": _after(enrolled, last["tstop"].astype(int)), "weight_kg": first["weight"]})
    infections = rows[rows["status"] == 1]
    by_id = pd.Series(enrolled.to_numpy(), index=ids)
    infection_ids = infections["id"].astype(int).astype(str)
    events = pd.DataFrame({"subject_id": infection_ids.to_numpy(), "event": "INFECTION",
                           "event_date": _after(infection_ids.map(by_id), infections["tstop"].astype(int))})
    out = _write(out_dir, "cgd", {"subjects": subjects, "events": events})
    (out / "labs.csv").write_text(LABS_HEADER)
    return out


#: Each trial's writer, and its config file (given to Snakemake after tests/data/small_grid.yaml).
WRITERS = {"actg175": write_actg175, "pbcseq": write_pbcseq, "colon": write_colon, "cgd": write_cgd}
CONFIGS = {name: CONFIG_DIR / name / "config.yaml" for name in WRITERS}
