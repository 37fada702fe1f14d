"""Credentials the user supplied for authenticated read-only probes: ONVIF device information and
SNMP v2c communities.

They come only from a TOML file (`--credentials FILE`, NDAA_SCAN_CREDENTIALS, or `credentials` in
the --config file) and the environment (NDAA_SCAN_ONVIF_USER + NDAA_SCAN_ONVIF_PASSWORD,
NDAA_SCAN_SNMP_COMMUNITIES), never from argv, where every user on the machine can read them. A
secret is held in `Secret`, whose repr and str are `***`, so a stray log line or report field
shows nothing. The scanner never guesses: a host gets the one ONVIF login and the communities the
user configured for it (a default entry, without `hosts`, counts as configured for every host).

File format:

    [[onvif]]                     # one login; `hosts` omitted = every host (the default entry)
    username = "auditor"
    password = "..."

    [[onvif]]                     # a more specific entry wins for the hosts it lists
    hosts = ["10.1.20.0/24", "10.1.21.7"]
    username = "admin"
    password = "..."

    [[snmp]]
    communities = ["public"]      # tried in this order on every host
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from scanner.errors import UserError

ENV_FILE = "NDAA_SCAN_CREDENTIALS"
ENV_ONVIF_USER = "NDAA_SCAN_ONVIF_USER"
ENV_ONVIF_PASSWORD = "NDAA_SCAN_ONVIF_PASSWORD"
ENV_SNMP_COMMUNITIES = "NDAA_SCAN_SNMP_COMMUNITIES"
MAX_SECRET = 256
MAX_COMMUNITIES = 8  # per entry: a site's own few communities, not a dictionary

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Secret:
    """A string that does not show itself: repr/str/format give `***`; `reveal()` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class OnvifLogin:
    username: str
    password: Secret
    hosts: tuple[Network, ...] = ()  # empty: the default, for every host
    origin: str = ""  # "file.toml [[onvif]] #2" or "environment", for messages


@dataclass(frozen=True)
class SnmpEntry:
    communities: tuple[Secret, ...]
    hosts: tuple[Network, ...] = ()
    origin: str = ""


_Entry = TypeVar("_Entry", OnvifLogin, SnmpEntry)


def _most_specific(entries: tuple[_Entry, ...], ip: str) -> _Entry | None:
    """The entry whose `hosts` holds `ip` in the smallest network; the default entry last."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    best: _Entry | None = None
    best_size = -1
    default: _Entry | None = None
    for entry in entries:
        if not entry.hosts:
            default = entry  # the last default wins (the environment is appended last)
            continue
        for net in entry.hosts:
            if address.version == net.version and address in net and net.prefixlen > best_size:
                best, best_size = entry, net.prefixlen
    return best if best is not None else default


@dataclass(frozen=True)
class Credentials:
    onvif: tuple[OnvifLogin, ...] = ()
    snmp: tuple[SnmpEntry, ...] = ()
    warnings: tuple[str, ...] = ()

    def onvif_for(self, ip: str) -> OnvifLogin | None:
        return _most_specific(self.onvif, ip)

    def communities_for(self, ip: str) -> tuple[Secret, ...]:
        entry = _most_specific(self.snmp, ip)
        return entry.communities if entry is not None else ()

    @property
    def has_snmp(self) -> bool:
        return any(e.communities for e in self.snmp)

    def secrets(self) -> Iterator[str]:
        """Every secret value, for redacting text that must never carry one."""
        for login in self.onvif:
            yield login.password.reveal()
        for entry in self.snmp:
            for community in entry.communities:
                yield community.reveal()

    def redact(self, text: str) -> str:
        for secret in sorted(set(self.secrets()), key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text


# --- loading ----------------------------------------------------------------------------------


def _secret(value: Any, where: str, what: str) -> Secret:
    if not isinstance(value, str) or not value:
        raise UserError(f"{where}: {what} must be a non-empty string")
    if len(value) > MAX_SECRET or any(c in value for c in "\r\n\0"):
        raise UserError(f"{where}: {what} is longer than {MAX_SECRET} characters or has a newline")
    return Secret(value)


def _hosts(value: Any, where: str) -> tuple[Network, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise UserError(f"{where}: hosts must be an address, a CIDR or a list of them")
    nets = []
    for spec in value:
        try:
            nets.append(ipaddress.ip_network(spec.strip(), strict=False))
        except ValueError:
            raise UserError(
                f"{where}: {spec!r} is not an address or CIDR", "e.g. hosts = ['10.1.20.0/24']"
            ) from None
    return tuple(nets)


def _check_keys(table: Any, known: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise UserError(f"{where} must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        raise UserError(
            f"{where}: unknown key(s) {', '.join(unknown)}", f"known: {', '.join(sorted(known))}"
        )
    return table


def _communities(value: Any, where: str) -> tuple[Secret, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: communities must be a string or a non-empty list of strings")
    if len(value) > MAX_COMMUNITIES:
        raise UserError(
            f"{where}: {len(value)} communities; at most {MAX_COMMUNITIES}",
            "list the communities your site uses, not a dictionary: the scanner never guesses",
        )
    return tuple(_secret(v, where, "each community") for v in value)


def parse(doc: Mapping[str, Any], origin: str) -> Credentials:
    """Credentials from a parsed TOML document (errors name `origin`, never a secret)."""
    _check_keys(dict(doc), {"onvif", "snmp"}, origin)
    onvif: list[OnvifLogin] = []
    snmp: list[SnmpEntry] = []
    for kind in ("onvif", "snmp"):
        raw = doc.get(kind, [])
        entries = [raw] if isinstance(raw, dict) else raw
        if not isinstance(entries, list):
            raise UserError(f"{origin}: [{kind}] must be a table or [[{kind}]] tables")
        for index, entry in enumerate(entries, 1):
            where = f"{origin} [[{kind}]] #{index}"
            if kind == "onvif":
                table = _check_keys(entry, {"username", "password", "hosts"}, where)
                user = table.get("username")
                if not isinstance(user, str) or not user or len(user) > MAX_SECRET:
                    raise UserError(f"{where}: username must be a non-empty string")
                onvif.append(
                    OnvifLogin(
                        user,
                        _secret(table.get("password"), where, "password"),
                        _hosts(table.get("hosts"), where),
                        where,
                    )
                )
            else:
                table = _check_keys(entry, {"communities", "hosts"}, where)
                snmp.append(
                    SnmpEntry(
                        _communities(table.get("communities"), where),
                        _hosts(table.get("hosts"), where),
                        where,
                    )
                )
    for kind, items in (("onvif", onvif), ("snmp", snmp)):
        if sum(1 for e in items if not e.hosts) > 1:
            raise UserError(
                f"{origin}: more than one default [[{kind}]] entry (without hosts)",
                "the scanner tries one login per host and never guesses; keep one default",
            )
    return Credentials(tuple(onvif), tuple(snmp))


def _read_file(path: str) -> tuple[Credentials, list[str]]:
    warnings = []
    try:
        info = os.stat(path)
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(
            f"cannot read the credentials file {path!r}: {exc.strerror or exc}",
            "check the path given to --credentials or NDAA_SCAN_CREDENTIALS",
        ) from None
    if info.st_mode & (stat.S_IROTH | stat.S_IWOTH):
        warnings.append(
            f"the credentials file {path} can be read by every user on this machine; "
            f"restrict it: chmod 600 {path}"
        )
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The decoder's message can quote the offending line, which may hold a password.
        found = re.search(r"\(at line \d+, column \d+\)|at end of document", str(exc))
        where = f" {found.group(0)}" if found else ""
        raise UserError(f"the credentials file {path!r} is not valid TOML{where}") from None
    return parse(doc, path), warnings


def _from_environment(environ: Mapping[str, str]) -> Credentials:
    onvif: tuple[OnvifLogin, ...] = ()
    user, password = environ.get(ENV_ONVIF_USER), environ.get(ENV_ONVIF_PASSWORD)
    if bool(user) != bool(password):
        raise UserError(
            f"{ENV_ONVIF_USER} and {ENV_ONVIF_PASSWORD} must be set together",
            "set both, or neither to scan without ONVIF credentials",
        )
    if user and password:
        where = "environment"
        if len(user) > MAX_SECRET:
            raise UserError(f"{ENV_ONVIF_USER} is longer than {MAX_SECRET} characters")
        onvif = (OnvifLogin(user, _secret(password, where, ENV_ONVIF_PASSWORD), (), where),)
    snmp: tuple[SnmpEntry, ...] = ()
    raw = environ.get(ENV_SNMP_COMMUNITIES, "")
    if raw.strip():
        names = [c.strip() for c in raw.split(",") if c.strip()]
        snmp = (SnmpEntry(_communities(names, ENV_SNMP_COMMUNITIES), (), "environment"),)
    return Credentials(onvif, snmp)


def load(path: str | None, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The user's credentials from the file and the environment, or None when there are none.

    The environment's values are default entries and replace the file's default entries (an
    override for one run); the file's per-host entries stay.
    """
    env = os.environ if environ is None else environ
    from_file, warnings = _read_file(path) if path else (Credentials(), [])
    from_env = _from_environment(env)
    onvif = from_file.onvif
    if from_env.onvif:
        onvif = tuple(e for e in onvif if e.hosts) + from_env.onvif
    snmp = from_file.snmp
    if from_env.snmp:
        snmp = tuple(e for e in snmp if e.hosts) + from_env.snmp
    if not onvif and not snmp and not warnings:
        return None
    return Credentials(onvif, snmp, tuple(warnings))
