"""The scan -> store -> history/diff flow through the real CLI, with the sweep replaced by
hand-made runs (the lab version is tests/integration/test_history_lab.py)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_factory import DAHUA, HIK, PC, dev, run
from typer.testing import CliRunner

from scanner import privileges
from scanner.cli import app
from scanner.interfaces import Interface
from scanner.model import ScanRun, Status

LAB0 = Interface("lab0", 2, "02:AA:BB:CC:DD:EE", True, False, (("198.18.0.1", "198.18.0.0/24"),))
runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("scanner.interfaces.list_interfaces", lambda: [LAB0])
    monkeypatch.setattr(privileges, "require_raw_sockets", lambda: None)
    for name in list(os.environ):
        if name.startswith("NDAA_SCAN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def sweeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[Any]]]:
    """Each scan takes the next list of devices as what the sweep found."""
    queue: list[list[Any]] = []
    hours = iter(range(1000))

    def fake(ctx: Any) -> ScanRun:
        r = run(queue.pop(0), site=ctx.scope.site, hours=next(hours))
        return dataclasses.replace(r, scope=ctx.scope)

    monkeypatch.setattr("scanner.cli._run_with_progress", fake)
    yield queue


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def scan(store: str, *extra: str) -> tuple[int, str]:
    return cli("scan", "198.18.0.0/24", "-i", "lab0", "--store", store, *extra)


BASE = [dev("198.18.0.11", HIK, Status.COVERED), dev("198.18.0.20", PC)]
ADDED = dev("198.18.0.30", DAHUA, Status.COVERED)


def test_fail_on_new_then_diff_and_history(
    sweeps: list[list[Any]], store_url: str, tmp_path: Path
) -> None:
    sweeps += [BASE, BASE, [*BASE, ADDED]]
    out = tmp_path / "r.json"
    assert scan(store_url, "--fail-on", "new")[0] == 1  # first run: everything is new
    assert scan(store_url, "--fail-on", "new", "-o", str(out))[0] == 0
    assert {d["change"] for d in json.loads(out.read_text())["devices"]} == {"unchanged"}
    code, output = scan(store_url, "--fail-on", "new", "-o", str(out))
    assert code == 1, output
    changes = {d["mac"]: d["change"] for d in json.loads(out.read_text())["devices"]}
    assert changes == {HIK: "unchanged", PC: "unchanged", DAHUA: "new"}
    assert "exit code 1" in output

    code, output = cli("diff", "--store", store_url)
    assert code == 1, output
    assert "NEW" in output and DAHUA in output and "1 new, 0 reappeared, 0 changed" in output
    code, output = cli("diff", "--store", store_url, "--format", "json")
    doc = json.loads(output)
    assert [(d["category"], d["mac"]) for d in doc["devices"]] == [("new", DAHUA)]

    code, output = cli("history", "--store", store_url, "--format", "json")
    runs = json.loads(output)
    assert [(r["devices"], r["covered"], r["new"]) for r in runs] == [
        (3, 2, 1),
        (2, 1, 0),
        (2, 1, 2),
    ]
    code, output = cli("history", "--store", store_url)
    assert code == 0 and "complete" in output and runs[0]["id"][:8] in output

    code, output = cli("diff", runs[2]["id"][:8], runs[0]["id"], "--store", store_url)
    assert code == 1 and DAHUA in output
    code, output = cli("diff", "nope", "--store", store_url)
    assert code == 2 and "no run 'nope'" in output

    code, output = cli("history", "prune", "--keep", "1", "--store", store_url)
    assert code == 0 and "deleted 2 run(s)" in output
    code, output = cli("diff", "--store", store_url)
    assert code == 2 and "needs two" in output


def test_default_store_and_env_twins(
    sweeps: list[list[Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sweeps += [BASE, BASE]
    monkeypatch.setenv("NDAA_SCAN_FAIL_ON", "new")
    monkeypatch.setenv("NDAA_SCAN_SITE", "hq")
    monkeypatch.setenv("NDAA_SCAN_QUIET", "1")
    result = runner.invoke(app, ["scan", "198.18.0.0/24", "-i", "lab0"])
    assert result.exit_code == 1 and result.stdout == ""
    cfg = tmp_path / "c.toml"
    cfg.write_text('[scan]\nfail-on = "any"\nsite = "hq"\n')
    monkeypatch.delenv("NDAA_SCAN_FAIL_ON")
    assert cli("scan", "198.18.0.0/24", "-i", "lab0", "--config", str(cfg))[0] == 1
    assert (tmp_path / "data" / "ndaa-scan" / "runs.db").exists()
    _code, output = cli("history", "--format", "json")
    assert [r["site"] for r in json.loads(output)] == ["hq", "hq"]


def test_no_store_writes_nothing(sweeps: list[list[Any]], tmp_path: Path) -> None:
    sweeps += [BASE]
    code, _ = cli("scan", "198.18.0.0/24", "-i", "lab0", "--no-store", "--fail-on", "new")
    assert code == 1
    assert not (tmp_path / "data" / "ndaa-scan" / "runs.db").exists()


def test_a_broken_store_keeps_the_report(sweeps: list[list[Any]], tmp_path: Path) -> None:
    sweeps += [BASE]
    broken = tmp_path / "runs.db"
    broken.write_bytes(b"garbage" * 1000)
    out = tmp_path / "r.json"
    code, output = scan(str(broken), "-o", str(out))
    assert code == 2
    assert "not a database" in output and "hint:" in output
    assert len(json.loads(out.read_text())["devices"]) == 2  # the report was written first


def test_an_unreachable_server_keeps_the_report(sweeps: list[list[Any]], tmp_path: Path) -> None:
    sweeps += [BASE]
    out = tmp_path / "r.json"
    code, output = scan("postgresql://u:pw@127.0.0.1:1/x", "-o", str(out))
    assert code == 2 and "cannot use the store" in output and ":pw@" not in output
    assert out.exists()


def test_waivers_mark_and_do_not_hide(
    sweeps: list[list[Any]], store_url: str, tmp_path: Path
) -> None:
    sweeps += [BASE, BASE]
    waivers = tmp_path / "w.toml"
    waivers.write_text(
        f'[[waiver]]\nmac = "{HIK}"\njustification = "bench"\napprover = "CISO"\n'
        "expires = 2099-01-01\n"
    )
    out = tmp_path / "r.json"
    code, output = scan(store_url, "--waivers", str(waivers), "-o", str(out))
    assert code == 0, output  # the only covered device is waived
    assert f"waived: 198.18.0.11 {HIK} (covered) until 2099-01-01, approved by CISO" in output
    (hik,) = [d for d in json.loads(out.read_text())["devices"] if d["mac"] == HIK]
    assert hik["status"] == "covered" and hik["waiver"]["justification"] == "bench"
    waivers.write_text(waivers.read_text().replace("2099-01-01", "2020-01-01"))
    code, output = scan(store_url, "--waivers", str(waivers), "-o", str(out))
    assert code == 1 and "waiver EXPIRED" in output
    (hik,) = [d for d in json.loads(out.read_text())["devices"] if d["mac"] == HIK]
    assert hik["waiver"]["expired"] is True


def test_a_malformed_waiver_file_stops_before_sending(
    sweeps: list[list[Any]], tmp_path: Path
) -> None:
    waivers = tmp_path / "w.toml"
    waivers.write_text('[[waiver]]\nmac = "nope"\n')
    code, output = cli("scan", "198.18.0.0/24", "-i", "lab0", "--waivers", str(waivers))
    assert code == 2 and "line 1" in output and "not a MAC address" in output


def test_a_running_site_blocks_a_second_run(sweeps: list[list[Any]], tmp_path: Path) -> None:
    from scanner.lock import site_lock
    from scanner.store.paths import data_dir

    sweeps += [BASE]
    with site_lock(data_dir() / "locks", "hq"):
        code, output = cli("scan", "198.18.0.0/24", "-i", "lab0", "--site", "hq", "--no-store")
    assert code == 5 and "another run of site 'hq' is in progress" in output
    assert sweeps == [BASE]  # it did not scan


def test_json_logs(sweeps: list[list[Any]], store_url: str) -> None:
    sweeps += [BASE]
    result = runner.invoke(
        app,
        ["scan", "198.18.0.0/24", "-i", "lab0", "--store", store_url, "--log-format", "json"],
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(e["message"].startswith("stored run") for e in lines), result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "sometimes"], "unknown --fail-on"),
        (["--log-format", "xml"], "unknown --log-format"),
        (["--store", "mysql://x/y"], "unsupported store URL scheme"),
        (["--site", " "], "--site must not be empty"),
    ],
)
def test_option_mistakes_exit_2(sweeps: list[list[Any]], args: list[str], message: str) -> None:
    code, output = cli("scan", "198.18.0.0/24", "-i", "lab0", *args)
    assert code == 2 and message in output


def test_diff_needs_a_site_when_several(sweeps: list[list[Any]], store_url: str) -> None:
    sweeps += [BASE, BASE]
    scan(store_url, "--site", "a")
    scan(store_url, "--site", "b")
    code, output = cli("diff", "--store", store_url)
    assert code == 2 and "several sites (a, b)" in output


def test_errors_are_json_lines_too(sweeps: list[list[Any]], tmp_path: Path) -> None:
    sweeps += [BASE]
    broken = tmp_path / "runs.db"
    broken.write_bytes(b"garbage" * 1000)
    args = ["scan", "198.18.0.0/24", "-i", "lab0", "--store", str(broken), "--log-format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    (error,) = [json.loads(x) for x in result.stderr.splitlines() if '"level": "error"' in x]
    assert "not a database" in error["message"] and error["hint"] and error["exit_code"] == 2
