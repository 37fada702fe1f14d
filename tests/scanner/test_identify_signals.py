"""Identification from what devices disclosed: the maker from the firmware's tells, the label as
the brand, identity fields from the most authoritative source, hosts without a MAC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fingerprints.oui import load_oui_database
from fingerprints.signatures import SignatureDB, parse_file
from scanner.identify import device_kind, identify
from scanner.model import Observation, Status
from scanner.policy import apply

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DB = load_oui_database()
SIGS = SignatureDB(
    parse_file(
        """
[[signature]]
id = "sadp.reply.probematch"
field = "reply"
equals = "sadp-probematch"
vendor = "hikvision"
maker = "Hikvision"
certainty = 0.95
description = "only Hikvision firmware answers SADP"
source = "research §4.1"
examples = ["sadp-probematch"]
""",
        "sadp",
        "sadp.toml",
    )
    + parse_file(
        """
[[signature]]
id = "http.server.hikvision"
field = "server"
pattern = '^App-webs/'
vendor = "hikvision"
maker = "Hikvision"
certainty = 0.85
description = "Hikvision web server"
source = "research §2.1"
examples = ["App-webs/"]
sets = { device_type = "camera" }

[[signature]]
id = "http.server.webs"
field = "server"
equals = "Webs"
vendor = ""
maker = "generic embedded web server"
certainty = 0.3
description = "a web server many makers ship"
source = "research §8.1"
examples = ["Webs"]

[[signature]]
id = "http.title.dahua"
field = "title"
equals = "WEB SERVICE"
vendor = "dahua"
maker = "Dahua"
certainty = 0.4
description = "Dahua's default page title, weak alone"
source = "research §2.2"
examples = ["WEB SERVICE"]
""",
        "http",
        "http.toml",
    )
)


def obs(probe: str, ip: str | None, mac: str | None, s: float = 0, **fields: str) -> Observation:
    return Observation(
        probe, "lab0", T0 + timedelta(seconds=s), ip, mac, tuple(fields.items()), raw="<raw/>"
    )


def test_an_oem_unit_is_made_by_whoever_its_firmware_says() -> None:
    lts_mac = "14:2F:FD:3A:77:01"  # Lt Security Inc: not a covered block
    (draft,) = identify(
        [
            obs("arp", "198.18.0.14", lts_mac),
            obs(
                "sadp",
                "198.18.0.14",
                "14:2F:FD:3A:77:01",
                1,
                reply="sadp-probematch",
                model="LTN8708K-P8",
                serial="LTN8708K-P80820220301CCRRJ55512345",
                firmware="V4.30.216 build 220217",
            ),
            obs("http", "198.18.0.14", None, 2, server="App-webs/", firmware="ignored: lower"),
        ],
        DB,
        SIGS,
    )
    ident = draft.identity
    assert (ident.manufacturer, ident.brand, ident.covered_vendor) == (
        "Hikvision",
        "Lt Security Inc",
        "hikvision",
    )
    assert ident.model == "LTN8708K-P8" and ident.firmware == "V4.30.216 build 220217"
    assert ident.serial == "LTN8708K-P80820220301CCRRJ55512345"
    assert ident.device_type == "camera"  # implied by the banner's signature
    assert any(n.startswith("OEM: labelled 'Lt Security Inc'") for n in draft.notes)
    (device,) = apply([draft])
    assert device.finding.status is Status.COVERED and device.key.startswith("serial:")
    signals = {(e.signal, e.certainty) for e in ident.evidence}
    assert ("sadp", 0.95) in signals and ("http", 0.85) in signals and ("oui", 0.0) in signals


def test_the_device_label_becomes_the_brand() -> None:
    (draft,) = identify(
        [
            obs("arp", "198.18.0.24", "9C:8E:CD:4D:19:A2"),
            obs("sadp", "198.18.0.24", None, reply="sadp-probematch", brand="Amcrest"),
        ],
        DB,
        SIGS,
    )
    assert draft.identity.manufacturer == "Hikvision" and draft.identity.brand == "Amcrest"


def test_a_host_behind_a_router_is_identified_from_layer_7_alone() -> None:
    (draft,) = identify(
        [
            obs("http", "198.19.1.10", None, server="App-webs/"),
            obs("rtsp", "198.19.1.10", None, 1, realm="IP Camera(C1214)"),
        ],
        DB,
        SIGS,
    )
    assert draft.mac is None and draft.ip == "198.19.1.10"
    assert draft.identity.manufacturer == "Hikvision"
    assert any("no MAC" in n for n in draft.notes)
    (device,) = apply([draft])
    assert device.key == "ip:198.19.1.10" and device.finding.status is Status.COVERED


def test_generic_tells_never_flag_and_weak_ones_only_ask_for_review() -> None:
    generic, weak = identify(
        [
            obs("arp", "198.18.0.66", "00:E0:4C:68:01:5A"),
            obs("http", "198.18.0.66", None, server="Webs"),
            obs("arp", "198.18.0.67", "B8:27:EB:52:0C:31"),
            obs("http", "198.18.0.67", None, title="WEB SERVICE"),
        ],
        DB,
        SIGS,
    )
    assert generic.identity.manufacturer == "Realtek Semiconductor Corp."
    devices = apply([generic, weak])
    assert devices[0].finding.status is Status.CLEAR
    assert devices[1].finding.status is Status.REVIEW
    assert devices[1].identity.manufacturer == "Raspberry Pi Foundation"


def test_authority_decides_between_disagreeing_sources() -> None:
    (draft,) = identify(
        [
            obs("arp", "198.18.0.11", "A4:14:37:5E:21:0B"),
            obs("http", "198.18.0.11", None, model="from-http"),
            obs("onvif", "198.18.0.11", None, 1, model="DS-2CD2143G2-I"),
            obs("wsd", "198.18.0.11", None, 2, model="from-wsd", hostname="cam-1"),
        ],
        DB,
        SIGS,
    )
    assert draft.identity.model == "DS-2CD2143G2-I"
    assert draft.hostnames == ("cam-1",)
    assert draft.identity.manufacturer == "Hikvision"  # the OUI's entity, tells agree


def test_replies_join_the_device_arp_saw_at_their_address() -> None:
    drafts = identify(
        [
            obs("arp", "198.18.0.61", "AC:CC:8E:A2:31:0F"),
            obs("wsd", "198.18.0.61", "AC:CC:8E:A2:31:0F", model="P3245-V"),
            obs("mdns", "198.18.0.61", None, hostname="axis-accc8ea2310f.local"),
        ],
        DB,
        SIGS,
    )
    assert len(drafts) == 1 and drafts[0].identity.model == "P3245-V"
    unmatched = [e for e in drafts[0].identity.evidence if e.signal in ("wsd", "mdns")]
    assert unmatched and all(e.certainty == 0.0 for e in unmatched)


def test_repeated_tells_count_once() -> None:
    (draft,) = identify(
        [obs("http", "198.19.1.11", None, i, title="WEB SERVICE") for i in range(5)], DB, SIGS
    )
    assert sum(1 for e in draft.identity.evidence if e.signal == "http") == 1
    (device,) = apply([draft])
    assert device.finding.status is Status.REVIEW and device.finding.confidence == 0.4


def test_placeholder_labels_name_nobody() -> None:
    (draft,) = identify(
        [
            obs("arp", "198.18.0.24", "9C:8E:CD:4D:19:A2"),
            obs("sadp", "198.18.0.24", None, reply="sadp-probematch", brand="Private"),
            obs("onvif", "198.18.0.24", None, 1, manufacturer="General"),
        ],
        DB,
        SIGS,
    )
    assert draft.identity.manufacturer == "Hikvision"
    assert draft.identity.brand == "Amcrest Technologies"  # the MAC block's registrant


def test_device_kinds() -> None:
    assert device_kind("IPC") == "camera" and device_kind("NVR") == "recorder"
    assert device_kind("DS-7608NI NVR") == "recorder" and device_kind("ZXHN ONT") == "router"
    assert device_kind("urn:schemas-upnp-org:device:Printer:1") == "printer"
    assert device_kind("thermostat") == "thermostat" and device_kind(None) is None
