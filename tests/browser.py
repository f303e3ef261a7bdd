"""Checks of a page in a real browser: headless Chromium (Debian's ``chromium``) through
its own ``chromedriver`` (Debian's ``chromium-driver``) with Selenium, nothing downloaded.

Used by tests/test_report_browser.py (the report and the sweep summary) and
tests/test_pipeline_e2e.py (Snakemake's report of the session's tiny run)."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
MISSING = ("Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
           if CHROMIUM is None or DRIVER is None else None)

PAGE_WIDTH = 1100


def start_browser() -> Iterator[Any]:
    """A headless Chromium for a module fixture; skips, saying why, where it is missing."""
    if MISSING:
        pytest.skip(MISSING)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
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


def check_page(driver, url: str, shot: Path) -> dict:
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


def assert_clean(result: dict, what: str, min_images: int = 1) -> None:
    assert result["images"] >= min_images, what
    assert result["broken"] == [], f"{what}: images that do not load"
    assert result["squashed"] == [], f"{what}: figures drawn with another aspect ratio"
    for media in (result, result["print"]):
        assert media["scrollWidth"] <= media["width"], f"{what}: wider than the page"
        assert media["wide"] == [], f"{what}: elements beyond the page width"
    assert result["deadLinks"] == [], f"{what}: links to nothing"
    assert result["console"] == [], f"{what}: console errors"
    assert result["pdf_bytes"] > 10_000, f"{what}: printing gave no document"
