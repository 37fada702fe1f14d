"""The format registry and the atomic writer: a report file is never empty or half written."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reports import FORMATS, ReportFormat, format_for_path, get_format, write_report
from reports.csv_report import CsvFormat
from reports.cyclonedx_report import CycloneDxFormat
from reports.html_report import HtmlFormat
from reports.json_report import JsonFormat
from reports.pdf_report import PdfFormat
from scanner.model import ScanRun


class Exploding(ReportFormat):
    name = "boom"
    suffix = ".boom"
    media_type = "application/x-boom"

    def render(self, run: ScanRun) -> bytes:
        raise RuntimeError("render failed half way")


def leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


def test_registry_holds_every_format() -> None:
    assert set(FORMATS) == {"json", "html", "csv", "cyclonedx", "pdf"}
    assert isinstance(FORMATS["json"], JsonFormat)
    assert isinstance(FORMATS["html"], HtmlFormat)
    assert isinstance(FORMATS["csv"], CsvFormat)
    assert isinstance(FORMATS["cyclonedx"], CycloneDxFormat)
    assert isinstance(FORMATS["pdf"], PdfFormat)
    for name, fmt in FORMATS.items():
        assert fmt.name == name
        assert fmt.suffix.startswith(".")
        assert fmt.media_type
    with pytest.raises(TypeError):
        FORMATS["csv"] = FORMATS["json"]  # type: ignore[index]


def test_abstract_format_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        ReportFormat()  # type: ignore[abstract]


def test_get_format_by_name() -> None:
    assert get_format("json") is FORMATS["json"]
    assert get_format(" HTML ") is FORMATS["html"]


def test_unknown_format_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"'xml'.*csv, cyclonedx, html, json, pdf"):
        get_format("xml")


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("report.json", "json"),
        ("out/Report.JSON", "json"),
        ("report.html", "html"),
        ("report.htm", "html"),
        (Path("/srv/site.a.html"), "html"),
        ("inventory.csv", "csv"),
        ("report.PDF", "pdf"),
        ("bom.cdx.json", "cyclonedx"),
        ("a.cdx.JSON", "cyclonedx"),
    ],
)
def test_format_for_path(path: str | Path, name: str) -> None:
    assert format_for_path(path) is FORMATS[name]


@pytest.mark.parametrize("path", ["report.txt", "report", "report.json.bak"])
def test_format_for_path_refuses_unknown_extensions(path: str) -> None:
    with pytest.raises(ValueError, match=r"\.cdx\.json, \.csv, \.html, \.json, \.pdf"):
        format_for_path(path)


def test_write_report_picks_the_format_from_the_extension(
    tmp_path: Path, sample_run: ScanRun
) -> None:
    for name, suffix in (
        ("json", "json"),
        ("html", "html"),
        ("csv", "csv"),
        ("cyclonedx", "cdx.json"),
    ):
        target = tmp_path / f"report.{suffix}"
        assert write_report(sample_run, target) == target
        assert target.read_bytes() == FORMATS[name].render(sample_run)
    assert leftovers(tmp_path) == []


def test_explicit_format_wins_over_the_extension(tmp_path: Path, sample_run: ScanRun) -> None:
    target = tmp_path / "nightly.txt"
    write_report(sample_run, target, "json")
    assert target.read_bytes() == JsonFormat().render(sample_run)
    write_report(sample_run, target, HtmlFormat())
    assert target.read_bytes().startswith(b"<!DOCTYPE html>")


def test_failed_render_creates_no_file(tmp_path: Path, sample_run: ScanRun) -> None:
    target = tmp_path / "report.boom"
    with pytest.raises(RuntimeError):
        write_report(sample_run, target, Exploding())
    assert list(tmp_path.iterdir()) == []


def test_failed_render_keeps_the_previous_report(tmp_path: Path, sample_run: ScanRun) -> None:
    target = tmp_path / "report.json"
    target.write_bytes(b'{"previous": true}\n')
    with pytest.raises(RuntimeError):
        write_report(sample_run, target, Exploding())
    assert target.read_bytes() == b'{"previous": true}\n'
    assert leftovers(tmp_path) == []


def test_failed_rename_keeps_the_previous_report_and_cleans_up(
    tmp_path: Path, sample_run: ScanRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_bytes(b"old\n")

    def no_space(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space"):
        write_report(sample_run, target)
    assert target.read_bytes() == b"old\n"
    assert leftovers(tmp_path) == []


def test_missing_directory_is_an_error_and_creates_nothing(
    tmp_path: Path, sample_run: ScanRun
) -> None:
    with pytest.raises(FileNotFoundError):
        write_report(sample_run, tmp_path / "missing" / "report.json")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_keeps_its_permissions(tmp_path: Path, sample_run: ScanRun) -> None:
    target = tmp_path / "report.html"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_report(sample_run, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_the_usual_umask_permissions(tmp_path: Path, sample_run: ScanRun) -> None:
    old = os.umask(0o022)
    try:
        write_report(sample_run, tmp_path / "report.json")
    finally:
        os.umask(old)
    # Not mkstemp's 0600: a report is an ordinary file, as open() would have made it.
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o644


def test_symlink_target_is_replaced_not_the_link(tmp_path: Path, sample_run: ScanRun) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert write_report(sample_run, link) == real
    assert link.is_symlink()
    assert real.read_bytes() == JsonFormat().render(sample_run)


def test_importing_reports_stays_cheap() -> None:
    # The CLI imports the registry at start-up; Jinja2 and jsonschema must wait until used.
    code = (
        "import sys, reports; "
        "heavy = sorted(m for m in ('jinja2', 'jsonschema') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
