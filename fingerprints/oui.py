"""MAC prefix lookup against the shipped copy of the IEEE registry.

The tables in ``data/`` are written by ``scripts/gen_oui.py``; attribution to a covered vendor was
decided there, by exact registrant name, and is only read here. Nothing in this module looks at a
registrant's name to decide coverage, so a "Dahua" weighing-scale factory can never become Dahua.

Loading is split in two because the scanner's start-up budget is tight: the covered table (a few
thousand rows) is read at once, and the full registry (about 59,000 rows, only needed to name a
non-covered maker) is read on the first lookup that needs it.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from scanner.model import OuiSource, Status

__all__ = [
    "CoveredBlock",
    "OuiBlock",
    "OuiDatabase",
    "OuiMatch",
    "is_locally_administered",
    "is_multicast",
    "load_oui_database",
    "normalise_mac",
    "read_oui_database",
]

REGISTRY_FILE = "oui_registry.tsv.gz"
COVERED_FILE = "covered_oui.tsv"
SOURCE_FILE = "oui_source.json"

COVERED_COLUMNS = (
    "prefix",
    "bits",
    "vendor",
    "entity",
    "relation",
    "certainty",
    "status",
    "registrant",
    "note",
)

# Longest first: an MA-S (/36) or MA-M (/28) carved out of a larger block belongs to whoever holds
# the small block, not to the holder of the block around it.
_PREFIX_DIGITS = ((36, 9), (28, 7), (24, 6))
_DIGITS_FOR_BITS = {bits: digits for bits, digits in _PREFIX_DIGITS}

_HEX = "[0-9A-Fa-f]"
_MAC_FORMS = re.compile(
    rf"{_HEX}{{2}}([:-]){_HEX}{{2}}(?:\1{_HEX}{{2}}){{4}}"  # aa:bb:cc:dd:ee:ff / AA-BB-...
    rf"|{_HEX}{{4}}\.{_HEX}{{4}}\.{_HEX}{{4}}"  # aabb.ccdd.eeff (Cisco)
    rf"|{_HEX}{{12}}"  # bare
)
_SEPARATORS = str.maketrans("", "", ":-.")


def _hex12(mac: str) -> str:
    """Upper-case 12-digit hex; the single gate every MAC passes, so a malformed value fails the
    same way everywhere. Only ASCII hex is accepted: ``int(x, 16)`` would also take other Unicode
    digits, and a MAC that only parses by accident is not evidence."""
    if not isinstance(mac, str):
        raise ValueError(f"MAC address must be a string, not {type(mac).__name__}")
    text = mac.strip(" \t\r\n")
    if _MAC_FORMS.fullmatch(text) is None:
        raise ValueError(f"not a MAC address: {mac!r}")
    return text.translate(_SEPARATORS).upper()


def normalise_mac(mac: str) -> str:
    """One spelling (``AA:BB:CC:DD:EE:FF``) so that the same device seen by ARP, a Cisco table and
    a vendor's discovery reply is recognised as one device."""
    digits = _hex12(mac)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_locally_administered(mac: str) -> bool:
    """A locally administered MAC (randomised phones, VMs, CIDs) was not assigned by the IEEE, so
    its first bytes name no maker and must never count as evidence for or against one."""
    return bool(int(_hex12(mac)[:2], 16) & 0x02)


def is_multicast(mac: str) -> bool:
    """Group addresses are destinations, never a device's own address."""
    return bool(int(_hex12(mac)[:2], 16) & 0x01)


@dataclass(frozen=True)
class OuiBlock:
    """One registry assignment: ``prefix`` is upper-case hex of ``bits // 4`` digits."""

    prefix: str
    bits: int
    registrant: str

    @property
    def label(self) -> str:
        """The prefix as people write it next to a MAC, e.g. ``A4:14:37/24``, ``40:2C:76:1/28``."""
        pairs = ":".join(self.prefix[i : i + 2] for i in range(0, len(self.prefix), 2))
        return f"{pairs}/{self.bits}"


@dataclass(frozen=True)
class CoveredBlock:
    """A block the allowlist attributes to a covered vendor group, with the reviewer's reasoning."""

    block: OuiBlock
    vendor: str  # covered vendor key: hikvision | dahua | hytera | huawei | zte
    entity: str  # e.g. "EZVIZ"
    relation: str  # vendor | subsidiary | affiliate
    certainty: float
    status: Status  # covered, or review when the affiliation or product line is uncertain
    note: str


@dataclass(frozen=True)
class OuiMatch:
    """The longest registry block containing a MAC, and its covered attribution if it has one."""

    block: OuiBlock
    covered: CoveredBlock | None

    @property
    def vendor(self) -> str | None:
        return None if self.covered is None else self.covered.vendor


class OuiDatabase:
    """Longest-prefix lookup over the registry copy named by ``source``."""

    def __init__(
        self,
        source: OuiSource,
        covered: Mapping[str, CoveredBlock],
        registry: Callable[[], Mapping[str, str]],
        *,
        nested_in_covered: frozenset[str] = frozenset(),
        sha256: str = "",
    ) -> None:
        """``covered`` and the mapping ``registry`` returns are keyed by hex prefix (6, 7 or 9
        digits, which also fixes the block size). ``nested_in_covered`` names the covered blocks
        that contain a smaller block of someone else; only for those does a covered hit have to
        wait for the full registry, every other covered hit is final at once."""
        self.source = source
        self.sha256 = sha256
        self._covered = dict(covered)
        self._registry_loader = registry
        self._registry: Mapping[str, str] | None = None
        self._nested = nested_in_covered
        self._lock = threading.Lock()

    def _names(self) -> Mapping[str, str]:
        registry = self._registry
        if registry is None:
            with self._lock:
                if self._registry is None:
                    self._registry = self._registry_loader()
                registry = self._registry
        return registry

    def lookup(self, mac: str) -> OuiMatch | None:
        """None means "the prefix tells us nothing": unknown, locally administered or multicast.
        Raises ValueError for anything that is not a MAC address."""
        digits = _hex12(mac)
        if int(digits[:2], 16) & 0x03:
            return None
        for _, width in _PREFIX_DIGITS:
            hit = self._covered.get(digits[:width])
            if hit is not None:
                if hit.block.prefix not in self._nested:
                    return OuiMatch(hit.block, hit)
                break
        names = self._names()
        for bits, width in _PREFIX_DIGITS:
            prefix = digits[:width]
            name = names.get(prefix)
            if name is not None:
                cov = self._covered.get(prefix)
                block = cov.block if cov is not None else OuiBlock(prefix, bits, name)
                return OuiMatch(block, cov)
        return None

    def covered_blocks(self) -> Iterator[CoveredBlock]:
        """Every attributed block, in the reviewable table's order."""
        return iter(self._covered.values())

    def registry_size(self) -> int:
        return len(self._names())


def _read_text(path: Traversable | Path) -> str:
    return path.read_text(encoding="utf-8")


def _parse_covered(text: str) -> dict[str, CoveredBlock]:
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != COVERED_COLUMNS:
        raise ValueError(f"{COVERED_FILE}: header is not {COVERED_COLUMNS}")
    covered: dict[str, CoveredBlock] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        cols = line.split("\t")
        if len(cols) != len(COVERED_COLUMNS):
            raise ValueError(f"{COVERED_FILE}:{lineno}: expected {len(COVERED_COLUMNS)} columns")
        prefix, bits_text, vendor, entity, relation, certainty, status, registrant, note = cols
        bits = int(bits_text)
        if _DIGITS_FOR_BITS.get(bits) != len(prefix):
            raise ValueError(f"{COVERED_FILE}:{lineno}: prefix {prefix} does not fit /{bits}")
        block = OuiBlock(prefix, bits, registrant)
        covered[prefix] = CoveredBlock(
            block, vendor, entity, relation, float(certainty), Status(status), note
        )
    return covered


def _parse_registry(raw: bytes) -> dict[str, str]:
    # One split over the whole text is several times faster than a per-line loop, and the prefix
    # length already encodes the block size, so the bits column is skipped.
    fields = gzip.decompress(raw).decode("utf-8").replace("\n", "\t").split("\t")
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) % 3:
        raise ValueError(f"{REGISTRY_FILE}: rows must have three columns")
    return dict(zip(fields[0::3], fields[2::3], strict=True))


def read_oui_database(directory: Traversable | Path) -> OuiDatabase:
    """Build a database from a directory of generated tables (the package's own, or a test's)."""
    meta: dict[str, Any] = json.loads(_read_text(directory / SOURCE_FILE))
    source = OuiSource(name=str(meta["name"]), version=str(meta["version"]), date=str(meta["date"]))
    covered = _parse_covered(_read_text(directory / COVERED_FILE))
    nested = frozenset(str(p) for p in meta.get("nested_in_covered", []))

    def registry() -> Mapping[str, str]:
        return _parse_registry((directory / REGISTRY_FILE).read_bytes())

    return OuiDatabase(
        source, covered, registry, nested_in_covered=nested, sha256=str(meta.get("sha256", ""))
    )


@cache
def load_oui_database() -> OuiDatabase:
    """The shipped tables, read once per process."""
    return read_oui_database(resources.files("fingerprints") / "data")
