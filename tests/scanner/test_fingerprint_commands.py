"""`ndaa-scan fingerprints test|list` and the --listen/--probe options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanner.cli import app
from scanner.interfaces import Interface

runner = CliRunner()
LAB0 = Interface("lab0", 2, "02:AA:BB:CC:DD:EE", True, False, (("198.18.0.1", "198.18.0.0/24"),))
SIG = """
[[signature]]
id = "http.server.x"
field = "server"
pattern = '^X-Server'
vendor = ""
maker = "X"
certainty = 0.1
description = "d"
source = "s"
examples = ["X-Server/1.0"]
counterexamples = ["Y-Server"]
"""


@pytest.fixture(autouse=True)
def fake_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanner.interfaces.list_interfaces", lambda: [LAB0])
    for name in list(os.environ):
        if name.startswith("NDAA_SCAN_"):
            monkeypatch.delenv(name)


def test_a_good_user_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "http.toml"
    path.write_text(SIG)
    result = runner.invoke(app, ["fingerprints", "test", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 signatures in 1 families (http), 2 examples: all examples hold" in result.output


def test_a_broken_example_fails_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "http.toml"
    path.write_text(SIG.replace('"Y-Server"', '"X-Server 2"'))
    result = runner.invoke(app, ["fingerprints", "test", str(path)])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "counterexample 'X-Server 2' matches" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[signature]\n", "not valid TOML"),
        (SIG.replace("certainty = 0.1", "certainty = 7"), "outside 0..1"),
    ],
)
def test_malformed_files_are_user_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "http.toml"
    path.write_text(text)
    result = runner.invoke(app, ["fingerprints", "test", str(path)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fingerprints", "test", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "cannot read signature file" in result.output


def test_the_shipped_signatures_pass() -> None:
    result = runner.invoke(app, ["fingerprints", "test"])
    assert result.exit_code == 0, result.output
    assert "all examples hold" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "0.1"], "--listen 0.1 is out of range"),
        (["--probe", "telnet-bruteforce"], "unknown probe 'telnet-bruteforce'"),
    ],
)
def test_listen_and_probe_are_checked(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["scan", "198.18.0.0/24", "--dry-run", *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_probe_and_listen_reach_the_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake_run(ctx: object) -> None:
        seen["scope"] = ctx.scope  # type: ignore[attr-defined]
        raise SystemExit(0)

    monkeypatch.setattr("scanner.cli._run_with_progress", fake_run)
    monkeypatch.setattr("scanner.privileges.require_raw_sockets", lambda: None)
    runner.invoke(app, ["scan", "198.18.0.0/24", "--probe", "arp", "--listen", "1.5"])
    scope = seen["scope"]
    assert scope.probes == ("arp",) and scope.listen == 1.5  # type: ignore[attr-defined]
