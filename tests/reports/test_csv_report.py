"""The CSV report: RFC 4180, one row per device, and nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.csv_report import COLUMNS, CsvFormat, neutralise
from scanner.model import ScanRun, Waiver


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_one_row_per_device_in_report_order(sample_run: ScanRun) -> None:
    data = CsvFormat().render(sample_run)
    assert data.startswith(b"status,covered_vendor,manufacturer,brand,model,serial,firmware,")
    assert data.count(b"\r\n") == len(sample_run.devices) + 1  # CRLF line ends, RFC 4180
    rows = parse(data)
    assert [row["status"] for row in rows] == ["covered", "review", "clear", "clear"]
    first = rows[0]
    assert first["covered_vendor"] == "hikvision"
    assert first["serial"] == "DS-2CD2043G2-I20230101AAWRJ12345678"
    assert first["firmware"] == "V5.7.3 build 220112"
    assert first["ip"] == "198.18.0.10" and first["mac"] == "a4:14:37:00:00:01"
    assert first["interface"] == "eth0"
    assert first["confidence"] == "0.975"
    assert first["top_evidence"] == "sadp DS-2CD2043G2-I (95%)"
    assert rows[2]["top_evidence"] == ""  # clear devices are not flagged by anything
    assert list(first) == list(COLUMNS)


def test_site_change_and_waiver_columns(factory: Any) -> None:
    waiver = Waiver("mac:a4:14:37:00:00:01", "Lab test rig, isolated", "J. Doe", date(2026, 1, 31))
    device = replace(factory.covered_hikvision(), site="Plant 2", waiver=waiver)
    expired = replace(factory.review_dahua(), waiver=waiver, waiver_expired=True)
    rows = parse(CsvFormat().render(factory.run([device, expired])))
    assert rows[0]["site"] == "Plant 2"
    assert rows[0]["change"] == "new"
    assert rows[0]["waiver"] == "waived until 2026-01-31 by J. Doe: Lab test rig, isolated"
    assert rows[1]["waiver"].startswith("EXPIRED until 2026-01-31")


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=1"],
)
def test_formula_cells_are_neutralised(factory: Any, value: str) -> None:
    run = factory.run([factory.covered_hikvision(model=value, brand=value, serial=value)])
    row = parse(CsvFormat().render(run))[0]
    for column in ("model", "brand", "serial"):
        assert row[column] == "'" + value


def test_hostile_strings_stay_inside_their_cell(factory: Any) -> None:
    nasty = 'a,"b"\r\nc,=d'
    run = factory.run([factory.clear_axis(model=nasty, notes=(nasty,), manufacturer="x" * 100_000)])
    rows = parse(CsvFormat().render(run))
    assert len(rows) == 1
    assert rows[0]["model"] == nasty
    assert len(rows[0]["manufacturer"]) == 100_000


def test_undecodable_bytes_do_not_break_the_file(factory: Any) -> None:
    model = b"DS-\xff".decode("utf-8", "surrogateescape")
    data = CsvFormat().render(factory.run([factory.clear_axis(model=model)]))
    assert parse(data)[0]["model"] == "DS-\\udcff"


def test_neutralise() -> None:
    assert neutralise("DS-2CD") == "DS-2CD"
    assert neutralise("") == ""
    assert neutralise("-") == "'-"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_any_text_round_trips_or_is_neutralised(factory: Any, text: str) -> None:
    row = parse(CsvFormat().render(factory.run([factory.clear_axis(model=text)])))[0]
    assert row["model"] == neutralise(text)
    assert not row["model"].startswith(("=", "+", "-", "@", "\t", "\r"))
