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
                      "Budget economics", "Sensitivity", "Method and caveats", "Appendix"]
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
