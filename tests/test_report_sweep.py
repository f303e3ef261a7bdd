"""The sweep summary: numeric order, labels, links to each spec's report, one row per
distinct estimate in its figure, styled like the report, in either language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from regeval.reporting.sweep import forest_figure, natural_key, spec_order, write_summary

from .report_tables import write_tables
from .test_report import _Doc
from .test_report_figures import fit_problems

SPECS = ["sweep", "sweep-k20-rulepessimistic", "sweep-k1-rulesignificant", "sweep-k10-rulesignificant",
         "sweep-k5-rulesignificant", "sweep-k1-rulepessimistic"]


def _settings(spec: str) -> dict:
    if spec == "sweep":
        return {"matching.k": 10, "budget.effects_rule": "significant"}
    k, rule = spec.split("-")[1:]
    return {"matching.k": int(k[1:]), "budget.effects_rule": rule[4:]}


@pytest.fixture(scope="module")
def specs(tmp_path_factory) -> dict[str, Path]:
    """Every spec with the hand-made tables; the effect estimates scaled by k (the
    budget variants of one k share their effects, as in a run)."""
    root = tmp_path_factory.mktemp("sweep")
    tables = write_tables(root / "template", draw=False)[0]
    out = {}
    for s in SPECS:
        d = root / s / "export" / "tables"
        shutil.copytree(tables, d)
        k = _settings(s)["matching.k"]
        win = pd.read_parquet(d / "effect_windows.parquet")
        win[["estimate", "ci_low", "ci_high"]] *= 1 + k / 100
        win.to_parquet(d / "effect_windows.parquet")
        net = pd.read_parquet(d / "budget_net.parquet")
        net["value_pv"] *= 1 + k / 100 - (0.5 if "pessimistic" in s else 0)
        net.to_parquet(d / "budget_net.parquet")
        out[s] = d
    return out


def test_specs_sort_by_number_not_as_text():
    assert sorted(["k10", "k5", "k20", "k1"], key=natural_key) == ["k1", "k5", "k10", "k20"]
    assert spec_order(["a-k10", "base", "a-k5"], "base") == ["base", "a-k5", "a-k10"]


@pytest.mark.parametrize("language", ["en", "da"])
def test_summary_page_lists_specs_in_order_with_labels_and_links(specs, tmp_path, language):
    html = tmp_path / "summary.html"
    checked = write_summary(
        specs, "sweep", {s: s for s in specs}, 5, tmp_path / "s.csv", tmp_path / "s.parquet", tmp_path / "f.png",
        html, language=language, settings={s: _settings(s) for s in specs},
        reports={s: f"../../{s}/export/report.html" for s in specs}, name="sweep")
    assert list(dict.fromkeys(checked["spec"])) == [
        "sweep", "sweep-k1-rulepessimistic", "sweep-k1-rulesignificant", "sweep-k5-rulesignificant",
        "sweep-k10-rulesignificant", "sweep-k20-rulepessimistic"]
    doc = _Doc()
    doc.feed(html.read_text(encoding="utf-8"))
    links = [h for h in doc.links if not h.startswith("#")]
    assert links == [f"../../{s}/export/report.html" for s in dict.fromkeys(checked["spec"])]
    assert {h[1:] for h in doc.links if h.startswith("#")} <= doc.ids
    text = " ".join(doc.text)
    if language == "en":
        assert "Controls per participant (k): 5; Effects counted: significant only" in text
        assert "48,459\u00a0kr" in text or "53,305\u00a0kr" in text
    else:
        assert "Kontroller pr. deltager (k): 5; Medregnede effekter: kun signifikante" in text
        assert "Følsomhedskørsel" in text
    assert "sweep-k5-rulesignificant" not in text  # labels, not spec ids
    assert "<style>" in html.read_text()  # the report's stylesheet


def test_the_forest_figure_shows_each_distinct_estimate_once_and_fits(specs, tmp_path):
    checked = write_summary(specs, "sweep", {s: s for s in specs}, 5, tmp_path / "s.csv", tmp_path / "s.parquet",
                            tmp_path / "f.png", tmp_path / "s.html", settings={s: _settings(s) for s in specs})
    settings = {s: _settings(s) for s in specs}
    fig = forest_figure(checked, "sweep", {s: s for s in specs}, settings)
    effect_ax, net_ax = fig.axes
    # 6 specs, 4 distinct k: the budget variants of k = 1 share one effect row
    assert len(effect_ax.get_yticks()) == 4
    assert len(net_ax.get_yticks()) == 6
    assert fit_problems(fig, "forest") == []
