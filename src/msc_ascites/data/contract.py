"""The raw data contract as data: tables, columns, kinds and allowed values.

docs/data_dictionary.md describes the same contract for people; cleaning reads
it from here, so a column is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of column: how cleaning parses them.
ID, TEXT, CODE, DATE, NUMBER, INTEGER, LAB_VALUE, FLAG = (
    "id", "text", "code", "date", "number", "integer", "lab_value", "flag")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = True          # the column must be in the file
    missing_allowed: bool = False  # a cell may be empty or a missing code
    bounds: tuple[float, float] | None = None  # inclusive range of a number
    allowed: tuple[str, ...] | None = None     # allowed values of a code


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def date_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == DATE]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


SUBJECT_ID = Column("subject_id", ID)

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("subjects", True, (
        SUBJECT_ID,
        Column("arm", TEXT),
        Column("enrollment_date", DATE),
        Column("sex", TEXT),
        Column("age_years", NUMBER, bounds=(0, 120)),
        Column("last_contact_date", DATE),
        Column("etiology", TEXT, required=False, missing_allowed=True),
        Column("child_pugh_score", INTEGER, required=False, missing_allowed=True, bounds=(5, 15)),
        # Any age (a trial may enrol children: the CGD trial's lightest patient weighs 17.4 kg):
        # from the lightest surviving newborns to the heaviest weight recorded.
        Column("weight_kg", NUMBER, required=False, missing_allowed=True, bounds=(0.2, 650)),
    )),
    Table("labs", True, (
        SUBJECT_ID,
        Column("sample_date", DATE),
        Column("visit", TEXT, required=False, missing_allowed=True),
        Column("test", CODE),
        Column("value", LAB_VALUE, missing_allowed=True, bounds=(0, float("inf"))),
        Column("unit", TEXT, missing_allowed=True),
    )),
    Table("events", True, (
        SUBJECT_ID,
        Column("event", CODE),
        Column("event_date", DATE),
    )),
    Table("ascites", False, (
        SUBJECT_ID,
        Column("assessment_date", DATE),
        Column("grade", INTEGER, bounds=(0, 3)),
        Column("volume_ml", NUMBER, required=False, missing_allowed=True, bounds=(0, 50000)),
    )),
    Table("paracentesis", False, (
        SUBJECT_ID,
        Column("procedure_date", DATE),
        Column("volume_l", NUMBER, missing_allowed=True, bounds=(0, 50)),
    )),
    Table("adverse_events", False, (
        SUBJECT_ID,
        Column("onset_date", DATE),
        Column("term", TEXT),
        Column("grade", INTEGER, bounds=(1, 5)),
        Column("serious", FLAG, allowed=("Y", "N")),
        Column("related", CODE, allowed=("not related", "unlikely", "possible", "probable", "definite")),
    )),
    Table("infusions", False, (
        SUBJECT_ID,
        Column("infusion_date", DATE),
        Column("cells_per_kg", NUMBER, bounds=(0, 1e10)),
    )),
)}

#: Event codes the analyses read (events.csv); other codes are kept as the cohort's own.
DEATH, TRANSPLANT, WITHDRAWAL = "DEATH", "TRANSPLANT", "WITHDRAWAL"
EVENT_CODES = (DEATH, "HRS", "HE", "SBP", TRANSPLANT, WITHDRAWAL)
#: Other names exports give the contract's codes (lab tests' readable names are in units.LAB_NAMES):
#: cleaning names each as an error ("Died" is DEATH), never a code of the cohort's own, which no
#: analysis would read. Only unambiguous names: CR (complete response?) or LT are not listed.
CODE_SYNONYMS = {
    DEATH: ("died", "dead", "deceased", "exitus", "expired", "death from any cause"),
    "HRS": ("hepatorenal syndrome", "hepato-renal syndrome"),
    "HE": ("hepatic encephalopathy",),
    "SBP": ("spontaneous bacterial peritonitis",),
    TRANSPLANT: ("liver transplant", "liver transplantation", "transplantation", "transplanted", "OLT"),
    WITHDRAWAL: ("withdrawn", "withdrew", "withdrawal of consent", "dropout", "dropped out"),
    "ALB": ("serum albumin",), "TBIL": ("bilirubin", "serum bilirubin", "TBILI", "T.BILI"),
    "CREA": ("CREAT", "serum creatinine"), "NA": ("serum sodium",), "PLT": ("platelet count",),
    "ALT": ("GPT", "SGPT", "alanine aminotransferase"), "AST": ("GOT", "SGOT", "aspartate aminotransferase"),
}
#: The lab test the analysis datasets derive (MELD, or MELD-Na, from TBIL, INR, CREA and NA): cleaning
#: refuses a raw test of that name, which would sit beside the derived rows under one name.
DERIVED_TEST = "MELD"
#: Arm codes of the cleaned data, in the order every table and figure shows them (cohort.arms maps a
#: cohort's own labels onto them).
ARMS = ("treatment", "control")

#: Usable dates: from 1901-01-01 (1900-01-01 and earlier are spreadsheet and database placeholders)
#: to the day of the build (a raw export holds no record of the future).
FIRST_USABLE_DATE = "1901-01-01"

#: Date formats the contract accepts, by the name config uses.
DATE_FORMATS = {
    "YYYY-MM-DD": ["%Y-%m-%d"],
    "DD/MM/YYYY": ["%d/%m/%Y"],
    "YYYY/MM/DD": ["%Y/%m/%d"],
    "YYYY-MM-DD HH:MM[:SS]": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"],
}
