"""The SNMP objects the scanner reads and what their enterprise arcs mean (pure data).

System group (RFC 3418): sysDescr, sysObjectID and sysName. A sysObjectID names the agent's
maker by its IANA Private Enterprise Number, the arc after 1.3.6.1.4.1 (research §0): Hikvision
39165, Dahua 1004849, Hytera 40297, Huawei 2011, ZTE 3902. Vendor objects are read only on an
agent whose arc (or whose MAC's OUI) says it is that vendor's: Hytera repeaters answer
1.3.6.1.4.1.40297.1.2.4.{1,2,3,5}.0 (repeater model, model number, firmware, serial; research §6.2,
from OK-DMR/Hytera_Homebrew_Bridge).
"""

from __future__ import annotations

import re

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYSTEM = ((SYS_DESCR, "sys_descr"), (SYS_OBJECT_ID, "sys_object_id"), (SYS_NAME, "sys_name"))

ENTERPRISES = "1.3.6.1.4.1"
VENDOR_ARCS = {
    39165: "hikvision",
    1004849: "dahua",
    40297: "hytera",
    2011: "huawei",
    3902: "zte",
}
_HYTERA = "1.3.6.1.4.1.40297.1.2.4"
VENDOR_OBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "hytera": (
        (f"{_HYTERA}.1.0", "model"),
        (f"{_HYTERA}.2.0", "model_number"),
        (f"{_HYTERA}.3.0", "firmware"),
        (f"{_HYTERA}.5.0", "serial"),
    ),
}
_OID_RE = re.compile(r"^[0-2](\.(0|[1-9][0-9]{0,9})){1,127}$")


def is_oid(text: str) -> bool:
    return isinstance(text, str) and len(text) <= 1024 and _OID_RE.match(text) is not None


def enterprise_number(oid: str) -> int | None:
    """The Private Enterprise Number of an OID under 1.3.6.1.4.1, else None."""
    if not is_oid(oid) or not oid.startswith(ENTERPRISES + "."):
        return None
    return int(oid[len(ENTERPRISES) + 1 :].split(".", 1)[0])


def vendor_of(oid: str) -> str | None:
    """The covered vendor whose enterprise arc holds `oid` (a sysObjectID), else None."""
    number = enterprise_number(oid)
    return VENDOR_ARCS.get(number) if number is not None else None
