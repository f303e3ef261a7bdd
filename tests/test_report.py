"""The evaluation report: number formats, labels, structure, bilingual texts.

The report is rendered from a small set of export tables written here (the columns the
pipeline's table builders write), so every expected number is known by hand.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from regeval.reporting import numbers as nf
from regeval.reporting.html import write_report
from regeval.reporting.labels import catalogue, t, term_label

from .report_tables import SPEC, write_tables

# --- number formats --------------------------------------------------------------------

@pytest.mark.parametrize(("value", "decimals", "en", "da"), [
    (1234.5, 1, "1,234.5", "1.234,5"),
    (1234567.891, 0, "1,234,568", "1.234.568"),
    (-0.04, 1, "0.0", "0,0"),            # no "-0.0"
    (-2.25, 1, "\u22122.2", "\u22122,2"),  # half to even, true minus sign
    (0.0, 2, "0.00", "0,00"),
])
def test_numbers_in_english_and_danish(value, decimals, en, da):
    assert nf.number(value, decimals, "en") == en
    assert nf.number(value, decimals, "da") == da


def test_units_kr_percent_points_and_p_values():
    assert nf.kr(143411.4, "en") == "143,411\u00a0kr"
    assert nf.kr(143411.4, "da") == "143.411\u00a0kr."
    assert nf.points(0.2601, "en") == "+26.0\u00a0pp"
    assert nf.points(-0.031, "da") == "\u22123,1\u00a0pct.-point"
    assert nf.percent(0.035, "da") == "3,5\u00a0%"
    assert nf.p_value(7.13e-168, "en") == "<\u00a00.001"
    assert nf.p_value(0.0456, "da") == "0,046"
    assert nf.effect(float("nan"), "share") == nf.MISSING
    assert nf.number(pd.NA) == nf.MISSING
    assert nf.effect(2.814, "hours/week", "en") == "+2.8"


# --- labels ----------------------------------------------------------------------------

def test_every_text_of_the_catalogue_has_both_languages_and_the_same_fields():
    fields = re.compile(r"\{(\w+)")
    for section, entries in catalogue().items():
        for key, entry in entries.items():
            assert set(entry) == {"en", "da"}, (section, key)
            assert entry["en"].strip() and entry["da"].strip(), (section, key)
            assert set(fields.findall(entry["en"])) == set(fields.findall(entry["da"])), (section, key)


def test_characteristics_are_labelled_not_coded():
    assert term_label("education", "kort_videregaaende", "en") == "Highest education: short tertiary"
    assert term_label("cohort_year", "2014", "da") == "Startkohorte: 2014"
    assert term_label("diag_autism", None, "da") == "Diagnose: autisme"
    with pytest.raises(KeyError, match="catalogue"):
        t("no_such_text", "en")


# --- the report ------------------------------------------------------------------------

class _Doc(HTMLParser):
    """Ids, links, headings, images and the visible text of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.h2: list[str] = []
        self.images = 0
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "img":
            self.images += 1
        self._in.append(tag)

    def handle_endtag(self, tag):
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if self._in and self._in[-1] in ("style", "script"):
            return
        if self._in and self._in[-1] == "h2":
            self.h2.append(data.strip())
        if data.strip():
            self.text.append(data.strip())


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The hand-made tables, their figures and truth (drawn once for the module)."""
    return write_tables(tmp_path_factory.mktemp("export"))


def _render(tmp_path: Path, language: str, export: tuple[Path, Path, Path], truth: bool = True) -> tuple[str, _Doc]:
    tables, figures, truth_csv = export
    out = tmp_path / f"report_{language}.html"
    write_report(tables, figures, SPEC, out, tmp_path / f"tables_{language}.xlsx", language=language,
                 control_rule="censor_at_start", truth=truth_csv if truth else None)
    html = out.read_text(encoding="utf-8")
    doc = _Doc()
    doc.feed(html)
    return html, doc


def test_report_follows_the_published_evaluation_and_its_contents_resolve(tmp_path, export):
    html, doc = _render(tmp_path, "en", export)
    assert doc.h2 == ["Summary", "The population", "How the control group was found", "Effects",
                      "Robustness of the effects", "Budget economics", "Sensitivity", "Method and caveats",
                      "Appendix"]
    internal = [h[1:] for h in doc.links if h.startswith("#")]
    assert len(internal) >= 8 and set(internal) <= doc.ids
    text = " ".join(doc.text)
    # headline effects in words and numbers, from the tables written by hand
    assert "Share in supported or unsupported employment: +24.0\u00a0pp in year 1 after the start" in text
    assert "Hours per week in employment: on average +2.8 a year over years 0–7" in text
    assert "26,494\u00a0kr per participant" in text and "Municipalities: 48,459\u00a0kr" in text
    # the known truth beside the estimates (synthetic data)
    assert "true effect in the synthetic data: +24.0\u00a0pp" in text
    assert "synthetic registers" in text
    # no codes, no <NA>, no -0.0, no 4-decimal fractions
    for raw in ("educationkort_videregaaende", "cohort_year2014", "<NA>", "kommune", "-0.0", "0.2601"):
        assert raw not in text, raw
    # the outcome without variation is listed, not plotted
    assert "Outcomes without variation" in text and "Share on student grant" in text
    assert "support_su" not in html


def test_report_without_truth_says_nothing_of_synthetic_data(tmp_path, export):
    _html, doc = _render(tmp_path, "en", export, truth=False)
    text = " ".join(doc.text)
    assert "synthetic" not in text and "True effect" not in text


def _english_phrases(min_words: int = 3) -> set[str]:
    """English texts of the catalogue that differ from their Danish text, split at their
    fields into fixed phrases of at least ``min_words`` words."""
    out = set()
    for entries in catalogue().values():
        for entry in entries.values():
            if entry["en"] == entry["da"]:
                continue
            for part in re.split(r"\{[^}]*\}", entry["en"]):
                part = part.strip(" .,:;()[]")
                if len(part.split()) >= min_words:
                    out.add(part)
    return out


def english_left(text: str) -> list[str]:
    """English phrases of the catalogue found in ``text``."""
    return sorted(p for p in _english_phrases() if p in text)


def test_danish_report_has_no_english_sentence_left(tmp_path, export):
    html, doc = _render(tmp_path, "da", export)
    text = " ".join(doc.text)
    assert "lang=\"da\"" in html
    assert doc.h2[0] == "Sammenfatning"
    assert english_left(text) == []
    assert "+24,0\u00a0pct.-point" in text and "26.494\u00a0kr." in text
    # the check can fail: the English report is full of them
    _html_en, doc_en = _render(tmp_path, "en", export)
    assert len(english_left(" ".join(doc_en.text))) > 20


def test_report_shows_only_numbers_of_the_checked_tables(tmp_path, export):
    """Every number in the summary is a formatted cell of an export table."""
    tables = export[0]
    _html, doc = _render(tmp_path, "en", export, truth=False)
    log = json.loads((tables / "disclosure_log.json").read_text())
    allowed: set[str] = set()
    for entry in log["tables"]:
        df = pd.read_parquet(tables / f"{entry['table']}.parquet")
        for v in df.select_dtypes("number").to_numpy().ravel():
            if np.isfinite(v):
                for d in (0, 1, 2, 3):
                    allowed.add(nf.number(v, d).lstrip("\u2212+"))
                    allowed.add(nf.number(100 * v, d).lstrip("\u2212+"))
    summary = " ".join(doc.text)
    summary = summary[summary.index("The evaluation compares"):summary.index("The population")]
    spec_numbers = {str(v) for v in (0, 1, 5, 7, 17, 2022, 95)}
    for num in re.findall(r"\d[\d,]*(?:\.\d+)?", summary):
        assert num in allowed or num in spec_numbers, num


# --- robustness checks -------------------------------------------------------------------

def _warnings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", w) for w in re.findall(r'<p class="warning">(.*?)</p>', html, re.S)]


def test_report_states_the_robustness_checks_in_words_and_tables(tmp_path, export):
    """Score choice, balance verdict, rare outcomes, the doubly robust check, the placebo
    test and unobserved differences, from the hand-made tables (tests/report_tables.py)."""
    from regeval.stats.sensitivity import robustness_value

    html, doc = _render(tmp_path, "en", export)
    text = " ".join(doc.text)
    assert "The propensity score is the model logit (the published model). The candidates were logit " in text
    assert "Candidate propensity-score models" in text  # their table
    assert "every characteristic is balanced by all three criteria" in text
    assert "Age, squared (standardised)" in text  # a distribution term, labelled, in the balance table
    # one rare outcome-year: its star withheld (†) and the rule stated
    assert "In 1 of 55 outcome-years fewer than 10 persons in a group had the outcome (marked †)" in text
    assert "\u2020" in html.split('id="effects-table"')[1]
    assert "Check: the doubly robust estimate" in text and "Doubly robust" in text
    # the placebo test: one failure (a warning naming it), one outcome not judged
    assert _warnings(html) == [
        "Warning: participants and matched controls already differed before the start (p &lt; 0.05) in: GP "
        "contacts. The effects on these outcomes may be biased. With many outcomes, about one in twenty fails "
        "by chance."]
    assert "Not judged, because too few persons had the outcome before the start: Share on student grant." in text
    # unobserved differences: the sentence with the robustness values of the window, the figure, the table
    rv = robustness_value(2.814 / 0.318, 1286.0)
    assert (f"Hours per week in employment, average over years 0–7: a hidden difference would have to explain "
            f"{nf.percent(rv, 'en')} of the remaining variation") in text
    assert "Robustness values of the headline effects" in text
    assert "How strong a hidden difference would have to be" in text
    assert {"placebo", "confounding"} <= doc.ids


def test_failed_checks_are_warnings_that_name_what_failed(tmp_path, export):
    """An unbalanced term is named with the criterion it fails; a doubly robust estimate
    far from the effect names its cells; a flexible score says why it was chosen."""
    import shutil

    tables, figures, truth = export
    bad = tmp_path / "tables"
    shutil.copytree(tables, bad)
    bal = pd.read_parquet(bad / "balance.parquet")
    i = bal.index[bal["term"] == "age_sq"][0]
    bal.loc[i, ["smd_after", "var_ratio_after"]] = [0.14, 2.6]
    bal.loc[i, ["smd_ok", "var_ratio_ok", "balanced"]] = False
    bal.to_parquet(bad / "balance.parquet")
    eff = pd.read_parquet(bad / "effects.parquet")
    far = (eff["outcome"] == "employed") & (eff["rel_year"] == 2)
    eff.loc[far, "dr_estimate"] = eff.loc[far, "estimate"] + 3 * eff.loc[far, "se"]
    eff.to_parquet(bad / "effects.parquet")
    sel = pd.read_parquet(bad / "score_selection.parquet")
    sel["chosen"] = sel["model"] == "logit_flex"
    sel.to_parquet(bad / "score_selection.parquet")
    for language, expect in (
        ("en", ["after matching, 1 of 4 terms are not balanced", "Age, squared (standardised) (SMD 0.140, "
                "variance ratio 2.60)", "differs from the effect by more than one standard error in 1 of 40 "
                "outcome-years after the start: Share in supported or unsupported employment, year 2"]),
        ("da", ["efter matchning er 1 af 4 led ikke i balance", "Alder, i anden (standardiseret) (SMD 0,140, "
                "variansforhold 2,60)", "Andel i støttet eller ustøttet beskæftigelse, år 2"]),
    ):
        _html, doc = _render(tmp_path, language, (bad, figures, truth))
        warnings = " ".join(_warnings(_html))
        for phrase in expect:
            assert phrase in warnings, (language, phrase)
        text = " ".join(doc.text)
        if language == "en":
            assert "The propensity score is the model flexible logit (splines for age and employment)" in text
            assert "Unlike the published evaluation, the propensity score here is flexible logit" in text
        else:
            assert english_left(text) == []


def test_a_score_without_coefficients_lists_its_terms_by_name():
    from regeval.reporting.tableview import propensity_table

    model = pd.DataFrame({"term": ["age_s1", "sexwoman", "employment_degree_1_s4"], "estimate": np.nan,
                          "std_error": np.nan, "p_value": np.nan, "auc": 0.79})
    tab = propensity_table(model, "da", "gbm")
    assert tab.title == "Propensity-model (gradient-boostede træer)" and tab.note.startswith("Denne model har ingen")
    assert [r[0] for r in tab.rows] == ["Alder, spline-led 1", "Køn: kvinde",
                                        "Beskæftigelsesgrad, året før start, spline-led 4"]
