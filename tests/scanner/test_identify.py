from datetime import UTC, datetime, timedelta

from fingerprints.oui import load_oui_database
from scanner.identify import PROXY_ARP_MIN_IPS, identify
from scanner.model import Observation

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DB = load_oui_database()


def arp(ip: str, mac: str, seconds: float = 0.0) -> Observation:
    return Observation("arp", "lab0", T0 + timedelta(seconds=seconds), ip, mac, raw="ab" * 42)


def test_covered_oui_gives_vendor_and_registry_date() -> None:
    (d,) = identify([arp("198.18.0.11", "A4:14:37:5E:21:0B")], DB)
    assert d.identity.manufacturer == "Hikvision"
    assert d.identity.covered_vendor == "hikvision"
    oui = d.identity.evidence[0]
    assert oui.signal == "oui" and oui.vendor == "hikvision" and oui.certainty == 0.8
    assert DB.source.date in oui.source and oui.observed_at == T0 and oui.interface == "lab0"
    assert "Hangzhou Hikvision" in oui.detail
    sighting = d.identity.evidence[1]
    assert sighting.signal == "arp" and sighting.value == "198.18.0.11 is-at A4:14:37:5E:21:0B"


def test_non_covered_device_gets_its_registrant() -> None:
    (d,) = identify([arp("198.18.0.61", "AC:CC:8E:A2:31:0F")], DB)
    assert d.identity.manufacturer == "Axis Communications AB"
    assert d.identity.covered_vendor is None
    assert d.identity.evidence[0].certainty == 0.0


def test_look_alikes_and_random_macs_never_match() -> None:
    drafts = identify(
        [
            arp("198.18.0.62", "48:EA:63:5D:17:C9"),  # Uniview
            arp("198.18.0.63", "40:2C:76:1B:7E:24"),  # Shanghai Dahua Scale Factory (MA-M)
            arp("198.18.0.64", "7A:9E:C3:41:D8:26"),  # locally administered
        ],
        DB,
    )
    assert [d.identity.covered_vendor for d in drafts] == [None, None, None]
    assert drafts[1].identity.manufacturer == "Shanghai Dahua Scale Factory"
    assert drafts[2].identity.manufacturer is None
    assert "locally administered" in drafts[2].identity.evidence[0].detail


def test_proxy_arp_is_one_device() -> None:
    obs = [arp(f"198.18.0.{200 + i}", "00:1E:F7:C8:42:01", i) for i in range(16)]
    (d,) = identify(obs, DB)
    assert d.ip == "198.18.0.200" and len(d.other_ips) == 15
    assert any(n.startswith("proxy-ARP: this MAC answered for 16 addresses") for n in d.notes)
    assert d.first_seen == T0 and d.last_seen == T0 + timedelta(seconds=15)


def test_few_addresses_are_not_proxy_arp() -> None:
    obs = [arp(f"198.18.0.{i}", "00:1E:F7:C8:42:01") for i in range(1, PROXY_ARP_MIN_IPS)]
    (d,) = identify(obs, DB)
    assert not any("proxy-ARP" in n for n in d.notes)
    assert d.notes[0].startswith(f"answers for {PROXY_ARP_MIN_IPS - 1} addresses")


def test_two_macs_for_one_ip_are_both_recorded() -> None:
    drafts = identify(
        [arp("198.18.0.9", "A4:14:37:00:00:01"), arp("198.18.0.9", "AC:CC:8E:00:00:02")], DB
    )
    assert {d.mac for d in drafts} == {"A4:14:37:00:00:01", "AC:CC:8E:00:00:02"}
    assert all(any("also claimed by" in n for n in d.notes) for d in drafts)


def test_devices_are_ordered_by_address_numerically() -> None:
    drafts = identify(
        [arp("198.18.0.100", "AC:CC:8E:00:00:01"), arp("198.18.0.9", "AC:CC:8E:00:00:02")], DB
    )
    assert [d.ip for d in drafts] == ["198.18.0.9", "198.18.0.100"]
