"""What each lab device says about itself when asked: maker, label, model, serial, firmware.

The emulators answer from these values, and the tests use the same values as ground truth
(the report must show the model, serial and firmware a device disclosed). Plain data, no I/O.
Values follow the real vendors' formats (research §2-§6): Hikvision serials are the model plus a
date and a tail, Dahua serials are 15 characters, SADP firmware strings have no space before
"build", and so on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    """`family` is whose firmware runs on the device (what a discovery reply gives away);
    `brand` is the label it shows, which for OEM units is not the maker."""

    family: str  # "hikvision", "dahua", "hytera", "huawei", "zte", "axis", "uniview", "hp", ...
    brand: str
    model: str
    serial: str
    firmware: str
    device_type: str  # "camera", "nvr", "radio", "switch", "router", "printer", ...
    quirks: tuple[str, ...] = ()  # named oddities the emulators reproduce, see QUIRKS
    hostname: str = ""


QUIRKS = {
    "sadp-flase": "SADP reply spells two booleans 'flase', as real firmware does",
    "wsd-typed-only": "answers WS-Discovery probes only when they name a type it has",
    "wsd-soap-fault": "answers WS-Discovery probes with a SOAP fault instead of ProbeMatches",
    "dhip-trailer": "DHIP reply carries trailing bytes after the JSON, and a malformed value",
    "oem-label": "the label (brand, Vendor field, ONVIF name scope) is not the maker",
    "trickle": "sends its answers one byte at a time, slowly",
    "huge-banner": "sends a 10 MB banner to anyone who connects",
}

PERSONAS: dict[str, Persona] = {
    "hik-cam": Persona(
        "hikvision", "HIKVISION", "DS-2CD2143G2-I", "DS-2CD2143G2-I20210315AAWRJ12345678",
        "V5.7.3 build 220112", "camera", ("sadp-flase",),
    ),
    "hik-nvr": Persona(
        "hikvision", "HIKVISION", "DS-7608NI-K2", "DS-7608NI-K20820211104CCRRJ87654321",
        "V4.30.085 build 210315", "nvr",
    ),
    "lts-nvr": Persona(
        "hikvision", "LTS", "LTN8708K-P8", "LTN8708K-P80820220301CCRRJ55512345",
        "V4.30.216 build 220217", "nvr", ("oem-label",),
    ),
    "ezviz": Persona(
        "hikvision", "EZVIZ", "CS-C6N-A0-1C2WFR", "E12345678", "V5.3.0 build 210421", "camera",
    ),
    "dahua-cam": Persona(
        "dahua", "Dahua", "IPC-HDW2431T-AS", "6G0A1B2PAZ12345",
        "2.800.0000000.13.R, build: 2021-06-03", "camera", ("dhip-trailer",),
    ),
    "dahua-nvr": Persona(
        "dahua", "Dahua", "NVR4108HS-4KS2", "7J0B2C3PAZ54321",
        "4.001.0000000.3.R, build: 2021-09-18", "nvr",
    ),
    "amcrest-cam": Persona(
        "dahua", "Amcrest", "IP2M-841B", "AMC0123456789ABCD",
        "2.620.00AC000.0.R, build: 2020-05-26", "camera", ("oem-label",),
    ),
    "imou": Persona(
        "dahua", "Imou", "IPC-A26HP", "5K0C3D4PAZ11111", "2.680.0000000.24.R", "camera",
    ),
    "hytera": Persona(
        "hytera", "Hytera", "RD985", "17A0123456", "A8.00.07.001", "radio",
    ),
    "huawei": Persona(
        "huawei", "Huawei", "S5720-28X-SI-AC", "2102350DLS10J1000123", "V200R011C10SPC600",
        "switch",
    ),
    "zte": Persona(
        "zte", "ZTE", "ZXHN F660", "ZTEGC8123456", "V6.0.10P2T2", "router",
    ),
    "hikrobot": Persona(
        "hikvision", "Hikrobot", "MV-CA050-10GM", "00E12345678", "V2.4.1 build 200810", "camera",
    ),
    "axis": Persona(
        "axis", "AXIS", "P3245-V", "ACCC8EA2310F", "10.12.114", "camera",
    ),
    "uniview": Persona(
        "uniview", "Uniview", "IPC322LB-SF28-A", "210235C3EN3181000123",
        "IPC_D1201-B0002P61D1905", "camera", ("wsd-typed-only",),
    ),
    "printer": Persona(
        "hp", "HP", "LaserJet Pro M404dn", "PHBBB12345", "002.2049A", "printer",
        ("wsd-soap-fault",),
    ),
    "webs-decoy": Persona(
        "generic", "", "DVR", "", "", "dvr",
    ),
    "slow-box": Persona(
        "generic", "", "", "", "", "unknown", ("trickle",),
    ),
    "big-banner": Persona(
        "generic", "", "", "", "", "unknown", ("huge-banner",),
    ),
}  # fmt: skip


def persona_for(device_name: str) -> Persona | None:
    from scanner.lab.routed import ROUTED_PERSONAS  # devices behind the lab's router

    return PERSONAS.get(device_name) or ROUTED_PERSONAS.get(device_name)
