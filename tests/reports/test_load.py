"""Reading a JSON report back: the JSON writer's inverse, and clear errors for anything else."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reports import write_report
from reports.json_report import JsonFormat, to_dict
from reports.load import ReportLoadError, from_dict, load
from scanner.model import ScanRun, Waiver


def test_round_trip_gives_the_same_report(tmp_path: Path, sample_run: ScanRun) -> None:
    path = write_report(sample_run, tmp_path / "run.json")
    loaded = load(path)
    assert JsonFormat().render(loaded) == path.read_bytes()
    assert to_dict(loaded) == to_dict(sample_run)


def test_round_trip_keeps_site_and_waivers(tmp_path: Path, factory: Any) -> None:
    waiver = Waiver("mac:a4:14:37:00:00:01", "Isolated lab", "J. Doe", date(2026, 1, 31), "CR-7")
    devices = [
        replace(factory.covered_hikvision(), site="Plant 2", waiver=waiver),
        replace(factory.review_dahua(), waiver=waiver, waiver_expired=True),
    ]
    run = factory.run(devices)
    loaded = load(write_report(run, tmp_path / "run.json"))
    assert to_dict(loaded) == to_dict(run)
    by_status = {device.finding.status.value: device for device in loaded.devices}
    assert by_status["covered"].site == "Plant 2"
    assert by_status["covered"].waiver == waiver
    assert by_status["review"].waiver_expired is True


def test_hostile_strings_survive(tmp_path: Path, factory: Any) -> None:
    hostile = '<script>alert(1)</script>"\u202e' + "M" * 10_000
    run = factory.run([factory.covered_hikvision(model=hostile, serial=hostile)])
    loaded = load(write_report(run, tmp_path / "run.json"))
    assert loaded.devices[0].identity.model == hostile


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not JSON"),
        (b"{not json", "is not JSON"),
        (b"\xff\xfe", "is not UTF-8"),
        (b"[]", "not an ndaa-scan/1 report"),
        (b'{"schema": "other/2"}', "not an ndaa-scan/1 report"),
        (b'{"schema": "ndaa-scan/1"}', "missing field 'scan'"),
    ],
)
def test_what_is_not_a_report_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(content)
    with pytest.raises(ReportLoadError, match=message):
        load(path)


def test_a_broken_device_is_named(sample_run: ScanRun) -> None:
    doc = to_dict(sample_run)
    del doc["devices"][1]["mac"]
    with pytest.raises(ReportLoadError, match=r"devices\[1\]: missing field 'mac'"):
        from_dict(doc)
    doc = to_dict(sample_run)
    doc["devices"][0]["status"] = "maybe"
    with pytest.raises(ReportLoadError, match=r"devices\[0\]: 'maybe' is not a valid Status"):
        from_dict(doc)
    doc = to_dict(sample_run)
    doc["scan"]["started"] = 5
    with pytest.raises(ReportLoadError, match=r"^scan: "):
        from_dict(doc)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportLoadError, match=r"cannot read .*No such file"):
        load(tmp_path / "nope.json")
    with pytest.raises(ReportLoadError, match="cannot read"):
        load(tmp_path)


def test_json_of_a_loaded_report_validates(tmp_path: Path, sample_run: ScanRun) -> None:
    from reports.schema import validate

    validate(json.loads(JsonFormat().render(load(write_report(sample_run, tmp_path / "r.json")))))
