"""Table 1 (baseline.table_one) on a six-patient frame, every cell computed by hand.

The p-values are R's, from R 4 on this machine (scipy gives the same to 1e-12):
    t.test(c(50, 60, 70), c(40, 45, 59))$p.value             # 0.212778740226983 (Welch)
    t.test(c(5, 6, 7), c(8, 9))$p.value                       # 0.0494162568625775 (Welch)
    kruskal.test(list(c(10, 20, 90), c(5, 6, 7)))$p.value     # 0.0495346134356268
    fisher.test(matrix(c(1, 2, 2, 1), 2))$p.value             # 1
"""

import numpy as np
import pandas as pd
import pytest

from msc_ascites.analysis.baseline import kruskal_wallis, table_one

ARMS = {"treatment": {"label": "MSC arm"}, "control": {"label": "SMT arm"}}


@pytest.fixture(scope="module")
def table():
    adsl = pd.DataFrame({
        "arm": ["treatment"] * 3 + ["control"] * 3,
        "age_years": [50, 60, 70, 40, 45, 59],
        "child_pugh_score": [5, 6, 7, 8, np.nan, 9],
        "baseline_TBIL": [10, 20, 90, 5, 6, 7],
        "sex": ["M", "M", "F", "M", "F", "F"],
        "weight_kg": [np.nan] * 6,
    })
    flat, left_out = table_one(adsl, ARMS, ["age_years", "child_pugh_score", "baseline_TBIL", "weight_kg"],
                               ["sex"], skewed=["baseline_TBIL"])
    return flat.set_index(["variable", "level"]), left_out


def row(table, variable, level=""):
    return table[0].loc[(variable, level)]


def test_arm_sizes_and_the_variable_with_no_value(table):
    assert row(table, "n")[["MSC arm", "SMT arm"]].tolist() == [3, 3]
    assert table[1] == ["weight_kg"]  # all missing: left out, and said so


def test_mean_sd_welch_and_smd(table):
    # Age: 60 (SD 10) vs 48 (SD sqrt(194 / 2) = 9.85); SMD (48 - 60) / sqrt((100 + 97) / 2) = -1.209.
    age = row(table, "Age, years, mean (SD)")
    assert (age["MSC arm"], age["SMT arm"], age["SMD"], age["p"]) == (
        "60.00 (10.00)", "48.00 (9.85)", "-1.209", "0.213")
    assert age["test"] == "Welch’s T-test" and age["Missing"] == 0


def test_a_missing_value_is_counted_not_imputed(table):
    # Child-Pugh 5, 6, 7 vs 8, (missing), 9: 6 (1.00) vs 8.5 (0.71), SMD 2.5 / sqrt(0.75) = 2.887.
    cp = row(table, "Child-Pugh score, mean (SD)")
    assert (cp["MSC arm"], cp["SMT arm"], cp["SMD"], cp["p"], cp["Missing"]) == (
        "6.00 (1.00)", "8.50 (0.71)", "2.887", "0.049", 1)


def test_skewed_median_quartiles_and_kruskal_wallis(table):
    # 10, 20, 90: median 20, quartiles 15 and 55 (R's type 7); 5, 6, 7: 6 [5.5, 6.5].
    # Ranks 4, 5, 6 vs 1, 2, 3: H = 12 / 42 * (15^2 / 3 + 6^2 / 3) - 21 = 27 / 7, p = 0.0495.
    tbil = row(table, "Total bilirubin, umol/L, median [Q1,Q3]")
    assert (tbil["MSC arm"], tbil["SMT arm"], tbil["p"], tbil["test"]) == (
        "20.00 [15.00,55.00]", "6.00 [5.50,6.50]", "0.050", "Kruskal-Wallis")
    assert kruskal_wallis([10, 20, 90], [5, 6, 7]) == pytest.approx(0.0495346134356268, rel=1e-9)


def test_categorical_counts_percentages_and_fisher(table):
    # Sex: 1 F, 2 M of 3 vs 2 F, 1 M; SMD (2/3 - 1/3) / sqrt((2/9 + 2/9) / 2) = 0.707; Fisher p = 1.
    female, male = row(table, "Sex, n (%)", "F"), row(table, "Sex, n (%)", "M")
    assert (female["MSC arm"], female["SMT arm"], male["MSC arm"], male["SMT arm"]) == (
        "1 (33.33)", "2 (66.67)", "2 (66.67)", "1 (33.33)")
    assert (female["SMD"], female["p"], female["test"]) == ("0.707", "1.000", "Fisher's exact")
