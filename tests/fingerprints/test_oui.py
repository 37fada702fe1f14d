"""The OUI lookup: longest prefix wins, look-alikes never match, randomised MACs never match."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fingerprints.oui import (
    OuiDatabase,
    is_locally_administered,
    is_multicast,
    load_oui_database,
    normalise_mac,
    read_oui_database,
)
from scanner.model import OuiSource, Status

DATA = Path(__file__).resolve().parents[2] / "fingerprints" / "data"


def mac_in(prefix: str, fill: str = "1") -> str:
    """A MAC inside the block ``prefix`` (6, 7 or 9 hex digits), colon form."""
    digits = (prefix + fill * 12)[:12]
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def normalise_name(name: str) -> str:
    # Same rule the generator documents: case and whitespace runs carry no meaning.
    return " ".join(name.split()).casefold()


def lookalike_names(entities: dict[str, Any]) -> set[str]:
    return {normalise_name(n) for item in entities["not_covered"] for n in item["registrants"]}


# Example MACs for the lab emulators: (mac, registrant, covered vendor or None, entity, status).
# Every row is checked below, so the lab can copy them as they stand.
LAB_EXAMPLES: list[tuple[str, str, str | None, str | None, Status | None]] = [
    ("A4:14:37:3C:5D:01", "Hangzhou Hikvision Digital Technology Co.,Ltd.", "hikvision",
     "Hikvision", Status.COVERED),
    ("24:B1:05:3C:5D:02", "Prama Hikvision India Private Limited", "hikvision",
     "Prama Hikvision India", Status.COVERED),
    ("64:F2:FB:3C:5D:03", "Hangzhou Ezviz Software Co.,Ltd.", "hikvision", "EZVIZ",
     Status.COVERED),
    ("34:BD:20:3C:5D:04", "Hangzhou Hikrobot Technology Co., Ltd.", "hikvision", "Hikrobot",
     Status.REVIEW),
    ("B0:B3:53:6C:5D:05", "Hangzhou Hikrobot Technology Co., Ltd.", "hikvision", "Hikrobot",
     Status.REVIEW),
    ("3C:EF:8C:3C:5D:06", "Zhejiang Dahua Technology Co., Ltd.", "dahua", "Dahua",
     Status.COVERED),
    ("A8:31:62:3C:5D:07", "Hangzhou Huacheng Network Technology Co.,Ltd", "dahua",
     "Huacheng (Imou)", Status.COVERED),
    ("64:69:BC:3C:5D:08", "Hytera Communications Co .,ltd", "hytera", "Hytera", Status.COVERED),
    ("00:04:18:3C:5D:09", "Teltronic S.A.U.", "hytera", "Teltronic", Status.REVIEW),
    ("70:B3:D5:0A:E5:0A", "Norsat International Inc.", "hytera", "Norsat", Status.REVIEW),
    ("00:E0:FC:3C:5D:0B", "Huawei Technologies Co.,Ltd", "huawei", "Huawei", Status.COVERED),
    ("00:3D:E1:3C:5D:0C", "Huawei Device Co., Ltd.", "huawei", "Huawei Device", Status.COVERED),
    ("84:8A:59:3C:5D:0D", "Hisilicon Technologies Co., Ltd", "huawei", "HiSilicon",
     Status.REVIEW),
    ("00:19:C6:3C:5D:0E", "zte corporation", "zte", "ZTE", Status.COVERED),
    ("AC:64:DD:5C:5D:0F", "Shanghai Zte Technologies Co.,Ltd", "zte", "Shanghai ZTE",
     Status.COVERED),
    # Not covered: ordinary makers ...
    ("00:40:8C:3C:5D:10", "Axis Communications AB", None, None, None),
    ("3C:D9:2B:3C:5D:11", "Hewlett Packard", None, None, None),
    ("00:00:0C:3C:5D:12", "Cisco Systems, Inc", None, None, None),
    # ... and every look-alike the research lists.
    ("48:EA:63:3C:5D:13", "Zhejiang Uniview Technologies Co., Ltd.", None, None, None),
    ("40:2C:76:1C:5D:14", "Shanghai Dahua Scale Factory", None, None, None),
    ("7C:82:74:3C:5D:15", "Shenzhen Hikeen Technology CO.,LTD", None, None, None),
    ("00:09:BA:3C:5D:16", "MAKU Informationstechik GmbH", None, None, None),
    ("8C:1F:64:F4:BD:17", "Jorex Lorex India Private Limited", None, None, None),
    ("54:02:37:3C:5D:18", "Teltronic AG", None, None, None),
    ("00:01:D8:3C:5D:19", "Teltronics, Inc.", None, None, None),
    ("00:A3:07:3C:5D:1A", "Honor Device Co., Ltd.", None, None, None),
    ("00:BE:D5:3C:5D:1B", "New H3C Technologies Co., Ltd", None, None, None),
    ("00:D0:D0:3C:5D:1C", "Zhongxing Telecom Ltd.", None, None, None),
    ("C0:61:9A:EC:5D:1D", "Zhejiang Haikang Science And Technology Co.,Ltd", None, None, None),
    ("00:41:B4:3C:5D:1E", "Wuxi Zhongxing Optoelectronics Technology Co.,Ltd.", None, None, None),
    ("F8:EF:B1:3C:5D:1F", "Hangzhou Zhongxinghui Intelligent Technology Co., Ltd.", None, None,
     None),
]  # fmt: skip

# Research §1.2, column P (pymanuf 2026.10.1). Huawei's 2089 there includes the CID 3A72C2,
# which the generator drops because a CID is never a burned-in NIC address; hence 2088.
EXPECTED_GROUP_COUNTS = {
    "Hikvision": 84,
    "Prama Hikvision India": 2,
    "EZVIZ": 15,
    "Dahua": 31,
    "Huacheng (Imou)": 6,
    "Hytera": 2,
    "Huawei group": 2088,
    "ZTE group": 503,
}
HUAWEI_GROUP = ("Huawei", "Huawei Device", "Huawei Symantec")
ZTE_GROUP = ("ZTE", "Shanghai ZTE")


@pytest.mark.parametrize(("mac", "registrant", "vendor", "entity", "status"), LAB_EXAMPLES)
def test_lab_examples(
    db: OuiDatabase,
    mac: str,
    registrant: str,
    vendor: str | None,
    entity: str | None,
    status: Status | None,
) -> None:
    match = db.lookup(mac)
    assert match is not None
    assert match.block.registrant == registrant
    assert mac.replace(":", "").startswith(match.block.prefix)
    if vendor is None:
        assert match.covered is None
        assert match.vendor is None
    else:
        assert match.covered is not None
        assert (match.covered.vendor, match.covered.entity, match.covered.status) == (
            vendor,
            entity,
            status,
        )
        assert match.covered.block == match.block


def test_group_counts_match_research(db: OuiDatabase) -> None:
    per_entity = Counter(c.entity for c in db.covered_blocks())
    counts = {name: per_entity[name] for name in EXPECTED_GROUP_COUNTS if name in per_entity}
    counts["Huawei group"] = sum(per_entity[e] for e in HUAWEI_GROUP)
    counts["ZTE group"] = sum(per_entity[e] for e in ZTE_GROUP)
    assert counts == EXPECTED_GROUP_COUNTS


def test_huawei_cid_was_dropped_and_recorded(db: OuiDatabase) -> None:
    assert db.lookup("3A:72:C2:00:00:01") is None  # locally administered: never a match
    meta = json.loads((DATA / "oui_source.json").read_text(encoding="utf-8"))
    dropped = {(d["prefix"], d["entity"]) for d in meta["dropped_attributed"]}
    assert ("3A72C2", "Huawei") in dropped
    assert ("4AC03F", "Hikstorage") in dropped
    assert not any(c.block.prefix == "3A72C2" for c in db.covered_blocks())


def test_every_covered_block_is_in_the_registry_under_an_allowlisted_name(
    db: OuiDatabase, registry: dict[str, tuple[int, str]], entities: dict[str, Any]
) -> None:
    allowed = {
        (normalise_name(name), e["vendor"], e["entity"], e["status"])
        for e in entities["entity"]
        for name in e["registrants"]
    }
    blocks = list(db.covered_blocks())
    assert blocks
    for cov in blocks:
        assert registry[cov.block.prefix] == (cov.block.bits, cov.block.registrant)
        key = (normalise_name(cov.block.registrant), cov.vendor, cov.entity, cov.status.value)
        assert key in allowed
        assert 0 < cov.certainty <= 1
        assert cov.relation in ("vendor", "subsidiary", "affiliate")
        assert cov.note


def test_review_entities_are_review(db: OuiDatabase) -> None:
    review = {
        "Hikrobot",
        "Microimage (HIKMICRO)",
        "Hikstorage",
        "Hikailink",
        "Prama India",
        "HuaRay",
        "Dahua Zhilian",
        "Lorex",
        "HiSilicon",
        "Nubia",
    }
    seen = {c.entity: c.status for c in db.covered_blocks()}
    for name in review:
        assert seen[name] is Status.REVIEW, name
    for name in ("Hikvision", "EZVIZ", "Prama Hikvision India", "Dahua", "Huacheng (Imou)"):
        assert seen[name] is Status.COVERED, name
    for name in ("Hytera", "Huawei", "Huawei Device", "Huawei Symantec", "ZTE", "Shanghai ZTE"):
        assert seen[name] is Status.COVERED, name


def test_every_lookalike_yields_its_own_name_never_a_covered_match(
    db: OuiDatabase, registry: dict[str, tuple[int, str]], entities: dict[str, Any]
) -> None:
    lookalikes = lookalike_names(entities)
    found: Counter[str] = Counter()
    for prefix, (_bits, name) in registry.items():
        if normalise_name(name) not in lookalikes:
            continue
        found[normalise_name(name)] += 1
        for fill in ("0", "7", "F"):
            match = db.lookup(mac_in(prefix, fill))
            assert match is not None, prefix
            assert match.covered is None, (prefix, name)
            assert match.block.registrant == name
    # The brief's look-alikes must all be present in this copy, or the test proves nothing.
    for name in (
        "Zhejiang Uniview Technologies Co.,Ltd.",
        "Shanghai Dahua Scale Factory",
        "Shenzhen Hikeen Technology Co.,LTD",
        "MAKU Informationstechik GmbH",
        "Jorex Lorex India Private Limited",
        "Teltronic AG",
        "Teltronics, Inc.",
        "Honor Device Co., Ltd.",
        "New H3C Technologies Co., Ltd",
        "Zhongxing Telecom Ltd.",
        "Zhejiang Haikang Science And Technology Co.,Ltd",
        "Wuxi Zhongxing Optoelectronics Technology Co.,Ltd.",
        "Hangzhou Zhongxinghui Intelligent Technology Co., Ltd.",
    ):
        assert found[normalise_name(name)] >= 1, name


def test_no_covered_block_belongs_to_a_lookalike(db: OuiDatabase, entities: dict[str, Any]) -> None:
    lookalikes = lookalike_names(entities)
    assert not [c for c in db.covered_blocks() if normalise_name(c.block.registrant) in lookalikes]


def test_longest_prefix_wins_for_ma_m_and_ma_s(
    db: OuiDatabase, registry: dict[str, tuple[int, str]]
) -> None:
    # The real copy has no MA-M/MA-S inside another company's MA-L (their parents are all
    # "IEEE Registration Authority"), so these check a sub-block against its parent; the
    # covered-MA-L-with-foreign-MA-S case is built synthetically in test_gen_oui.py.
    scale = db.lookup("40:2C:76:1F:FF:FF")
    assert scale is not None and scale.block.bits == 28
    assert scale.block.registrant == "Shanghai Dahua Scale Factory"
    assert scale.block.label == "40:2C:76:1/28"
    neighbour = db.lookup("40:2C:76:20:00:00")
    assert neighbour is not None and neighbour.block.prefix != "402C761"
    parent = db.lookup("40:2C:76:F0:00:00")
    assert parent is not None
    assert parent.block.prefix in ("402C76", "402C76F")

    norsat = db.lookup("70:B3:D5:0A:EF:FF")
    assert norsat is not None and norsat.block.bits == 36
    assert norsat.covered is not None and norsat.covered.entity == "Norsat"
    outside = db.lookup("70:B3:D5:0A:F0:00")
    assert outside is not None and outside.covered is None
    assert outside.block.registrant != "Norsat International Inc."

    hikrobot = db.lookup("B0:B3:53:60:00:00")
    assert hikrobot is not None and hikrobot.block.bits == 28
    assert hikrobot.covered is not None and hikrobot.covered.entity == "Hikrobot"
    assert registry["B0B353"][1] == "IEEE Registration Authority"
    beside = db.lookup("B0:B3:53:70:00:00")
    assert beside is not None and beside.covered is None


def test_every_covered_prefix_with_the_local_bit_set_never_matches(db: OuiDatabase) -> None:
    for cov in db.covered_blocks():
        mac = mac_in(cov.block.prefix, "5")
        first = int(mac[:2], 16)
        for flip in (0x02, 0x01, 0x03):
            assert db.lookup(f"{first | flip:02X}{mac[2:]}") is None
        assert db.lookup(mac) is not None


@pytest.mark.parametrize(
    "mac",
    ["02:00:00:00:00:01", "A6:14:37:00:00:01", "DA:A1:19:12:34:56", "EE:EE:EE:EE:EE:EE"],
)
def test_locally_administered(db: OuiDatabase, mac: str) -> None:
    assert is_locally_administered(mac)
    assert db.lookup(mac) is None


@pytest.mark.parametrize("mac", ["01:00:5E:00:00:FB", "33:33:00:00:00:01", "FF:FF:FF:FF:FF:FF"])
def test_multicast_never_matches(db: OuiDatabase, mac: str) -> None:
    assert is_multicast(mac)
    assert db.lookup(mac) is None


def test_unassigned_prefix_is_none(db: OuiDatabase, registry: dict[str, tuple[int, str]]) -> None:
    parents = {p[:6] for p in registry}
    unassigned = next(
        f"{i:06X}"
        for i in range(0, 1 << 24, 4)  # multiples of 4: neither group nor local bit set
        if f"{i:06X}" not in parents
    )
    assert db.lookup(mac_in(unassigned)) is None


@pytest.mark.parametrize(
    "text",
    [
        "a4:14:37:3c:5d:01",
        "A4-14-37-3C-5D-01",
        "a414.373c.5d01",
        "A414373C5D01",
        "  a4:14:37:3C:5d:01\n",
    ],
)
def test_normalise_mac_forms(text: str) -> None:
    assert normalise_mac(text) == "A4:14:37:3C:5D:01"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a4:14:37:3c:5d",
        "a4:14:37:3c:5d:01:02",
        "a4:14-37:3c:5d:01",
        "a4.14.37.3c.5d.01",
        "a:4:1:4:3:7",
        "g4:14:37:3c:5d:01",
        "a4 14 37 3c 5d 01",
        "a414373c5d0",
        "a414373c5d011",
        "a414.373c.5d0",
        "0xa414373c5d01",
        "\u0661\u0662:14:37:3c:5d:01",  # Arabic-Indic digits: int() takes them, we must not
        "a4:14:37:3c:5d:01\x00",
    ],
)
def test_malformed_macs_raise_value_error(db: OuiDatabase, text: str) -> None:
    with pytest.raises(ValueError):
        normalise_mac(text)
    with pytest.raises(ValueError):
        db.lookup(text)
    with pytest.raises(ValueError):
        is_locally_administered(text)


def test_non_string_raises_value_error(db: OuiDatabase) -> None:
    with pytest.raises(ValueError):
        db.lookup(0xA414373C5D01)  # type: ignore[arg-type]


def test_source_is_the_registry_copy(db: OuiDatabase) -> None:
    meta = json.loads((DATA / "oui_source.json").read_text(encoding="utf-8"))
    assert db.source == OuiSource(meta["name"], meta["version"], meta["date"])
    assert db.source.version == "2026.10.1"
    assert db.source.date == "2026-10-01"
    assert len(db.sha256) == 64
    assert load_oui_database() is load_oui_database()  # cached


def test_load_time_is_well_under_budget() -> None:
    """The CLI's start-up budget is 0.3 s; the OUI tables may use only a fraction of it. Best of
    three, so a busy CI machine does not make the test flaky."""
    best_open = best_full = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fresh = read_oui_database(DATA)
        fresh.lookup("A4:14:37:00:00:01")  # covered: needs no registry
        opened = time.perf_counter()
        fresh.lookup("00:40:8C:00:00:01")  # forces the full registry
        done = time.perf_counter()
        best_open = min(best_open, opened - start)
        best_full = min(best_full, done - start)
    assert best_open < 0.1
    assert best_full < 0.3


_HEXDIGITS = "0123456789abcdefABCDEF"


@given(st.text(max_size=40))
def test_fuzz_normalise_only_raises_value_error(text: str) -> None:
    try:
        out = normalise_mac(text)
    except ValueError:
        return
    assert len(out) == 17
    assert out == normalise_mac(out)


@given(st.text(alphabet=_HEXDIGITS + ":-. \n", max_size=20))
def test_fuzz_lookup_near_misses_only_raise_value_error(text: str) -> None:
    db = load_oui_database()
    with contextlib.suppress(ValueError):
        db.lookup(text)


@given(
    st.integers(min_value=0, max_value=(1 << 48) - 1),
    st.sampled_from(["colon", "dash", "dot", "bare", "lower"]),
)
def test_fuzz_every_valid_mac_looks_up(value: int, style: str) -> None:
    digits = f"{value:012X}"
    text = {
        "colon": ":".join(digits[i : i + 2] for i in range(0, 12, 2)),
        "dash": "-".join(digits[i : i + 2] for i in range(0, 12, 2)),
        "dot": ".".join(digits[i : i + 4] for i in range(0, 12, 4)),
        "bare": digits,
        "lower": digits.lower(),
    }[style]
    assert normalise_mac(text).replace(":", "") == digits
    match = load_oui_database().lookup(text)
    if value >> 40 & 0x03:
        assert match is None
    elif match is not None:
        assert digits.startswith(match.block.prefix)
        assert len(match.block.prefix) * 4 == match.block.bits
        if match.covered is not None:
            assert match.covered.block == match.block
