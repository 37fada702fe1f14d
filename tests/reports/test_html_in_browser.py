"""The HTML report in a real browser (Debian's chromium, driven by Playwright): no console errors,
sorting, filtering and search work, and hostile device strings render as text and run nothing.

Skipped, with the reason, only when Playwright or chromium is missing; CI installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reports import write_report
from scanner.model import ScanRun, Waiver

CHROMIUM = os.environ.get("NDAA_SCAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)
expect = playwright_api.expect  # polls from Python: the page's CSP forbids the eval of
# page.wait_for_function("...")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"no chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]

SCRIPT = "<script>window.__pwned = 1</script>"
BREAKOUT = '"><img src=x onerror="window.__pwned=2">'
FORMULA = '=HYPERLINK("http://evil.example/","click")'
RLO = "\u202e"
VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


class Opened:
    """A page with every console message and page error collected, and dialogs refused."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport=VIEWPORT)
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)
        self.page.goto(path.as_uri())

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"{message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Any) -> None:
        if not request.url.startswith("file:"):
            self.problems.append(f"request: {request.url}")

    def visible_rows(self) -> list[str]:
        rows: list[str] = self.page.eval_on_selector_all(
            "#inventory-table tbody tr:not([hidden])",
            "rows => rows.map(row => row.cells[row.cells.length - 4].firstChild.textContent)",
        )
        return rows

    def shown(self) -> str:
        text: str = self.page.text_content("#filter-count") or ""
        return text


def realistic_run(factory: Any) -> ScanRun:
    """A small facility: cameras of two covered makers, a Huawei switch, a waived and an
    expired-waiver device, clear devices, two sites."""
    waiver = Waiver("mac:a4:14:37:00:00:05", "Isolated test bench", "J. Doe", date(2030, 1, 1))
    devices = [
        factory.covered_hikvision(),
        factory.covered_hikvision(
            ip="198.18.0.14",
            mac="a4:14:37:00:00:05",
            serial="DS-7608NI-K2-0001",
            model="DS-7608NI-K2",
            device_type="NVR",
        ),
        factory.review_dahua(),
        factory.clear_axis(),
        factory.clear_axis(ip="198.18.0.100", mac="00:40:8c:00:00:64", model="M3106-L"),
        factory.proxy_arp_router(),
    ]
    devices[1] = replace(devices[1], waiver=waiver)
    devices[2] = replace(devices[2], waiver=waiver, waiver_expired=True)
    sited = [replace(d, site="Plant 2" if n % 2 else "HQ") for n, d in enumerate(devices)]
    run: ScanRun = factory.run(sited)
    return run


def hostile_run(factory: Any) -> ScanRun:
    device = factory.covered_hikvision(
        manufacturer=SCRIPT,
        brand=BREAKOUT,
        model="M" * 100_000,
        serial=f"SN{RLO}gpj.exe",
        firmware=FORMULA,
        device_type=BREAKOUT,
        hostnames=(BREAKOUT,),
        notes=(SCRIPT, f"{RLO}looks reversed"),
        rationale=SCRIPT,
        evidence=(factory.evidence(value=SCRIPT, detail=BREAKOUT, source=FORMULA),),
    )
    clear = replace(factory.clear_axis(model=FORMULA, brand=SCRIPT), site=BREAKOUT)
    run: ScanRun = factory.run([device, clear], warnings=(SCRIPT,))
    return run


def test_first_screen_answers_how_many_where_why_and_what_next(
    browser: Any, factory: Any, tmp_path: Path
) -> None:
    opened = Opened(browser, write_report(realistic_run(factory), tmp_path / "report.html"))
    page = opened.page
    page.screenshot(path=str(tmp_path / "first-screen.png"))
    assert (tmp_path / "first-screen.png").stat().st_size > 10_000
    for selector in (".banner-covered .verdict", ".card-covered", "table.where", ".next h3"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None and box["y"] < VIEWPORT["height"], selector
    assert "2 covered devices found" in (page.text_content(".banner-covered") or "")
    where = page.text_content("table.where") or ""
    assert "198.18.0.10 (HQ, eth0)" in where and "Hikvision SADP discovery reply" in where
    assert "within one business day" in (page.text_content(".next") or "")
    assert opened.problems == [] and opened.dialogs == []
    page.close()


def test_sorting_filtering_and_search(browser: Any, factory: Any, tmp_path: Path) -> None:
    opened = Opened(browser, write_report(realistic_run(factory), tmp_path / "report.html"))
    page = opened.page
    # The scripts ran (the CSP hashes match): the controls and the table are shown.
    assert page.is_visible("#inventory-controls") and page.is_visible("#inventory-table")
    assert page.evaluate("document.documentElement.className") == "js ready"
    assert opened.shown() == "Showing all 6 devices"
    # Report order: covered, review, clear.
    assert opened.visible_rows() == [
        "198.18.0.10", "198.18.0.14", "198.18.0.9", "198.18.0.1", "198.18.0.30", "198.18.0.100",
    ]  # fmt: skip
    page.click("th[data-sort=ip] button")
    assert opened.visible_rows() == [
        "198.18.0.1",
        "198.18.0.9",
        "198.18.0.10",
        "198.18.0.14",
        "198.18.0.30",
        "198.18.0.100",
    ]  # fmt: skip  (numeric, not text, order)
    assert page.get_attribute("th[data-sort=ip]", "aria-sort") == "ascending"
    page.click("th[data-sort=ip] button")
    assert opened.visible_rows()[0] == "198.18.0.100"
    page.click("th[data-sort=status] button")  # stable: ties keep the current order
    assert opened.visible_rows()[:3] == ["198.18.0.14", "198.18.0.10", "198.18.0.9"]

    page.select_option("#filter-status", "row-covered")
    assert sorted(opened.visible_rows()) == ["198.18.0.10", "198.18.0.14"]
    assert opened.shown() == "Showing 2 of 6 devices"
    page.select_option("#filter-status", "is-waived")
    assert opened.visible_rows() == ["198.18.0.14"]
    page.select_option("#filter-status", "is-waiver-expired")
    assert opened.visible_rows() == ["198.18.0.9"]
    page.select_option("#filter-status", "")
    page.select_option("#filter-vendor", "Dahua")
    assert opened.visible_rows() == ["198.18.0.9"]
    page.select_option("#filter-vendor", "")
    page.select_option("#filter-site", "Plant 2")
    assert sorted(opened.visible_rows()) == ["198.18.0.1", "198.18.0.14", "198.18.0.30"]
    page.select_option("#filter-site", "")
    page.fill("#filter-search", "m3106")
    expect(page.locator("#filter-count")).to_contain_text("1 of")
    assert opened.visible_rows() == ["198.18.0.100"]
    page.fill("#filter-search", "")
    expect(page.locator("#filter-count")).to_contain_text("all")
    assert len(opened.visible_rows()) == 6
    assert opened.problems == [] and opened.dialogs == []
    page.close()


def test_hostile_strings_render_as_text_and_run_nothing(
    browser: Any, factory: Any, tmp_path: Path
) -> None:
    opened = Opened(browser, write_report(hostile_run(factory), tmp_path / "hostile.html"))
    page = opened.page
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=False)
    page.click("th[data-sort=text] button")  # the page still works around them
    page.fill("#filter-search", "gpj.exe")
    expect(page.locator("#filter-count")).to_have_text("Showing 1 of 2 devices")
    assert page.evaluate("window.__pwned") is None
    assert opened.dialogs == []
    assert page.evaluate("document.scripts.length") == 2  # the page's own
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0
    csp = page.get_attribute("meta[http-equiv=Content-Security-Policy]", "content") or ""
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    text = page.text_content("body") or ""
    assert SCRIPT in text and BREAKOUT in text and FORMULA in text
    assert "SN[U+202E]gpj.exe" in text and RLO not in text
    assert "more characters; see the JSON report]" in text
    # A blocked inline script or event handler would show up here as a CSP violation.
    assert opened.problems == []
    page.close()


def test_thousands_of_rows_sort_and_filter(browser: Any, factory: Any, tmp_path: Path) -> None:
    devices = [
        factory.device(f"198.18.{n // 256}.{n % 256}", f"02:00:5e:00:{n // 256:02x}:{n % 256:02x}")
        for n in range(5_000)
    ]
    run = factory.run([*devices, factory.covered_hikvision()])
    opened = Opened(browser, write_report(run, tmp_path / "big.html"))
    page = opened.page
    assert opened.shown() == "Showing all 5001 devices"
    page.click("th[data-sort=ip] button")
    page.click("th[data-sort=ip] button")
    assert opened.visible_rows()[0] == "198.18.19.135"
    page.select_option("#filter-status", "row-covered")
    assert opened.visible_rows() == ["198.18.0.10"]
    assert opened.problems == []
    page.close()


def test_without_scripts_the_inventory_still_shows(
    browser: Any, factory: Any, tmp_path: Path
) -> None:
    path = write_report(realistic_run(factory), tmp_path / "report.html")
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    assert page.is_visible("#inventory-table")
    assert not page.is_visible("#inventory-controls")  # nothing to drive them
    assert page.locator("#inventory-table tbody tr").count() == 6
    context.close()
