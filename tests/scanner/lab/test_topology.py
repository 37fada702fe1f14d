"""The lab's plain data: device table, scale population, live-set selection, prefix rules."""

from __future__ import annotations

import gzip
import ipaddress
from collections import Counter
from pathlib import Path

import pytest

from scanner.lab.topology import (
    COVERED_VENDORS,
    PROXY_BLOCK,
    SCALE_MAX_HOSTS,
    SCANNER_IP,
    STANDARD_DEVICES,
    STANDARD_SUBNET,
    LabDevice,
    device_by_name,
    in_lab_range,
    lab_prefix,
    live_count,
    live_hosts,
    normalize_mac,
    scale_expected_arp,
    scale_index,
    scale_ip,
    scale_mac,
    scale_targets,
    scale_vendor,
    standard_expected_arp,
    validate_prefix,
)

ROOT = Path(__file__).resolve().parents[3]

# Who the IEEE registry says each device's prefix belongs to (pymanuf 2026.10.1 manuf.txt).
REGISTRANTS = {
    "hik-cam": "Hangzhou Hikvision Digital Technology Co.,Ltd.",
    "hik-nvr": "Hangzhou Hikvision Digital Technology Co.,Ltd.",
    "ezviz": "Hangzhou Ezviz Software Co.,Ltd.",
    "dahua-cam": "Zhejiang Dahua Technology Co., Ltd.",
    "dahua-nvr": "Zhejiang Dahua Technology Co., Ltd.",
    "imou": "hangzhou huacheng network technology co., ltd",
    "hytera": "Hytera Communications Co .,ltd",
    "huawei": "Huawei Technologies Co.,Ltd",
    "zte": "zte corporation",
    "hikrobot": "Hangzhou Hikrobot Technology Co., Ltd.",
    "axis": "Axis Communications AB",
    "uniview": "Zhejiang Uniview Technologies Co., Ltd.",
    "dahua-scale": "Shanghai Dahua Scale Factory",
    "printer": "Hewlett Packard",
    "router": "Cisco Systems, Inc",
    "lts-nvr": "Lt Security Inc",
    "amcrest-cam": "Amcrest Technologies",
    "webs-decoy": "Realtek Semiconductor Corp.",
    "slow-box": "Raspberry Pi Foundation",
    "big-banner": "Synology Incorporated",
}


def _registry() -> dict[str, str]:
    """prefix (hex, upper) -> registrant, from the repository's copy, else pymanuf's."""
    data = ROOT / "fingerprints" / "data" / "oui_registry.tsv.gz"
    if data.exists():
        out = {}
        for line in gzip.decompress(data.read_bytes()).decode().splitlines():
            prefix, _bits, name = line.split("\t", 2)
            out[prefix] = name
        return out
    pymanuf = pytest.importorskip("pymanuf")
    out = {}
    text = (Path(pymanuf.__file__).parent / "manuf.txt").read_text(errors="replace")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        prefix = fields[0].split("/")[0].replace(":", "")
        bits = int(fields[0].split("/")[1]) if "/" in fields[0] else 24
        out[prefix[: bits // 4]] = fields[-1]
    return out


def _lookup(registry: dict[str, str], mac: str) -> str | None:
    digits = mac.replace(":", "").upper()
    for length in (9, 7, 6):  # MA-S, MA-M, MA-L
        if digits[:length] in registry:
            return registry[digits[:length]]
    return None


def test_every_device_mac_is_registered_to_the_expected_company() -> None:
    registry = _registry()
    for device in STANDARD_DEVICES:
        if device.name == "laptop":
            continue
        assert _lookup(registry, device.mac) == REGISTRANTS[device.name], device.name


def test_laptop_mac_is_locally_administered_unicast() -> None:
    first = int(device_by_name("laptop").mac[:2], 16)
    assert first & 0x02 and not first & 0x01
    assert device_by_name("laptop").expected_manufacturer is None


def test_device_table_has_the_families_and_decoys() -> None:
    covered = Counter(d.expected_vendor for d in STANDARD_DEVICES if d.expected_status == "covered")
    assert covered["hikvision"] >= 3 and covered["dahua"] >= 3
    assert covered["hytera"] >= 1 and covered["huawei"] >= 1 and covered["zte"] >= 1
    assert device_by_name("hikrobot").expected_status == "review"
    clear = [d for d in STANDARD_DEVICES if d.expected_status == "clear"]
    assert len(clear) >= 6
    assert all(d.expected_vendor is None for d in clear)
    assert {d.expected_vendor for d in STANDARD_DEVICES} <= {*COVERED_VENDORS, None}


def test_device_table_is_unique_and_in_the_subnet() -> None:
    subnet = ipaddress.ip_network(STANDARD_SUBNET)
    ips = [ip for d in STANDARD_DEVICES for ip in d.addresses] + [SCANNER_IP]
    assert len(ips) == len(set(ips))
    assert len({d.mac for d in STANDARD_DEVICES}) == len(STANDARD_DEVICES)
    assert len({d.name for d in STANDARD_DEVICES}) == len(STANDARD_DEVICES)
    assert all(ipaddress.ip_address(ip) in subnet for ip in ips)


def test_proxy_host_answers_for_its_block_with_one_mac() -> None:
    (proxy,) = [d for d in STANDARD_DEVICES if d.proxy_ips]
    assert proxy.proxy_ips == tuple(str(a) for a in ipaddress.ip_network(PROXY_BLOCK))
    assert len(proxy.proxy_ips) == 16
    expected = standard_expected_arp()
    assert {expected[ip] for ip in proxy.proxy_ips} == {proxy.mac}
    assert len(expected) == len(STANDARD_DEVICES) + 16


def test_lab_device_rejects_bad_data() -> None:
    good = dict(
        name="x",
        mac="aa:bb:cc:dd:ee:ff",
        ip="198.18.0.9",
        role="camera",
        description="d",
        expected_manufacturer="m",
        expected_vendor=None,
        expected_status="clear",
    )
    LabDevice(**good)  # type: ignore[arg-type]
    for bad in (
        {"ip": "10.0.0.1"},
        {"mac": "AA:BB:CC:DD:EE:FF"},
        {"name": "Has Space"},
        {"expected_vendor": "acme", "expected_status": "covered"},
        {"expected_vendor": "hikvision"},  # clear with a vendor
        {"proxy_ips": ("192.0.2.1",)},
    ):
        with pytest.raises(ValueError):
            LabDevice(**{**good, **bad})  # type: ignore[arg-type]


def test_scale_mac_is_pure_distinct_and_mixes_vendors() -> None:
    macs = [scale_mac(i) for i in range(SCALE_MAX_HOSTS)]
    assert len(set(macs)) == SCALE_MAX_HOSTS
    assert scale_mac(0) == "4c:bd:8f:00:00:00"
    assert scale_mac(1) == "e0:50:8b:00:00:01"
    assert scale_mac(2) == "3c:fd:fe:00:00:02"
    assert scale_mac(65535) == "3c:fd:fe:00:ff:ff"
    assert scale_mac(64 * 7).startswith("4c:bd:8f") and scale_vendor(64 * 7) == "hikvision"
    assert scale_mac(64 * 7 + 1).startswith("e0:50:8b") and scale_vendor(64 * 7 + 1) == "dahua"
    assert scale_vendor(64 * 7 + 2) is None
    assert all(int(m[:2], 16) & 0x03 == 0 for m in macs)  # universal unicast
    for bad in (-1, SCALE_MAX_HOSTS):
        with pytest.raises(ValueError):
            scale_mac(bad)


def test_scale_addresses_and_targets() -> None:
    assert scale_ip(0) == "198.18.0.0"
    assert scale_ip(65535) == "198.18.255.255"
    assert scale_index("198.18.1.2") == 258
    assert scale_index("198.19.0.0") is None and scale_index("nonsense") is None
    assert scale_targets(65536) == "198.18.0.0/16"
    assert scale_targets(4096) == "198.18.0.0/20"
    assert scale_targets(1000) == "198.18.0.0/22"
    assert scale_targets(1) == "198.18.0.0/32"


def test_live_hosts_is_exact_deterministic_and_seeded() -> None:
    assert live_hosts(10) == tuple(range(10))
    assert live_hosts(10, 0.0) == ()
    quarter = live_hosts(65536, 0.25, seed=1)
    assert len(quarter) == live_count(65536, 0.25) == 16384
    assert list(quarter) == sorted(set(quarter))
    assert all(0 <= i < 65536 for i in quarter)
    assert live_hosts(65536, 0.25, seed=1) == quarter
    assert live_hosts(65536, 0.25, seed=2) != quarter
    # Pinned: benchmarks on other machines and Python versions must scan the same population.
    assert live_hosts(100, 0.25, 0)[:8] == (0, 1, 6, 11, 21, 26, 27, 35)
    assert live_hosts(10, 0.5, 42) == (2, 3, 4, 5, 8)
    truth = scale_expected_arp(4096, 0.25, 3)
    assert len(truth) == 1024
    assert all(truth[scale_ip(i)] == scale_mac(i) for i in live_hosts(4096, 0.25, 3))
    for hosts, fraction in ((0, 1.0), (65537, 1.0), (10, -0.1), (10, 1.5)):
        with pytest.raises(ValueError):
            live_hosts(hosts, fraction)


@pytest.mark.parametrize("prefix", ["ndaa-", "ndaa-t1a2b3-", "lab", "x1", "a" * 12])
def test_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix", ["", "-ndaa", "NDAA-", "ndaa_", "nd aa", "ndaa/", "a" * 13, "ndaa.", "ndää-"]
)
def test_invalid_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError):
        validate_prefix(prefix)


def test_lab_prefix_from_environment() -> None:
    assert lab_prefix({}) == "ndaa-"
    assert lab_prefix({"NDAA_LAB_PREFIX": "ndaa-t9-"}) == "ndaa-t9-"
    with pytest.raises(ValueError):
        lab_prefix({"NDAA_LAB_PREFIX": "../etc"})


def test_helpers() -> None:
    assert in_lab_range("198.18.0.1") and in_lab_range("198.19.255.255")
    assert not in_lab_range("198.20.0.0") and not in_lab_range("10.0.0.1")
    assert not in_lab_range("::1") and not in_lab_range("x")
    assert normalize_mac("AA-BB-CC-DD-EE-FF") == "aa:bb:cc:dd:ee:ff"
    assert normalize_mac("aabb.ccdd.eeff") == "aa:bb:cc:dd:ee:ff"
    for bad in ("aa:bb:cc", "zz:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff:00"):
        with pytest.raises(ValueError):
            normalize_mac(bad)
