"""The generator: parses a manuf copy, attributes by exact name, writes reproducible tables."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from fingerprints.oui import read_oui_database
from scanner.model import Status

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gen_oui.py"
SHIPPED = REPO / "fingerprints" / "data"
OUTPUTS = ("oui_registry.tsv.gz", "covered_oui.tsv", "oui_source.json")

SYNTHETIC_MANUF = "\n".join(
    [
        "# a comment, then a blank line",
        "",
        "00:00:0C\t\tCisco Systems, Inc",
        "00:40:8C\tAxis\tAxis Communications AB",
        "A4:14:37\t\tHangzhou Hikvision Digital Technology Co.,Ltd.",
        "A4:14:37:12:30:00/36\tNested Module Maker Ltd",  # foreign MA-S inside covered MA-L
        "3A:72:C2\t\tHuawei Technologies Co.,Ltd",  # CID: locally administered bit
        "00:E0:FC\t\tHUAWEI TECHNOLOGIES CO.,LTD",  # case variant of an allowlisted name
        "11:00:AA\t\tPrivate",  # group bit
        "90:6A:94\t\tHangzhou  Huacheng Network Technology Co., Ltd",  # doubled space
        "40:2C:76\t\tIEEE Registration Authority",
        "40:2C:76:10:00:00/28\tShanghai Dahua Scale Factory",
        "48:EA:63\t\tZhejiang Uniview Technologies Co., Ltd.",
        "70:B3:D5\t\tIEEE Registration Authority",
        "70:B3:D5:0A:E0:00/36\tNorsat International Inc.",
        "00:50:C2\t\tIEEE Registration Authority",
        "00:50:C2:00:30:00/36\tMicrosoft",  # IAB
        "B0:B3:53\t\tIEEE Registration Authority",
        "B0:B3:53:60:00:00/28\tHangzhou Hikrobot Technology Co., Ltd.",
        "7C:82:74\t\tShenzhen Hikeen Technology CO.,LTD",
        "",
    ]
)


@pytest.fixture
def manuf(tmp_path: Path) -> Path:
    path = tmp_path / "manuf.txt"
    path.write_text(SYNTHETIC_MANUF, encoding="utf-8")
    return path


def generate(gen_oui: ModuleType, manuf: Path, out: Path) -> int:
    return int(
        gen_oui.main(
            ["--manuf", str(manuf), "--out", str(out), "--version", "0.1", "--date", "2026-01-02"]
        )
    )


def test_output_is_deterministic(gen_oui: ModuleType, manuf: Path, tmp_path: Path) -> None:
    assert generate(gen_oui, manuf, tmp_path / "a") == 0
    assert generate(gen_oui, manuf, tmp_path / "b") == 0
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    raw = (tmp_path / "a" / "oui_registry.tsv.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip MTIME field
    assert raw[3] & 0x08 == 0  # no FNAME field: the output path does not leak into the bytes


def test_registry_lists_every_global_block(
    gen_oui: ModuleType, manuf: Path, tmp_path: Path
) -> None:
    generate(gen_oui, manuf, tmp_path)
    text = gzip.decompress((tmp_path / "oui_registry.tsv.gz").read_bytes()).decode("utf-8")
    rows = [tuple(line.split("\t")) for line in text.splitlines()]
    prefixes = [r[0] for r in rows]
    assert ("A414371230", "36") not in {(r[0], r[1]) for r in rows}
    assert ("A41437123", "36", "Nested Module Maker Ltd") in rows
    assert ("402C761", "28", "Shanghai Dahua Scale Factory") in rows
    assert ("00408C", "24", "Axis Communications AB") in rows  # long name, not the short one
    assert ("906A94", "24", "Hangzhou  Huacheng Network Technology Co., Ltd") in rows  # exact
    assert "3A72C2" not in prefixes and "1100AA" not in prefixes
    assert len(rows) == 16
    assert prefixes == sorted(prefixes, key=lambda p: (p.ljust(12, "0"), len(p)))


def test_covered_table_and_source(gen_oui: ModuleType, manuf: Path, tmp_path: Path) -> None:
    generate(gen_oui, manuf, tmp_path)
    lines = (tmp_path / "covered_oui.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(gen_oui.COVERED_HEADER)
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(rows) == {"A41437", "00E0FC", "906A94", "70B3D50AE", "B0B3536"}
    assert rows["A41437"][2:7] == ["hikvision", "Hikvision", "vendor", "0.8", "covered"]
    assert rows["00E0FC"][2:4] == ["huawei", "Huawei"]
    assert rows["906A94"][3] == "Huacheng (Imou)"
    assert rows["B0B3536"][6] == "review"
    assert rows["70B3D50AE"][1] == "36"

    meta = json.loads((tmp_path / "oui_source.json").read_text(encoding="utf-8"))
    assert (meta["version"], meta["date"]) == ("0.1", "2026-01-02")
    assert meta["sha256"] == hashlib.sha256(SYNTHETIC_MANUF.encode()).hexdigest()
    assert meta["blocks"]["MA-L"] == 11
    assert meta["blocks"]["MA-M"] == 2
    assert meta["blocks"]["MA-S"] == 2
    assert meta["blocks"]["IAB"] == 1
    assert meta["blocks"]["dropped_local_or_group"] == 2
    assert meta["nested_in_covered"] == ["A41437"]
    assert [d["prefix"] for d in meta["dropped_attributed"]] == ["3A72C2"]


def test_lookup_over_generated_tables(gen_oui: ModuleType, manuf: Path, tmp_path: Path) -> None:
    generate(gen_oui, manuf, tmp_path)
    db = read_oui_database(tmp_path)
    assert db.source.date == "2026-01-02"

    # Longest prefix: the foreign MA-S wins inside Hikvision's MA-L, and only there.
    nested = db.lookup("A4:14:37:12:3F:FF")
    assert nested is not None and nested.covered is None
    assert (nested.block.registrant, nested.block.bits) == ("Nested Module Maker Ltd", 36)
    around = db.lookup("A4:14:37:12:40:00")
    assert around is not None and around.covered is not None
    assert around.covered.vendor == "hikvision" and around.block.bits == 24

    huawei = db.lookup("00e0.fc12.3456")
    assert huawei is not None and huawei.vendor == "huawei"
    imou = db.lookup("90-6A-94-00-00-01")
    assert imou is not None and imou.covered is not None
    assert imou.covered.status is Status.COVERED
    for lookalike in ("40:2C:76:1A:BC:DE", "48:EA:63:00:00:01", "7C:82:74:00:00:01"):
        match = db.lookup(lookalike)
        assert match is not None and match.covered is None
    assert db.lookup("3A:72:C2:00:00:01") is None
    assert db.lookup("00:11:22:33:44:55") is None


def test_cli(manuf: Path, tmp_path: Path) -> None:
    base = [sys.executable, str(SCRIPT), "--manuf", str(manuf), "--out", str(tmp_path / "o")]
    ok = subprocess.run(
        [*base, "--version", "0.1", "--date", "2026-01-02"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "hikvision: 2 blocks" in ok.stdout
    assert "dropped 3A72C2/24 Huawei Technologies Co.,Ltd" in ok.stdout
    undated = subprocess.run(base, capture_output=True, text=True, check=False)
    assert undated.returncode == 2
    assert "--date" in undated.stderr


@pytest.mark.parametrize(
    "line",
    [
        "A4:14:3\t\tShort prefix",
        "A4:14:37:10:00:00/32\tOdd size",
        "A4:14:37:10:00:01/28\tBits beyond prefix",
        "ZZ:14:37\t\tNot hex",
        "A4:14:37\t\t",
    ],
)
def test_malformed_lines_stop_the_run(gen_oui: ModuleType, line: str) -> None:
    with pytest.raises(ValueError):
        gen_oui.parse_manuf(line + "\n")


def test_duplicate_block_stops_the_run(gen_oui: ModuleType) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        gen_oui.parse_manuf("A4:14:37\t\tOne\nA4:14:37\t\tTwo\n")


ENTITY = """
[[entity]]
registrants = [{names}]
vendor = "{vendor}"
entity = "{entity}"
relation = "vendor"
certainty = 0.8
status = "{status}"
note = "n"
"""


@pytest.mark.parametrize(
    "toml",
    [
        ENTITY.format(names='"X Co"', vendor="hikvision", entity="A", status="covered")
        + '[[not_covered]]\nregistrants = ["x  co"]\nreason = "r"\n',
        ENTITY.format(names='"X Co"', vendor="hikvision", entity="A", status="covered")
        + ENTITY.format(names='"X CO"', vendor="dahua", entity="B", status="covered"),
        ENTITY.format(names='"X Co"', vendor="uniview", entity="A", status="covered"),
        ENTITY.format(names='"X Co"', vendor="hikvision", entity="A", status="maybe"),
    ],
)
def test_contradictory_allowlist_is_rejected(
    gen_oui: ModuleType, tmp_path: Path, toml: str
) -> None:
    path = tmp_path / "entities.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ValueError):
        gen_oui.load_entities(path)


def test_date_from_calver(gen_oui: ModuleType) -> None:
    assert gen_oui.date_from_calver("2026.10.1") == "2026-10-01"
    assert gen_oui.date_from_calver("2026.10") is None
    assert gen_oui.date_from_calver("1.2.3rc1") is None


@pytest.mark.skipif(importlib.util.find_spec("pymanuf") is None, reason="pymanuf not installed")
def test_shipped_tables_match_a_fresh_run(gen_oui: ModuleType, tmp_path: Path) -> None:
    """The committed tables must be exactly what the script makes from the pinned pymanuf and
    the committed allowlist, so nobody can hand-edit covered_oui.tsv without it showing here."""
    import importlib.metadata

    if importlib.metadata.version("pymanuf") != "2026.10.1":
        pytest.skip("tables were generated from pymanuf 2026.10.1")
    assert gen_oui.main(["--out", str(tmp_path)]) == 0
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name
