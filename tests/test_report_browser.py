"""The report, the sweep summary and Snakemake's ``--report`` in a real browser.

Headless Chromium (Debian's ``chromium``), driven through its own ``chromedriver``
(Debian's ``chromium-driver``, the same build) with Selenium: nothing is downloaded,
Selenium is pointed at the system's driver. Each page is checked for images that do
not load, content wider than the page (on screen and in print), table-of-contents links
that go nowhere, squashed figures and console errors; a full-page screenshot of each is
written under the test's output folder. The Danish report is checked for English left
over (against the translation catalogue).

The report and the sweep summary are rendered from the hand-made tables of
``tests/report_tables.py`` (fast); Snakemake's report of the session's tiny run is checked
the same way in tests/test_pipeline_e2e.py (the file that holds the tiny run).
Skips, saying why, where Chromium, its driver or Selenium is missing; ``.ci/run``
installs them.
"""

from __future__ import annotations

import pytest

from .browser import MISSING, assert_clean, check_page, start_browser
from .report_tables import SPEC, write_tables
from .test_report import english_left

if MISSING:
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")


@pytest.fixture(scope="module")
def browser():
    yield from start_browser()


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("browser"))


@pytest.mark.parametrize("language", ["en", "da"])
def test_the_report_in_a_browser(browser, export, tmp_path, language):
    from regeval.reporting.html import write_report

    tables, figures, truth = export
    page = tmp_path / "report.html"
    write_report(tables, figures, SPEC, page, tmp_path / "tables.xlsx", language=language,
                 control_rule="censor_at_start", truth=truth)
    result = check_page(browser, page.as_uri(), tmp_path / f"report_{language}.png")
    assert_clean(result, f"report ({language})", min_images=10)
    assert result["tocLinks"] >= 8
    if language == "da":
        assert english_left(result["text"]) == []
        assert "Sammenfatning" in result["text"]
    assert (tmp_path / f"report_{language}.png").stat().st_size > 50_000


def test_the_sweep_summary_in_a_browser(browser, export, tmp_path):
    from regeval.reporting.sweep import write_summary

    tables = export[0]
    specs = {s: tables for s in ("sweep", "sweep-k5", "sweep-k20")}
    settings = {"sweep": {"matching.k": 10}, "sweep-k5": {"matching.k": 5}, "sweep-k20": {"matching.k": 20}}
    # the linked reports, where the links point
    for s in specs:
        report = tmp_path / "results" / s / "export" / "report.html"
        report.parent.mkdir(parents=True)
        report.write_text("<!doctype html><title>report</title>")
    page = tmp_path / "results" / "sweep" / "summary" / "summary.html"
    page.parent.mkdir(parents=True)
    write_summary(specs, "sweep", {}, 5, page.with_suffix(".csv"), page.with_suffix(".parquet"),
                  page.with_name("forest.png"), page, language="da", settings=settings,
                  reports={s: f"../../{s}/export/report.html" for s in specs}, name="sweep")
    result = check_page(browser, page.as_uri(), tmp_path / "sweep.png")
    assert_clean(result, "sweep summary")
    assert english_left(result["text"]) == []
    links = browser.execute_script("return Array.from(document.querySelectorAll('td a')).map(a => a.href)")
    assert len(links) == 3
    for href in links:
        browser.get(href)
        assert browser.title == "report", href


def test_the_checks_find_a_broken_page(browser, tmp_path):
    """The browser checks can fail: a missing image, a too wide block, a dead contents
    link and a script error are all found."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><body><nav class='toc'><a href='#nowhere'>x</a></nav>"
        "<img src='missing.png' alt='missing'><div style='width:3000px'>wide</div>"
        "<script>undefined_function();</script></body></html>")
    result = check_page(browser, page.as_uri(), tmp_path / "broken.png")
    assert result["broken"] == ["missing"]
    assert result["deadLinks"] == ["#nowhere"]
    assert result["scrollWidth"] > result["width"] and result["wide"]
    assert result["console"]
