"""The PDF report: the HTML page printed by WeasyPrint, a document a person can file.

Its pages are rendered to PNG with pdftoppm (poppler-utils), as a person would look at them, and
its text is read back with pdftotext. Skipped, with the reason, only when those tools are missing.
"""

from __future__ import annotations

import builtins
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reports import write_report
from reports.pdf_report import PdfFormat
from scanner.errors import UserError
from scanner.model import ScanRun

SCRIPT = "<script>alert(1)</script>"
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils is not installed (apt-get install poppler-utils)",
)


@pytest.fixture(scope="module")
def weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: pango missing
        pytest.skip(f"WeasyPrint cannot run here: {exc}")
    return weasyprint


def text_of(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


@needs_poppler
def test_pdf_pages_render_and_say_what_the_page_says(
    weasyprint: Any, sample_run: ScanRun, tmp_path: Path
) -> None:
    pdf = write_report(sample_run, tmp_path / "report.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 2 <= len(pages) <= 12
    assert all(page.stat().st_size > 5_000 for page in pages)
    text = " ".join(text_of(pdf).split())
    for expected in (
        "1 covered device found, and 1 that needs review.",
        "What to do next",
        "198.18.0.10",
        "DS-2CD2043G2-I20230101AAWRJ12345678",
        "evidence for a reasonable inquiry, not a legal determination",
        "Coverage and limits",
    ):
        assert expected in text, expected
    # Print CSS: the page's controls are not printed.
    assert "Search" not in text


@needs_poppler
def test_hostile_strings_print_as_text(weasyprint: Any, factory: Any, tmp_path: Path) -> None:
    run = factory.run([factory.covered_hikvision(model=SCRIPT, serial="=HYPERLINK(1)")])
    pdf = write_report(run, tmp_path / "hostile.pdf")
    text = text_of(pdf)
    assert SCRIPT in text and "=HYPERLINK(1)" in text


def test_missing_weasyprint_is_a_user_error(
    monkeypatch: pytest.MonkeyPatch, sample_run: ScanRun
) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(UserError) as caught:
        PdfFormat().render(sample_run)
    assert "system libraries are missing" in caught.value.message
    assert caught.value.hint is not None and "libpango-1.0-0" in caught.value.hint
