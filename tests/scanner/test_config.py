from pathlib import Path

import pytest

from scanner.config import DEFAULT_RATE, merge, read_config
from scanner.errors import UserError


def test_precedence_flag_over_config_over_default(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[scan]\nrate = 200\nretries = 3\ntargets = "198.18.0.0/24"\nexclude-file = "x"\n'
    )
    config = read_config(str(cfg))
    s = merge({"rate": 50, "targets": None}, config)
    assert (s.rate, s.retries, s.targets, s.exclude_file) == (50, 3, ("198.18.0.0/24",), "x")
    assert s.timeout == 0.5


def test_defaults() -> None:
    s = merge({"targets": ["198.18.0.0/24"]}, {})
    assert s.rate == DEFAULT_RATE and s.retries == 1 and not s.dry_run


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rate = 'fast'", "wrong type"),
        ("colour = 1", "unknown key"),
        ("rate = [", "not valid TOML"),
        ("local = 1", "wrong type"),
    ],
)
def test_bad_config(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    with pytest.raises(UserError, match=message):
        read_config(str(cfg))


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read config"):
        read_config(str(tmp_path / "nope.toml"))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"targets": ["x"], "rate": 0}, "rate"),
        ({"targets": ["x"], "rate": 100_001}, "rate"),
        ({"targets": ["x"], "retries": 11}, "retries"),
        ({"targets": ["x"], "timeout": 0}, "timeout"),
        ({"targets": ["x"], "format": "pdf"}, "format"),
        ({}, "no targets"),
    ],
)
def test_validation(given: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        merge(given, {})
