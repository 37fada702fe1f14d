"""The PDF report: the HTML page, printed, for a person to file.

WeasyPrint renders the same HTML (its print CSS hides the page's controls), so the PDF and the
page always say the same thing, and it runs no scripts and fetches nothing: a hostile string stays
text. It needs pango from the system; when that is missing the user gets the package to install
instead of a traceback. Imported only when a PDF is asked for: it costs about a second.
"""

from __future__ import annotations

from scanner.errors import UserError
from scanner.model import ScanRun

from .base import ReportFormat
from .html_report import HtmlFormat

INSTALL_HINT = (
    "install WeasyPrint and its system libraries: pip install weasyprint, and "
    "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 (Debian/Ubuntu); "
    "or write HTML and print it from a browser"
)


def require_weasyprint() -> type:
    """WeasyPrint's HTML class, or a UserError saying what to install; the CLI calls it before a
    scan so that a missing library does not cost the scan."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except ImportError as exc:
        raise UserError(
            f"cannot write a PDF: WeasyPrint is not installed ({exc})", INSTALL_HINT
        ) from None
    except OSError as exc:  # its C libraries (pango, fontconfig) are loaded at import
        raise UserError(
            f"cannot write a PDF: WeasyPrint's system libraries are missing ({exc})", INSTALL_HINT
        ) from None
    html_class: type = HTML
    return html_class


def _nothing(url: str) -> dict[str, object]:
    """The URL fetcher: the page has no remote assets, and none may be fetched for it."""
    raise ValueError(f"the report fetches nothing ({url[:80]!r})")


def render(run: ScanRun) -> bytes:
    html_class = require_weasyprint()
    page = HtmlFormat().render(run).decode("utf-8")
    pdf: bytes = html_class(string=page, url_fetcher=_nothing, media_type="print").write_pdf()
    return pdf


class PdfFormat(ReportFormat):
    """The HTML report printed to PDF, to file with the records of the inquiry."""

    name = "pdf"
    suffix = ".pdf"
    media_type = "application/pdf"

    def render(self, run: ScanRun) -> bytes:
        return render(run)
