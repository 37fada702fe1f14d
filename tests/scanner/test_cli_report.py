"""`ndaa-scan report`: any saved JSON report, rendered again in any format; mistakes exit 2."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reports import write_report
from reports.json_report import JsonFormat
from scanner.cli import _outputs, app
from scanner.model import ScanRun
from tests.reports.conftest import make_run

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NDAA_SCAN_"):
            monkeypatch.delenv(name)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, ScanRun]:
    run = make_run()
    return write_report(run, tmp_path / "scan.json"), run


def invoke(*args: str) -> tuple[int, str, bytes]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output, result.stdout_bytes


def test_several_formats_from_one_report(tmp_path: Path, saved: tuple[Path, ScanRun]) -> None:
    path, run = saved
    outputs = [tmp_path / name for name in ("r.html", "r.csv", "r.cdx.json", "again.json")]
    args = [arg for out in outputs for arg in ("-o", str(out))]
    code, output, _ = invoke("report", str(path), *args)
    assert code == 0, output
    html, table, bom, again = outputs
    assert html.read_bytes().startswith(b"<!DOCTYPE html>")
    assert next(csv.reader(io.StringIO(table.read_text())))[0] == "status"
    assert json.loads(bom.read_text())["bomFormat"] == "CycloneDX"
    assert again.read_bytes() == path.read_bytes() == JsonFormat().render(run)


def test_format_flag_and_stdout(tmp_path: Path, saved: tuple[Path, ScanRun]) -> None:
    path, _ = saved
    code, _, out = invoke("report", str(path), "--format", "csv", "-o", "-")
    assert code == 0
    assert out.startswith(b"status,covered_vendor,")
    code, _, _ = invoke("report", str(path), "--format", "cyclonedx", "-o", str(tmp_path / "x"))
    assert code == 0
    assert json.loads((tmp_path / "x").read_text())["specVersion"] == "1.6"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{nope", "is not JSON"),
        (b'{"schema": "x"}', "not an ndaa-scan/1 report"),
        (b'{"schema": "ndaa-scan/1", "scan": {}}', "missing field"),
    ],
)
def test_bad_input_exits_2_with_a_hint(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, output, _ = invoke("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert code == 2
    assert message in output and "hint:" in output
    assert not (tmp_path / "r.html").exists()


def test_usage_mistakes_exit_2(tmp_path: Path, saved: tuple[Path, ScanRun]) -> None:
    path, _ = saved
    code, output, _ = invoke("report", str(tmp_path / "missing.json"), "-o", "r.html")
    assert code == 2 and "cannot read" in output
    code, output, _ = invoke("report", str(path), "--format", "xml", "-o", str(tmp_path / "r"))
    assert code == 2 and "unknown report format 'xml'" in output
    code, output, _ = invoke("report", str(path), "-o", "/nonexistent/dir/r.html")
    assert code == 2 and "cannot write the report" in output


def test_scan_outputs_take_the_format_from_the_extension() -> None:
    paths = ("a.csv", "b.cdx.json", "c.pdf", "d.html", "e.json", "f.txt", "-")
    assert _outputs(paths, "html") == [
        ("a.csv", "csv"),
        ("b.cdx.json", "cyclonedx"),
        ("c.pdf", "pdf"),
        ("d.html", "html"),
        ("e.json", "json"),
        ("f.txt", "html"),
        ("-", "json"),
    ]


def test_report_help_lists_the_formats() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "scanner", "report", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for word in ("pdf", "csv", "cyclonedx", "-o", "--format"):
        assert word in out.stdout


def test_a_pdf_without_weasyprint_fails_before_anything_is_done(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, saved: tuple[Path, ScanRun]
) -> None:
    from scanner.errors import UserError

    def missing() -> type:
        raise UserError("cannot write a PDF: WeasyPrint is not installed", "pip install weasyprint")

    monkeypatch.setattr("reports.pdf_report.require_weasyprint", missing)
    path, _ = saved
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    code, output, _ = invoke("report", str(path), "-o", str(html), "-o", str(pdf))
    assert code == 2 and "WeasyPrint is not installed" in output and "hint:" in output
    assert not html.exists() and not pdf.exists()
