"""The lab's network as plain data: which devices exist, their MACs and addresses, and the
deterministic scale-mode population.

Everything here is pure (no I/O), so the tests can compute ground truth - what the scanner must
find - from the same functions that build the lab. Every MAC prefix below was checked against the
IEEE registry copy shipped in pymanuf 2026.10.1 (`manuf.txt`); prefixes were chosen that are also
in the older copies (Debian ieee-data 2022, nmap) so a scanner with stale OUI data still matches.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from typing import Literal

ExpectedStatus = Literal["covered", "review", "clear"]
COVERED_VENDORS = ("hikvision", "dahua", "hytera", "huawei", "zte")

# --- helpers ----------------------------------------------------------------------------------

_LAB_NET = ipaddress.ip_network("198.18.0.0/15")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def in_lab_range(ip: str) -> bool:
    """True for IPv4 addresses in 198.18.0.0/15, the only range the lab ever uses."""
    try:
        return ipaddress.IPv4Address(ip) in _LAB_NET
    except ValueError:
        return False


def normalize_mac(mac: str) -> str:
    """`AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`, ... -> `aa:bb:cc:dd:ee:ff`; else ValueError."""
    digits = re.sub(r"[^0-9a-fA-F]", "", mac).lower()
    if len(digits) != 12 or re.search(r"[^0-9a-f:.\- ]", mac.lower()):
        raise ValueError(f"not a MAC address: {mac!r}")
    out = ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    assert _MAC_RE.match(out)
    return out


# --- lab naming -------------------------------------------------------------------------------

DEFAULT_PREFIX = "ndaa-"
PREFIX_ENV = "NDAA_LAB_PREFIX"
# Interface names are at most 15 characters and the longest one the lab makes is
# "<prefix>p" + two digits, so the prefix may be 12 characters at most.
PREFIX_MAX_LEN = 12
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def validate_prefix(prefix: str) -> str:
    """Return `prefix` if it is a safe lab prefix, else raise ValueError.

    The prefix is the only thing that keeps two labs (a test, a benchmark, a demo) and the host's
    own interfaces apart, so it must be non-empty, short enough for interface names, and plain.
    """
    if not prefix:
        raise ValueError("the lab prefix must not be empty")
    if len(prefix) > PREFIX_MAX_LEN:
        raise ValueError(
            f"the lab prefix {prefix!r} is longer than {PREFIX_MAX_LEN} characters "
            "(interface names are limited to 15)"
        )
    if not _PREFIX_RE.match(prefix):
        raise ValueError(
            f"the lab prefix {prefix!r} may only contain a-z, 0-9 and '-' "
            "and must start with a letter or digit"
        )
    return prefix


def lab_prefix(environ: dict[str, str] | None = None) -> str:
    """The prefix of this process's lab: $NDAA_LAB_PREFIX, validated, or "ndaa-"."""
    env = os.environ if environ is None else environ
    return validate_prefix(env.get(PREFIX_ENV, DEFAULT_PREFIX))


# --- the standard lab -------------------------------------------------------------------------

STANDARD_SUBNET = "198.18.0.0/24"
STANDARD_PREFIXLEN = 24
SCANNER_IP = "198.18.0.1"
SCANNER_IFACE = "lab0"
DEVICE_IFACE = "eth0"
PROXY_BLOCK = "198.18.0.208/28"


@dataclass(frozen=True)
class LabDevice:
    """One emulated device: plain data, so later work can attach protocol emulators by name.

    `expected_*` is what a correct scan reports: the covered entity's name for covered and review
    devices (as in fingerprints' covered_oui.tsv), the IEEE registrant for decoys, None when
    nothing can tell. `proxy_ips` are further addresses the device answers ARP for with its one
    MAC (proxy ARP); `services` names the emulators that run on it (scanner/lab/emulators),
    answering from the device's persona (scanner/lab/personas.py).
    """

    name: str
    mac: str
    ip: str
    role: str
    description: str
    expected_manufacturer: str | None  # None when nothing can tell (a randomised MAC)
    expected_vendor: str | None
    expected_status: ExpectedStatus
    proxy_ips: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name) or len(self.name) > 24:
            raise ValueError(f"device name {self.name!r} must be short and [a-z0-9-]")
        if normalize_mac(self.mac) != self.mac:
            raise ValueError(f"{self.name}: MAC {self.mac!r} must be lower-case aa:bb:cc:dd:ee:ff")
        for ip in (self.ip, *self.proxy_ips):
            if not in_lab_range(ip):
                raise ValueError(f"{self.name}: {ip} is outside the lab range 198.18.0.0/15")
        if self.expected_vendor is not None and self.expected_vendor not in COVERED_VENDORS:
            raise ValueError(f"{self.name}: unknown covered vendor {self.expected_vendor!r}")
        if (self.expected_status == "clear") != (self.expected_vendor is None):
            raise ValueError(f"{self.name}: a clear device has no vendor, any other has one")

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address this device answers ARP for, its own first."""
        return (self.ip, *self.proxy_ips)


def _block(cidr: str) -> tuple[str, ...]:
    return tuple(str(a) for a in ipaddress.ip_network(cidr))


STANDARD_DEVICES: tuple[LabDevice, ...] = (
    # Hikvision family: two Hikvision MA-L blocks and one EZVIZ (Hikvision's consumer brand).
    LabDevice(
        "hik-cam", "a4:14:37:5e:21:0b", "198.18.0.11", "camera",
        "Hikvision IP camera (DS-2CD2143G2-I)", "Hikvision", "hikvision", "covered",
        services=("sadp", "sadp-l2", "wsd", "mdns", "http", "https", "rtsp", "onvif", "tcp-ports"),
    ),
    LabDevice(
        "hik-nvr", "bc:ad:28:9a:c3:12", "198.18.0.12", "nvr",
        "Hikvision network video recorder (DS-7608NI-K2)", "Hikvision", "hikvision", "covered",
        services=("sadp", "wsd", "ssdp", "http", "rtsp", "onvif", "tcp-ports"),
    ),
    LabDevice(
        "ezviz", "58:8f:cf:6e:41:77", "198.18.0.13", "camera",
        "EZVIZ consumer Wi-Fi camera (C6N); EZVIZ is a Hikvision subsidiary",
        "EZVIZ", "hikvision", "covered",
        services=("rtsp",),
    ),
    # Dahua family: two Dahua MA-L blocks and one Huacheng (Imou, Dahua's consumer brand).
    # OEM: an LTS-labelled recorder on LTS's own MAC block, running Hikvision firmware. Only what
    # the firmware gives away (SADP, banners) can tell; the label is the brand, Hikvision the maker.
    LabDevice(
        "lts-nvr", "14:2f:fd:3a:77:01", "198.18.0.14", "nvr",
        "LTS-branded NVR (LTN8708K-P8), a Hikvision OEM unit on LTS's own MAC block",
        "Hikvision", "hikvision", "covered",
        services=("sadp", "wsd", "http", "rtsp", "tcp-ports"),
    ),
    LabDevice(
        "dahua-cam", "3c:ef:8c:14:b2:5a", "198.18.0.21", "camera",
        "Dahua IP camera (IPC-HDW2431T-AS)", "Dahua", "dahua", "covered",
        services=("dhip", "dhip-legacy", "wsd", "http", "rtsp", "onvif", "tcp-ports"),
    ),
    LabDevice(
        "dahua-nvr", "9c:14:63:71:08:c4", "198.18.0.22", "nvr",
        "Dahua network video recorder (NVR4108HS-4KS2)", "Dahua", "dahua", "covered",
        services=("dhip", "ssdp", "http", "rtsp", "tcp-ports"),
    ),
    LabDevice(
        "imou", "90:6a:94:2f:9e:03", "198.18.0.23", "camera",
        "Imou consumer camera (Ranger 2); Hangzhou Huacheng is a Dahua subsidiary",
        "Huacheng (Imou)", "dahua", "covered",
    ),
    # OEM: an Amcrest camera on Amcrest's MAC block, running Dahua firmware (DHIP, ONVIF scopes).
    LabDevice(
        "amcrest-cam", "9c:8e:cd:4d:19:a2", "198.18.0.24", "camera",
        "Amcrest IP camera (IP2M-841B), a Dahua OEM unit on Amcrest's own MAC block",
        "Dahua", "dahua", "covered",
        services=("dhip", "wsd", "http", "rtsp", "onvif"),
    ),
    LabDevice(
        "hytera", "64:69:bc:0c:55:e1", "198.18.0.31", "radio",
        "Hytera DMR repeater (RD985)", "Hytera", "hytera", "covered",
        services=("snmp",),
    ),
    LabDevice(
        "huawei", "28:6e:d4:83:1a:6f", "198.18.0.41", "switch",
        "Huawei access switch (S5720)", "Huawei", "huawei", "covered",
        services=("snmp",),
    ),
    LabDevice(
        "zte", "2c:26:c5:4b:d0:92", "198.18.0.42", "router",
        "ZTE fibre ONT / router (F660)", "ZTE", "zte", "covered",
        services=("ssdp", "http"),
    ),
    # A Hikvision subsidiary outside surveillance: the OUI alone is not enough -> a person looks.
    LabDevice(
        "hikrobot", "34:bd:20:07:3e:58", "198.18.0.51", "camera",
        "Hikrobot machine-vision camera (MV-CA050-10GM); Hikvision subsidiary, not CCTV",
        "Hikrobot", "hikvision", "review",
    ),
    # Decoys: cameras by other makers, look-alike registrants, and ordinary office kit.
    LabDevice(
        "axis", "ac:cc:8e:a2:31:0f", "198.18.0.61", "camera",
        "Axis IP camera (P3245-V)", "Axis Communications AB", None, "clear",
        services=("wsd", "mdns", "http", "rtsp"),
    ),
    LabDevice(
        "uniview", "48:ea:63:5d:17:c9", "198.18.0.62", "camera",
        "Uniview IP camera (IPC322LB); Hangzhou maker, not Dahua",
        "Zhejiang Uniview Technologies Co., Ltd.", None, "clear",
        services=("wsd", "http", "rtsp"),
    ),
    LabDevice(
        "dahua-scale", "40:2c:76:1b:7e:24", "198.18.0.63", "scale",
        "retail weighing scale; MA-M 40:2C:76:1 'Shanghai Dahua Scale Factory', not Dahua",
        "Shanghai Dahua Scale Factory", None, "clear",
    ),
    LabDevice(
        "laptop", "7a:9e:c3:41:d8:26", "198.18.0.64", "laptop",
        "staff laptop with a randomised (locally administered) Wi-Fi MAC",
        None, None, "clear",
    ),
    LabDevice(
        "printer", "3c:d9:2b:6a:0e:93", "198.18.0.65", "printer",
        "HP office printer (LaserJet)", "Hewlett Packard", None, "clear",
        services=("wsd", "mdns", "ssdp", "http"),
    ),
    # Decoys for active fingerprinting: weak look-alike tells that many makers share, a device
    # that answers one byte at a time, and one that floods whoever connects with 10 MB.
    LabDevice(
        "webs-decoy", "00:e0:4c:68:01:5a", "198.18.0.66", "dvr",
        "no-name DVR with generic tells (Server: Webs, Basic realm=\"DVR\"), not a covered maker",
        "Realtek Semiconductor Corp.", None, "clear",
        services=("http", "rtsp"),
    ),
    LabDevice(
        "slow-box", "b8:27:eb:52:0c:31", "198.18.0.67", "unknown",
        "Raspberry Pi whose web server trickles its answers one byte at a time",
        "Raspberry Pi Foundation", None, "clear",
        services=("http",),
    ),
    LabDevice(
        "big-banner", "00:11:32:9e:40:07", "198.18.0.68", "unknown",
        "Synology NAS whose services send a 10 MB banner",
        "Synology Incorporated", None, "clear",
        services=("http", "tcp-ports"),
    ),
    # One MAC answering ARP for a whole block: the scanner must not count 17 devices here.
    # Its own address is below the block, so "the lowest address a MAC answered for" is it.
    LabDevice(
        "router", "00:1e:f7:c8:42:01", "198.18.0.200", "router",
        f"Cisco edge router answering proxy ARP for {PROXY_BLOCK}", "Cisco Systems, Inc", None,
        "clear",
        proxy_ips=_block(PROXY_BLOCK),
    ),
)  # fmt: skip


def device_by_name(name: str, devices: tuple[LabDevice, ...] = STANDARD_DEVICES) -> LabDevice:
    for device in devices:
        if device.name == name:
            return device
    raise KeyError(name)


def standard_expected_arp(devices: tuple[LabDevice, ...] = STANDARD_DEVICES) -> dict[str, str]:
    """Ground truth of an ARP sweep of the standard lab: address -> the MAC that answers."""
    return {ip: d.mac for d in devices for ip in d.addresses}


# --- scale mode -------------------------------------------------------------------------------

SCALE_BASE = "198.18.0.0"
SCALE_MAX_HOSTS = 65_536
SCALE_SCANNER_IP = "198.19.255.254"
SCALE_PREFIXLEN = 15
SCALE_SCANNER_IFACE = "scale0"
# Every 64th host is Hikvision, every 64th+1 Dahua, the rest a decoy; all are universal OUIs
# present in every registry copy, and the low bytes carry the host index, so MACs are distinct.
SCALE_HIKVISION_OUI = "4c:bd:8f"  # Hangzhou Hikvision Digital Technology Co.,Ltd.
SCALE_DAHUA_OUI = "e0:50:8b"  # Zhejiang Dahua Technology Co., Ltd.
SCALE_DECOY_OUI = "3c:fd:fe"  # Intel Corporate
_SCALE_BASE_INT = int(ipaddress.IPv4Address(SCALE_BASE))


def scale_mac(index: int) -> str:
    """The MAC scale host `index` answers with (pure, so tests compute ground truth)."""
    if not 0 <= index < SCALE_MAX_HOSTS:
        raise ValueError(f"scale host index {index} is outside 0..{SCALE_MAX_HOSTS - 1}")
    kind = index % 64
    oui = SCALE_HIKVISION_OUI if kind == 0 else SCALE_DAHUA_OUI if kind == 1 else SCALE_DECOY_OUI
    return f"{oui}:{index >> 16 & 0xFF:02x}:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"


def scale_vendor(index: int) -> str | None:
    """The covered vendor a scale host's MAC points at (None for decoys)."""
    kind = index % 64
    return "hikvision" if kind == 0 else "dahua" if kind == 1 else None


def scale_ip(index: int) -> str:
    """Address of scale host `index`: 198.18.0.0 + index."""
    if not 0 <= index < SCALE_MAX_HOSTS:
        raise ValueError(f"scale host index {index} is outside 0..{SCALE_MAX_HOSTS - 1}")
    return str(ipaddress.IPv4Address(_SCALE_BASE_INT + index))


def scale_index(ip: str) -> int | None:
    """Inverse of `scale_ip`; None for addresses outside 198.18.0.0/16."""
    try:
        value = int(ipaddress.IPv4Address(ip)) - _SCALE_BASE_INT
    except ValueError:
        return None
    return value if 0 <= value < SCALE_MAX_HOSTS else None


def scale_targets(hosts: int) -> str:
    """The smallest CIDR starting at 198.18.0.0 that holds `hosts` addresses (what to scan)."""
    check_scale_params(hosts, 1.0)
    prefixlen = 32 - max(0, (hosts - 1).bit_length())
    return f"{SCALE_BASE}/{prefixlen}"


def check_scale_params(hosts: int, live_fraction: float) -> None:
    """Raise ValueError unless 1 <= hosts <= 65,536 and 0 <= live_fraction <= 1."""
    if not 1 <= hosts <= SCALE_MAX_HOSTS:
        raise ValueError(f"hosts must be between 1 and {SCALE_MAX_HOSTS}, not {hosts}")
    if not 0.0 <= live_fraction <= 1.0:
        raise ValueError(f"live fraction must be between 0 and 1, not {live_fraction}")


_MASK64 = (1 << 64) - 1


def _splitmix64(state: int) -> tuple[int, int]:
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def live_count(hosts: int, live_fraction: float) -> int:
    """How many of `hosts` answer: round(hosts * fraction), exactly (benchmarks need the count)."""
    check_scale_params(hosts, live_fraction)
    return min(hosts, round(hosts * live_fraction))


def live_hosts(hosts: int, live_fraction: float = 1.0, seed: int = 0) -> tuple[int, ...]:
    """Sorted indices of the hosts that answer ARP.

    Exactly `live_count` of them, chosen by a partial Fisher-Yates shuffle driven by splitmix64,
    so the set depends only on (hosts, fraction, seed) - not on the Python version, unlike the
    `random` module - and a benchmark run on another machine scans the same population.
    """
    k = live_count(hosts, live_fraction)
    if k == hosts:
        return tuple(range(hosts))
    pool = list(range(hosts))
    state = seed & _MASK64
    for i in range(k):
        state, r = _splitmix64(state)
        j = i + r % (hosts - i)
        pool[i], pool[j] = pool[j], pool[i]
    return tuple(sorted(pool[:k]))


def scale_expected_arp(hosts: int, live_fraction: float = 1.0, seed: int = 0) -> dict[str, str]:
    """Ground truth of an ARP sweep of a scale lab: address -> MAC, live hosts only."""
    return {scale_ip(i): scale_mac(i) for i in live_hosts(hosts, live_fraction, seed)}
