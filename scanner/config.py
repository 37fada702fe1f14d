"""Settings from three places, in order of precedence: flags, NDAA_SCAN_* environment variables
(click reads those for us), then the TOML file named by --config; built-in defaults last."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from scanner.errors import UserError

DEFAULT_RATE = 500  # ARP requests per second; see README "Traffic" for why
MAX_RATE = 100_000


@dataclass(frozen=True)
class Settings:
    targets: tuple[str, ...] = ()
    interface: tuple[str, ...] = ()
    local: bool = False
    exclude: tuple[str, ...] = ()
    exclude_file: str | None = None
    rate: int = DEFAULT_RATE
    retries: int = 1
    timeout: float = 0.5
    dry_run: bool = False
    output: tuple[str, ...] = ()
    format: str = "json"
    allow_large: bool = False
    site: str = "default"
    listen: float = 3.0
    probe: tuple[str, ...] = ()
    credentials: str | None = None  # a TOML file of ONVIF logins and SNMP communities
    store: str | None = None  # URL or SQLite path; None: the default store in the data dir
    no_store: bool = False
    fail_on: str = "any"
    waivers: str | None = None
    quiet: bool = False
    log_format: str = "text"


_LISTS = {"targets", "interface", "exclude", "output", "probe"}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "local": bool,
    "dry_run": bool,
    "allow_large": bool,
    "rate": int,
    "retries": int,
    "timeout": (int, float),
    "exclude_file": str,
    "format": str,
    "site": str,
    "listen": (int, float),
    "credentials": str,
    "store": str,
    "no_store": bool,
    "fail_on": str,
    "waivers": str,
    "quiet": bool,
    "log_format": str,
}


def read_config(path: str) -> dict[str, Any]:
    """Keys may sit at the top level or in a [scan] table, spelled with - or _."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(
            f"cannot read config file {path!r}: {exc.strerror or exc}",
            "check the path given to --config or NDAA_SCAN_CONFIG",
        ) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"config file {path!r} is not valid TOML: {exc}") from None
    table = doc.get("scan", doc)
    if not isinstance(table, dict):
        raise UserError(f"config file {path!r}: [scan] must be a table")
    known = {f.name for f in fields(Settings)}
    result: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            raise UserError(
                f"config file {path!r}: unknown key {key!r}",
                f"known keys: {', '.join(sorted(known))}",
            )
        if name in _LISTS:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UserError(f"config file {path!r}: {key} must be a string or list of strings")
            value = tuple(value)
        else:
            expected = _TYPES[name]
            if (isinstance(value, bool) and expected is not bool) or not isinstance(
                value, expected
            ):
                raise UserError(f"config file {path!r}: {key} has the wrong type ({value!r})")
        result[name] = value
    return result


def merge(given: dict[str, Any], config: dict[str, Any]) -> Settings:
    """`given` holds flag/env values, None (or empty) where the user said nothing."""
    values: dict[str, Any] = {}
    for f in fields(Settings):
        value = given.get(f.name)
        if value is None or (f.name in _LISTS and not value):
            value = config.get(f.name)
        if value is not None:
            values[f.name] = tuple(value) if f.name in _LISTS else value
    settings = Settings(**values)
    validate(settings)
    return settings


def validate(s: Settings) -> None:
    if not 1 <= s.rate <= MAX_RATE:
        raise UserError(
            f"--rate {s.rate} is out of range",
            f"use 1 to {MAX_RATE:,} ARP requests per second (default {DEFAULT_RATE})",
        )
    if not 0 <= s.retries <= 10:
        raise UserError(f"--retries {s.retries} is out of range", "use 0 to 10")
    if not 0.05 <= s.timeout <= 60:
        raise UserError(f"--timeout {s.timeout} is out of range", "use 0.05 to 60 seconds")
    if not 0.5 <= s.listen <= 60:
        raise UserError(f"--listen {s.listen} is out of range", "use 0.5 to 60 seconds")
    if s.probe:
        from scanner.scan import probe_names

        known = probe_names()
        unknown = [name for name in s.probe if name not in known]
        if unknown:
            raise UserError(
                f"unknown probe {', '.join(map(repr, unknown))}", f"known: {', '.join(known)}"
            )
    if s.format not in ("json", "html"):
        raise UserError(f"unknown --format {s.format!r}", "use json or html")
    if s.fail_on not in ("any", "new", "never"):
        raise UserError(f"unknown --fail-on {s.fail_on!r}", "use any, new or never")
    if s.log_format not in ("text", "json"):
        raise UserError(f"unknown --log-format {s.log_format!r}", "use text or json")
    if not s.site.strip():
        raise UserError("--site must not be empty", "name the facility, e.g. --site hq-east")
    if not s.targets and not s.local:
        raise UserError(
            "no targets given",
            "name subnets (ndaa-scan scan 192.0.2.0/24) or pass --local to sweep the subnets "
            "of the chosen interfaces",
        )
