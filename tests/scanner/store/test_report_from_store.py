"""`ndaa-scan report --run ID` and `--all-sites`: reports rendered from the run history."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from store_factory import DAHUA, HIK, PC, dev, run
from typer.testing import CliRunner

from reports.schema import validate
from scanner.cli import app
from scanner.model import Status
from scanner.store import Store

runner = CliRunner()


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("NDAA_SCAN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def stored(store_url: str) -> tuple[str, str]:
    """Two sites; the east site scanned twice, so its latest run is the one to show."""
    east_old = run([dev("198.18.0.11", HIK, Status.COVERED)], site="east", hours=0)
    east_new = run(
        [dev("198.18.0.11", HIK, Status.COVERED), dev("198.18.0.20", PC)], site="east", hours=1
    )
    west = run([dev("198.18.1.21", DAHUA, Status.COVERED)], site="west", hours=2)
    with Store.open(store_url) as store:
        for item in (east_old, east_new, west):
            store.save(item)
    return store_url, east_new.id


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_all_sites_gives_every_sites_latest_run(stored: tuple[str, str], tmp_path: Path) -> None:
    url, _ = stored
    out, table = tmp_path / "all.json", tmp_path / "all.csv"
    code, output = invoke("report", "--all-sites", "--store", url, "-o", str(out), "-o", str(table))
    assert code == 0, output
    doc = json.loads(out.read_text())
    validate(doc)
    assert sorted((d["site"], d["ip"]) for d in doc["devices"]) == [
        ("east", "198.18.0.11"),
        ("east", "198.18.0.20"),
        ("west", "198.18.1.21"),
    ]
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert {row["site"] for row in rows} == {"east", "west"}


def test_a_stored_run_by_id_prefix(stored: tuple[str, str], tmp_path: Path) -> None:
    url, east_new = stored
    out = tmp_path / "run.json"
    code, output = invoke("report", "--run", east_new[:8], "--store", url, "-o", str(out))
    assert code == 0, output
    doc = json.loads(out.read_text())
    assert doc["scan"]["id"] == east_new and len(doc["devices"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "say what to render"),
        (("x.json", "--all-sites"), "exactly one"),
        (("--run", "nope"), "no run 'nope'"),
    ],
)
def test_mistakes_are_explained(
    stored: tuple[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    url, _ = stored
    code, output = invoke("report", *args, "--store", url, "-o", str(tmp_path / "r.html"))
    assert code == 2 and message in output, output


@pytest.mark.parametrize("command", [("history",), ("diff",), ("history", "prune", "--keep", "1")])
def test_reading_a_store_that_does_not_exist_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = tmp_path / "nowhere" / "runs.db"
    code, output = invoke(*command, "--store", str(missing))
    assert code == 2 and "no run store at" in output, output
    assert not missing.parent.exists()
