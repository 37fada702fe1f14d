#!/usr/bin/env python3
"""Build the OUI tables in fingerprints/data/ from a copy of the IEEE registry.

The scanner never reads the registry copy at run time: it ships the tables this script writes, so
every finding can cite exactly which copy (name, version, date, sha256) its OUI facts came from,
and a reviewer can read covered_oui.tsv line by line instead of trusting a name pattern.

Usage: python scripts/gen_oui.py [--manuf PATH] [--out DIR] [--entities TOML]

Without --manuf the installed pymanuf's manuf.txt is used and its version is read from the
package metadata; with --manuf, --version and --date must say what the copy is, because an
undated registry copy cannot be cited in a compliance report.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
import io
import json
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "fingerprints" / "data"
DEFAULT_NAME = "pymanuf (IEEE MA-L/MA-M/MA-S/IAB/CID)"

VENDOR_ORDER = ("hikvision", "dahua", "hytera", "huawei", "zte")
RELATIONS = ("vendor", "subsidiary", "affiliate")
STATUSES = ("covered", "review")

# IAB blocks are /36 slices of these two MA-L blocks that the IEEE kept for itself; the copy does
# not label them, so they are told apart from MA-S by their parent.
IAB_PARENTS = frozenset({"0050C2", "40D855"})

COVERED_HEADER = (
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

_HEX = re.compile(r"[0-9A-F]+")


@dataclass(frozen=True)
class Block:
    prefix: str  # upper-case hex, bits // 4 digits
    bits: int
    registrant: str
    kind: str  # MA-L, MA-M, MA-S, IAB


@dataclass(frozen=True)
class Entity:
    registrants: tuple[str, ...]
    vendor: str
    entity: str
    relation: str
    certainty: float
    status: str
    note: str


@dataclass(frozen=True)
class Dropped:
    block: Block
    reason: str


def normalise_name(name: str) -> str:
    """Compare registrant names the way a reviewer reads them: case and spacing carry no meaning
    in the registry (the same company appears as "hangzhou huacheng ..." and "Hangzhou Huacheng
    ..."), but every other character does, so nothing else is folded."""
    return " ".join(name.split()).casefold()


def _parse_prefix(field: str, lineno: int) -> tuple[str, int]:
    if "/" in field:
        address, _, bits_text = field.partition("/")
        if bits_text not in ("28", "36"):
            raise ValueError(f"line {lineno}: unexpected block size /{bits_text}")
        bits = int(bits_text)
        digits = address.replace(":", "").upper()
        if len(digits) != 12 or not _HEX.fullmatch(digits):
            raise ValueError(f"line {lineno}: malformed address {address!r}")
        if digits[bits // 4 :].strip("0"):
            raise ValueError(f"line {lineno}: {field!r} has bits set beyond its prefix")
        return digits[: bits // 4], bits
    digits = field.replace(":", "").upper()
    if len(digits) != 6 or not _HEX.fullmatch(digits):
        raise ValueError(f"line {lineno}: malformed OUI {field!r}")
    return digits, 24


def _kind(prefix: str, bits: int) -> str:
    if bits == 24:
        return "MA-L"
    if bits == 28:
        return "MA-M"
    return "IAB" if prefix[:6] in IAB_PARENTS else "MA-S"


def parse_manuf(text: str) -> tuple[list[Block], list[Dropped]]:
    """Read a Wireshark-style manuf file; malformed lines stop the run rather than being skipped,
    because a silently lost line could be a covered vendor's block."""
    blocks: list[Block] = []
    dropped: list[Dropped] = []
    seen: set[tuple[str, int]] = set()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        names = [f.strip() for f in fields[1:] if f.strip()]
        if not names:
            raise ValueError(f"line {lineno}: no registrant name")
        # MA-L lines carry "<short>\t<long>" (short is often empty); MA-M/MA-S carry one name.
        registrant = names[-1]
        prefix, bits = _parse_prefix(fields[0].strip(), lineno)
        if (prefix, bits) in seen:
            raise ValueError(f"line {lineno}: duplicate block {prefix}/{bits}")
        seen.add((prefix, bits))
        block = Block(prefix, bits, registrant, _kind(prefix, bits))
        first_octet = int(prefix[:2], 16)
        if first_octet & 0x01:
            dropped.append(Dropped(block, "group (multicast) bit set"))
        elif first_octet & 0x02:
            dropped.append(Dropped(block, "locally administered bit set (CID or historic)"))
        else:
            blocks.append(block)
    return blocks, dropped


def load_entities(path: Path) -> tuple[list[Entity], dict[str, str]]:
    """Load and check the allowlist; returns the entities and the not-covered names (normalised
    name -> reason). A name listed twice, or listed both as covered and as a look-alike, is an
    error: the table must say one thing about each registrant."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    entities: list[Entity] = []
    owner: dict[str, str] = {}
    for item in raw.get("entity", []):
        ent = Entity(
            registrants=tuple(item["registrants"]),
            vendor=item["vendor"],
            entity=item["entity"],
            relation=item["relation"],
            certainty=float(item["certainty"]),
            status=item["status"],
            note=item["note"],
        )
        if ent.vendor not in VENDOR_ORDER:
            raise ValueError(f"{ent.entity}: unknown vendor {ent.vendor!r}")
        if ent.relation not in RELATIONS:
            raise ValueError(f"{ent.entity}: unknown relation {ent.relation!r}")
        if ent.status not in STATUSES:
            raise ValueError(f"{ent.entity}: unknown status {ent.status!r}")
        if not 0.0 < ent.certainty <= 1.0:
            raise ValueError(f"{ent.entity}: certainty {ent.certainty} outside (0, 1]")
        for text in (ent.entity, ent.note, *ent.registrants):
            if "\t" in text or "\n" in text:
                raise ValueError(f"{ent.entity}: tabs and newlines would break the TSV")
        for name in ent.registrants:
            key = normalise_name(name)
            if key in owner and owner[key] != ent.entity:
                raise ValueError(f"{name!r} listed for both {owner[key]} and {ent.entity}")
            owner[key] = ent.entity
        entities.append(ent)
    not_covered: dict[str, str] = {}
    for item in raw.get("not_covered", []):
        for name in item["registrants"]:
            key = normalise_name(name)
            if key in owner:
                raise ValueError(f"{name!r} is both covered ({owner[key]}) and a look-alike")
            not_covered[key] = item["reason"]
    return entities, not_covered


def attribute(blocks: list[Block], entities: list[Entity]) -> list[tuple[Block, Entity]]:
    """Exact-name attribution, ordered for reading: vendor, then entity as listed, then prefix."""
    by_name = {normalise_name(n): e for e in entities for n in e.registrants}
    found = [(b, by_name[key]) for b in blocks if (key := normalise_name(b.registrant)) in by_name]
    rank = {e.entity: i for i, e in enumerate(entities)}
    return sorted(
        found,
        key=lambda r: (VENDOR_ORDER.index(r[1].vendor), rank[r[1].entity], r[0].prefix),
    )


def nested_in_covered(blocks: list[Block], rows: list[tuple[Block, Entity]]) -> list[str]:
    """Covered blocks that contain a smaller block. The run-time lookup trusts a covered hit at
    once, without reading the full registry, except for these: inside them a longer prefix may
    belong to someone else, and the longest prefix must win."""
    covered = {b.prefix for b, _ in rows}
    nested: set[str] = set()
    for block in blocks:
        for width in (6, 7):
            if width < len(block.prefix) and block.prefix[:width] in covered:
                nested.add(block.prefix[:width])
    return sorted(nested)


def _sort_key(block: Block) -> tuple[str, int]:
    # Left-aligned so that an MA-M/MA-S block sorts right after the MA-L that contains it.
    return block.prefix.ljust(12, "0"), block.bits


def registry_bytes(blocks: list[Block]) -> bytes:
    """Gzip with mtime 0 and no file name, so the same input always gives the same bytes and a
    regenerated file only shows up in a diff when the registry really changed."""
    text = "".join(f"{b.prefix}\t{b.bits}\t{b.registrant}\n" for b in sorted(blocks, key=_sort_key))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def covered_tsv(rows: list[tuple[Block, Entity]]) -> str:
    lines = ["\t".join(COVERED_HEADER)]
    for block, ent in rows:
        lines.append(
            "\t".join(
                (
                    block.prefix,
                    str(block.bits),
                    ent.vendor,
                    ent.entity,
                    ent.relation,
                    repr(ent.certainty),
                    ent.status,
                    block.registrant,
                    ent.note,
                )
            )
        )
    return "\n".join(lines) + "\n"


def date_from_calver(version: str) -> str | None:
    """pymanuf's monthly release job tags each release with `date +%Y.%-m.%-d` on the day it runs,
    so a version like 2026.10.1 is the release date (1 Oct 2026) and the data is no newer."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    year, month, day = (int(p) for p in parts)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def source_json(
    *,
    name: str,
    version: str,
    date: str,
    date_basis: str,
    input_label: str,
    sha256: str,
    blocks: list[Block],
    dropped: list[Dropped],
    rows: list[tuple[Block, Entity]],
    entities: list[Entity],
) -> str:
    kinds = Counter(b.kind for b in blocks)
    by_entity: dict[str, int] = {e.entity: 0 for e in entities}
    for _, ent in rows:
        by_entity[ent.entity] += 1
    by_name = {normalise_name(n): e for e in entities for n in e.registrants}
    dropped_attributed = [
        {
            "prefix": d.block.prefix,
            "bits": d.block.bits,
            "registrant": d.block.registrant,
            "entity": by_name[normalise_name(d.block.registrant)].entity,
            "reason": d.reason,
        }
        for d in dropped
        if normalise_name(d.block.registrant) in by_name
    ]
    doc: dict[str, Any] = {
        "name": name,
        "version": version,
        "date": date,
        "date_basis": date_basis,
        "input": input_label,
        "sha256": sha256,
        "blocks": {
            "MA-L": kinds["MA-L"],
            "MA-M": kinds["MA-M"],
            "MA-S": kinds["MA-S"],
            "IAB": kinds["IAB"],
            "total": len(blocks),
            "dropped_local_or_group": len(dropped),
            "covered": sum(1 for _, e in rows if e.status == "covered"),
            "review": sum(1 for _, e in rows if e.status == "review"),
        },
        "by_entity": by_entity,
        "dropped_attributed": dropped_attributed,
        "nested_in_covered": nested_in_covered(blocks, rows),
        "generated_by": "scripts/gen_oui.py",
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _default_manuf() -> tuple[Path, str]:
    dist = importlib.metadata.distribution("pymanuf")
    located = dist.locate_file("pymanuf/manuf.txt")
    return Path(str(located)), dist.version


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manuf", type=Path, help="registry copy (default: pymanuf's manuf.txt)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    parser.add_argument(
        "--entities",
        type=Path,
        default=DATA_DIR / "covered_entities.toml",
        help="allowlist of covered registrants",
    )
    parser.add_argument("--name", default=DEFAULT_NAME, help="name of the registry copy")
    parser.add_argument("--version", dest="copy_version", help="version of the registry copy")
    parser.add_argument("--date", help="ISO date of the registry data")
    args = parser.parse_args(argv)

    if args.manuf is None:
        manuf, version = _default_manuf()
        input_label = "pymanuf/manuf.txt"
        version = args.copy_version or version
    else:
        manuf = args.manuf
        input_label = manuf.name
        if not args.copy_version or not args.date:
            parser.error("--manuf needs --version and --date: an undated copy cannot be cited")
        version = args.copy_version

    if args.date:
        date = args.date
        date_basis = "given on the command line"
    else:
        derived = date_from_calver(version)
        if derived is None:
            parser.error(f"cannot derive a date from version {version!r}; pass --date")
        date = derived
        date_basis = (
            "the copy carries no generation date; pymanuf's monthly release workflow versions "
            "each release as YEAR.MONTH.DAY of the release run, so the data is no newer than this"
        )

    raw = manuf.read_bytes()
    blocks, dropped = parse_manuf(raw.decode("utf-8"))
    entities, not_covered = load_entities(args.entities)
    rows = attribute(blocks, entities)

    args.out.mkdir(parents=True, exist_ok=True)
    _write_if_changed(args.out / "oui_registry.tsv.gz", registry_bytes(blocks))
    _write_if_changed(args.out / "covered_oui.tsv", covered_tsv(rows).encode("utf-8"))
    _write_if_changed(
        args.out / "oui_source.json",
        source_json(
            name=args.name,
            version=version,
            date=date,
            date_basis=date_basis,
            input_label=input_label,
            sha256=hashlib.sha256(raw).hexdigest(),
            blocks=blocks,
            dropped=dropped,
            rows=rows,
            entities=entities,
        ).encode("utf-8"),
    )

    _report(blocks, dropped, rows, entities, not_covered)
    return 0


def _report(
    blocks: list[Block],
    dropped: list[Dropped],
    rows: list[tuple[Block, Entity]],
    entities: list[Entity],
    not_covered: dict[str, str],
) -> None:
    """Print what a reviewer needs to compare against the research counts (§1.2)."""
    kinds = Counter(b.kind for b in blocks)
    print(
        f"registry: {len(blocks)} blocks "
        + ", ".join(f"{k} {kinds[k]}" for k in ("MA-L", "MA-M", "MA-S", "IAB"))
        + f"; dropped {len(dropped)} locally administered/group blocks"
    )
    per_entity = Counter(e.entity for _, e in rows)
    per_vendor = Counter(e.vendor for _, e in rows)
    for vendor in VENDOR_ORDER:
        print(f"{vendor}: {per_vendor[vendor]} blocks")
        for ent in entities:
            if ent.vendor == vendor:
                print(f"  {ent.entity:<24} {per_entity[ent.entity]:>5}  {ent.status}")
    by_name = {normalise_name(n) for e in entities for n in e.registrants}
    for d in dropped:
        if normalise_name(d.block.registrant) in by_name:
            print(f"dropped {d.block.prefix}/{d.block.bits} {d.block.registrant}: {d.reason}")
    present = {normalise_name(b.registrant) for b in blocks}
    present |= {normalise_name(d.block.registrant) for d in dropped}
    lookalikes = sum(1 for b in blocks if normalise_name(b.registrant) in not_covered)
    print(f"look-alike blocks kept as not covered: {lookalikes}")
    missing = sorted(n for e in entities for n in e.registrants if normalise_name(n) not in present)
    if missing:
        names = "; ".join(missing)
        print(f"allowlisted names with no block in this copy: {names}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
