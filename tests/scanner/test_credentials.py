"""Credentials come only from a file or the environment, never show themselves, never guess."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner import credentials as creds
from scanner.config import merge, read_config
from scanner.errors import UserError

FILE = """
[[onvif]]
username = "auditor"
password = "default-pw-123"

[[onvif]]
hosts = ["10.1.20.0/24", "10.1.21.7"]
username = "admin"
password = "subnet-pw-456"

[[onvif]]
hosts = "10.1.20.5"
username = "cam5"
password = "host-pw-789"

[[snmp]]
communities = ["s3cret-comm", "other-comm"]

[[snmp]]
hosts = ["10.9.0.0/16"]
communities = "lab-comm"
"""


def _write(tmp_path: Path, text: str, mode: int = 0o600) -> str:
    path = tmp_path / "creds.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_secret_never_shows_itself() -> None:
    secret = creds.Secret("hunter2")
    assert repr(secret) == "'***'" and str(secret) == "***" and f"{secret}" == "***"
    assert f"{secret!r}" == "'***'" and "hunter2" not in repr([secret])
    assert secret.reveal() == "hunter2" and secret == creds.Secret("hunter2")


def test_file_entries_and_most_specific_wins(tmp_path: Path) -> None:
    loaded = creds.load(_write(tmp_path, FILE), environ={})
    assert loaded is not None and not loaded.warnings
    assert (login := loaded.onvif_for("10.1.20.5")) and login.username == "cam5"
    assert (login := loaded.onvif_for("10.1.20.9")) and login.username == "admin"
    assert (login := loaded.onvif_for("10.1.21.7")) and login.username == "admin"
    assert (login := loaded.onvif_for("192.0.2.1")) and login.username == "auditor"
    assert [c.reveal() for c in loaded.communities_for("10.9.3.4")] == ["lab-comm"]
    assert [c.reveal() for c in loaded.communities_for("10.1.20.5")] == [
        "s3cret-comm",
        "other-comm",
    ]
    text = repr(loaded)
    for secret in ("default-pw-123", "subnet-pw-456", "host-pw-789", "s3cret-comm", "lab-comm"):
        assert secret not in text
    assert loaded.redact("x default-pw-123 y lab-comm") == "x *** y ***"


def test_no_default_means_nothing_for_other_hosts(tmp_path: Path) -> None:
    text = '[[onvif]]\nhosts = ["10.0.0.0/8"]\nusername = "u"\npassword = "p"\n'
    loaded = creds.load(_write(tmp_path, text), environ={})
    assert loaded is not None
    assert loaded.onvif_for("192.0.2.1") is None and loaded.communities_for("10.1.1.1") == ()
    assert not loaded.has_snmp


def test_environment(tmp_path: Path) -> None:
    assert creds.load(None, environ={}) is None
    env = {
        "NDAA_SCAN_ONVIF_USER": "envuser",
        "NDAA_SCAN_ONVIF_PASSWORD": "envpw",
        "NDAA_SCAN_SNMP_COMMUNITIES": "a, b,,",
    }
    loaded = creds.load(None, environ=env)
    assert loaded is not None and loaded.has_snmp
    assert (login := loaded.onvif_for("10.0.0.1")) and login.username == "envuser"
    assert [c.reveal() for c in loaded.communities_for("10.0.0.1")] == ["a", "b"]
    # The environment replaces the file's default entries, keeps its per-host ones.
    both = creds.load(_write(tmp_path, FILE), environ=env)
    assert both is not None
    assert (login := both.onvif_for("192.0.2.1")) and login.username == "envuser"
    assert (login := both.onvif_for("10.1.20.5")) and login.username == "cam5"
    with pytest.raises(UserError, match="together"):
        creds.load(None, environ={"NDAA_SCAN_ONVIF_USER": "u"})


def test_world_readable_file_warns(tmp_path: Path) -> None:
    loaded = creds.load(_write(tmp_path, FILE, 0o644), environ={})
    assert loaded is not None and "chmod 600" in loaded.warnings[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[onvif]]\nusername = "u"\n', "password"),
        ('[[onvif]]\npassword = "p"\n', "username"),
        ('[[onvif]]\nusername = "u"\npassword = "p"\nhosts = ["nope"]\n', "not an address"),
        ('[[onvif]]\nusername = "u"\npassword = "p"\nuser = "x"\n', "unknown key"),
        ("[[snmp]]\ncommunities = []\n", "communities"),
        ("[[snmp]]\ncommunities = [" + ",".join(f'"c{i}"' for i in range(9)) + "]\n", "at most"),
        ("[ldap]\nx = 1\n", "unknown key"),
        (
            '[[onvif]]\nusername = "a"\npassword = "p"\n'
            '[[onvif]]\nusername = "b"\npassword = "q"\n',
            "more than one default",
        ),
    ],
)
def test_mistakes_are_user_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        creds.load(_write(tmp_path, text), environ={})


def test_bad_toml_does_not_quote_the_secret(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        creds.load(_write(tmp_path, '[[onvif]]\npassword = "topsecret\n'), environ={})
    assert "topsecret" not in str(info.value) and "line 2" in str(info.value)
    with pytest.raises(UserError, match="cannot read"):
        creds.load(str(tmp_path / "missing.toml"), environ={})


def test_config_file_may_name_the_credentials_file(tmp_path: Path) -> None:
    config = tmp_path / "scan.toml"
    config.write_text('targets = ["10.0.0.0/24"]\ncredentials = "/etc/ndaa/creds.toml"\n')
    settings = merge({}, read_config(str(config)))
    assert settings.credentials == "/etc/ndaa/creds.toml"


def test_cli_reads_the_file_from_the_environment_and_takes_no_secret_on_argv(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from scanner.cli import app

    runner = CliRunner()
    env = {"NDAA_SCAN_CREDENTIALS": str(tmp_path / "missing.toml")}
    result = runner.invoke(app, ["scan", "127.0.0.1", "--dry-run"], env=env)
    assert result.exit_code == 2 and "cannot read the credentials file" in result.output
    for flag in ("--snmp-community", "--password", "--onvif-password"):
        result = runner.invoke(app, ["scan", "127.0.0.1", "--dry-run", flag, "x"])
        assert result.exit_code == 2 and "No such option" in result.output
