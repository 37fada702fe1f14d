"""Signatures: what a value a device disclosed says about who made it, as data.

One TOML file per signal family in ``signatures/`` (named after the probe whose observations it
reads), in the shape of rapid7/recog: every signature carries examples that must match and
counterexamples that must not, so a contributor's signature is tested the moment it is loaded
(`ndaa-scan fingerprints test FILE` runs the same checks on a user's own file). The format is in
docs/probes.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from fingerprints.vendors import VENDOR_KEYS

IDENTITY_FIELDS = ("manufacturer", "brand", "model", "serial", "firmware", "device_type")
_KEYS = {
    "id", "field", "pattern", "equals", "vendor", "maker", "certainty", "description", "source",
    "examples", "counterexamples", "case_sensitive", "sets",
}  # fmt: skip
_REQUIRED = ("id", "field", "vendor", "maker", "certainty", "description", "source", "examples")
MAX_VALUE = 4096  # characters of a field a signature looks at; device values are hostile


class SignatureError(ValueError):
    """A signature file that cannot be used, with the file and signature it concerns."""


@dataclass(frozen=True)
class Signature:
    id: str
    family: str  # the probe whose observations it reads
    field: str
    pattern: re.Pattern[str]
    vendor: str  # covered vendor key, or "" for a maker that is not covered
    maker: str
    certainty: float
    description: str
    source: str
    examples: tuple[str, ...]
    counterexamples: tuple[str, ...] = ()
    sets: tuple[tuple[str, str], ...] = ()
    origin: str = ""  # the file it came from

    def matches(self, value: str) -> bool:
        return self.pattern.search(value[:MAX_VALUE]) is not None


@dataclass(frozen=True)
class SignatureMatch:
    signature: Signature
    value: str  # the field's value that matched, as the device sent it


class SignatureDB:
    def __init__(self, signatures: Iterable[Signature]) -> None:
        self.signatures = tuple(signatures)
        by_family: dict[str, list[Signature]] = {}
        for sig in self.signatures:
            by_family.setdefault(sig.family, []).append(sig)
        self._by_family = {family: tuple(sigs) for family, sigs in by_family.items()}

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_family))

    def match(self, family: str, fields: Iterable[tuple[str, str]]) -> list[SignatureMatch]:
        """Every signature of `family` that matches one of `fields` (a field may repeat)."""
        sigs = self._by_family.get(family)
        if not sigs:
            return []
        values: dict[str, list[str]] = {}
        for name, value in fields:
            values.setdefault(name, []).append(value)
        found = []
        for sig in sigs:
            for value in values.get(sig.field, ()):
                if sig.matches(value):
                    found.append(SignatureMatch(sig, value))
                    break
        return found


def _fail(origin: str, where: str, message: str) -> SignatureError:
    return SignatureError(f"{origin}: {where}: {message}")


def _strings(value: Any, origin: str, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(origin, where, f"{key!r} must be a list of strings")
    return tuple(value)


def parse_signature(raw: Mapping[str, Any], family: str, origin: str, index: int) -> Signature:
    """One ``[[signature]]`` table, checked field by field so an error names what to fix."""
    where = f"signature #{index + 1} ({raw.get('id', 'no id')})"
    unknown = set(raw) - _KEYS
    if unknown:
        raise _fail(origin, where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise _fail(origin, where, f"missing {', '.join(missing)}")
    for key in ("id", "field", "vendor", "maker", "description", "source"):
        if not isinstance(raw[key], str):
            raise _fail(origin, where, f"{key!r} must be a string")
    if raw["vendor"] and raw["vendor"] not in VENDOR_KEYS:
        raise _fail(origin, where, f'vendor {raw["vendor"]!r} is not one of {VENDOR_KEYS} (or "")')
    certainty = raw["certainty"]
    if isinstance(certainty, bool) or not isinstance(certainty, int | float):
        raise _fail(origin, where, "'certainty' must be a number")
    if not 0.0 <= float(certainty) <= 1.0:
        raise _fail(origin, where, f"certainty {certainty} is outside 0..1")
    if ("pattern" in raw) == ("equals" in raw):
        raise _fail(origin, where, "give exactly one of 'pattern' and 'equals'")
    flags = 0 if raw.get("case_sensitive", False) else re.IGNORECASE
    try:
        if "pattern" in raw:
            pattern = re.compile(str(raw["pattern"]), flags)
        else:
            pattern = re.compile(f"^{re.escape(str(raw['equals']))}$", flags)
    except re.error as exc:
        raise _fail(origin, where, f"bad pattern: {exc}") from None
    sets = raw.get("sets", {})
    if not isinstance(sets, dict) or not all(
        k in IDENTITY_FIELDS and isinstance(v, str) for k, v in sets.items()
    ):
        raise _fail(origin, where, f"'sets' must map some of {IDENTITY_FIELDS} to strings")
    return Signature(
        id=raw["id"],
        family=family,
        field=raw["field"],
        pattern=pattern,
        vendor=raw["vendor"],
        maker=raw["maker"],
        certainty=float(certainty),
        description=raw["description"],
        source=raw["source"],
        examples=_strings(raw["examples"], origin, where, "examples"),
        counterexamples=_strings(raw.get("counterexamples", []), origin, where, "counterexamples"),
        sets=tuple(sorted(sets.items())),
        origin=origin,
    )


def parse_file(text: str, family: str, origin: str) -> list[Signature]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SignatureError(f"{origin}: not valid TOML: {exc}") from None
    unknown = set(data) - {"signature"}
    if unknown:
        raise SignatureError(f"{origin}: unknown top-level key(s) {sorted(unknown)}")
    raw = data.get("signature", [])
    if not isinstance(raw, list):
        raise SignatureError(f"{origin}: 'signature' must be an array of tables ([[signature]])")
    return [parse_signature(item, family, origin, i) for i, item in enumerate(raw)]


def check(signatures: Iterable[Signature]) -> list[str]:
    """Problems with a set of signatures: unmatched examples, matched counterexamples,
    duplicate ids, signatures without examples. Empty when all is well."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for sig in signatures:
        where = f"{sig.origin}: {sig.id}"
        if sig.id in seen:
            problems.append(f"{where}: id already used in {seen[sig.id]}")
        seen[sig.id] = sig.origin
        if not sig.examples:
            problems.append(f"{where}: has no examples")
        problems += [
            f"{where}: example {ex!r} does not match" for ex in sig.examples if not sig.matches(ex)
        ]
        problems += [
            f"{where}: counterexample {ex!r} matches"
            for ex in sig.counterexamples
            if sig.matches(ex)
        ]
    return problems


def _family(name: str) -> str:
    return name.removesuffix(".toml")


def read_directory(directory: Traversable | Path) -> SignatureDB:
    signatures: list[Signature] = []
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            text = entry.read_text(encoding="utf-8")
            origin = f"signatures/{entry.name}"
            signatures += parse_file(text, _family(entry.name), origin)
    return SignatureDB(signatures)


def read_user_file(path: Path, family: str | None = None) -> list[Signature]:
    """A user's own signature file; its family is its file name unless given."""
    text = path.read_text(encoding="utf-8")
    return parse_file(text, family or _family(path.name), str(path))


@cache
def load_signatures() -> SignatureDB:
    """The signatures shipped with this version of the fingerprint database."""
    return read_directory(resources.files("fingerprints") / "signatures")
