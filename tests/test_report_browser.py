"""The report, the sweep summary and Snakemake's ``--report`` in a real browser.

Headless Chromium (Debian's ``chromium``), driven through its own ``chromedriver``
(Debian's ``chromium-driver``, the same build) with Selenium: nothing is downloaded,
Selenium is pointed at the system's driver. Each page is checked for images that do
not load, content wider than the page (on screen and in print), table-of-contents links
that go nowhere, squashed figures and console errors; a full-page screenshot of each is
written under the test's output folder. The Danish report is checked for English left
over (against the translation catalogue).

The report and the sweep summary are rendered from the hand-made tables of
``tests/report_tables.py`` (fast); Snakemake's report from the session's tiny run.
Skips, saying why, where Chromium, its driver or Selenium is missing; ``.ci/run``
installs them.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO
from .report_tables import SPEC, write_tables
from .test_report import english_left

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")

PAGE_WIDTH = 1100


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={PAGE_WIDTH},900", "--hide-scrollbars"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


CHECKS = """
const width = document.documentElement.clientWidth;
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  if (el.closest('.table-wrap')) continue;  // wide tables scroll inside their wrapper
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > width + 1) wide.push(el.tagName + (el.id ? '#' + el.id : '') + ' ' + Math.round(r.right));
}
const images = Array.from(document.images);
return {
  scrollWidth: document.documentElement.scrollWidth, width: width,
  wide: wide.slice(0, 10),
  images: images.length,
  broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 60)),
  squashed: images.filter(i => i.naturalWidth > 0 && i.width > 0 &&
      Math.abs(i.width / i.height - i.naturalWidth / i.naturalHeight) > 0.02 * i.naturalWidth / i.naturalHeight)
      .map(i => i.alt),
  deadLinks: Array.from(document.querySelectorAll('a[href^="#"]'))
      .filter(a => a.getAttribute('href').length > 1 && !document.getElementById(a.getAttribute('href').slice(1)))
      .map(a => a.getAttribute('href')),
  tocLinks: document.querySelectorAll('nav.toc a[href^="#"]').length,
  text: document.body.innerText,
};
"""


def _check_page(driver, url: str, shot: Path) -> dict:
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(url)
    driver.execute_script("return document.readyState")
    result = driver.execute_script(CHECKS)
    # print media: what a browser's "print to PDF" lays out
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    result["print"] = driver.execute_script(CHECKS)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})
    result["pdf_bytes"] = len(base64.b64decode(pdf["data"]))
    png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    shot.write_bytes(base64.b64decode(png["data"]))
    result["console"] = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return result


def _assert_clean(result: dict, what: str, min_images: int = 1) -> None:
    assert result["images"] >= min_images, what
    assert result["broken"] == [], f"{what}: images that do not load"
    assert result["squashed"] == [], f"{what}: figures drawn with another aspect ratio"
    for media in (result, result["print"]):
        assert media["scrollWidth"] <= media["width"], f"{what}: wider than the page"
        assert media["wide"] == [], f"{what}: elements beyond the page width"
    assert result["deadLinks"] == [], f"{what}: links to nothing"
    assert result["console"] == [], f"{what}: console errors"
    assert result["pdf_bytes"] > 10_000, f"{what}: printing gave no document"


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
    result = _check_page(browser, page.as_uri(), tmp_path / f"report_{language}.png")
    _assert_clean(result, f"report ({language})", min_images=10)
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
    result = _check_page(browser, page.as_uri(), tmp_path / "sweep.png")
    _assert_clean(result, "sweep summary")
    assert english_left(result["text"]) == []
    links = browser.execute_script("return Array.from(document.querySelectorAll('td a')).map(a => a.href)")
    assert len(links) == 3
    for href in links:
        browser.get(href)
        assert browser.title == "report", href


def test_snakemakes_report_in_a_browser(browser, tiny_run, tmp_path):
    out = tmp_path / "snakemake_report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(tiny_run),
         "--configfile", str(tiny_run / "tiny.yaml"), "--report", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = _check_page(browser, out.as_uri(), tmp_path / "snakemake_report.png")
    assert result["broken"] == [] and result["console"] == []
    assert result["scrollWidth"] <= result["width"]
    # and the run's own evaluation report, as the run wrote it
    report = tiny_run / "results" / "default" / "export" / "report.html"
    result = _check_page(browser, report.as_uri(), tmp_path / "tiny_report.png")
    _assert_clean(result, "the tiny run's report", min_images=10)


def test_the_checks_find_a_broken_page(browser, tmp_path):
    """The browser checks can fail: a missing image, a too wide block, a dead contents
    link and a script error are all found."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><body><nav class='toc'><a href='#nowhere'>x</a></nav>"
        "<img src='missing.png' alt='missing'><div style='width:3000px'>wide</div>"
        "<script>undefined_function();</script></body></html>")
    result = _check_page(browser, page.as_uri(), tmp_path / "broken.png")
    assert result["broken"] == ["missing"]
    assert result["deadLinks"] == ["#nowhere"]
    assert result["scrollWidth"] > result["width"] and result["wide"]
    assert result["console"]
