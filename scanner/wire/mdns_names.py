"""What DNS-SD names give away: Hikvision's `_CGI._tcp` instance `HIKVISION <model> - <serial
tail>` and its SRV host named after the full serial, Axis's `AXIS <model> - <serial>`, and
printers' TXT keys. zeroconf does the DNS parsing; this module reads the strings it hands over,
which are as hostile as any other reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NAME = 256
# `HIKVISION DS-2CD2722FWD-IZS - 733050075` (research §5.1); the same shape on Axis units.
_LABELLED = re.compile(
    r"^(?P<brand>[A-Za-z][\w.&-]{1,31}) (?P<model>[A-Za-z0-9][\w./+-]{1,63}) - "
    r"(?P<tail>[A-Za-z0-9]{4,32})$"
)
# A Hikvision serial: model, optional channel digits, date 20YYMMDD, letters, digits.
_HIK_SERIAL = re.compile(
    r"^(?P<model>[A-Z0-9][A-Z0-9-]{3,40}?)\d{0,4}(?P<date>20\d{2}[01]\d[0-3]\d)[A-Z]{2,8}\d{6,12}$"
)
_SUFFIX = re.compile(r"\.(?:_[\w-]{1,63}\._(?:tcp|udp)\.)?local\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class InstanceLabel:
    brand: str
    model: str
    tail: str


def strip_domain(name: str) -> str:
    """`X._CGI._tcp.local.` or `X.local.` -> `X`."""
    return _SUFFIX.sub("", name.strip()[:MAX_NAME])


def parse_instance(name: str) -> InstanceLabel | None:
    """`<BRAND> <model> - <tail>` instance names, or None."""
    found = _LABELLED.match(strip_domain(name))
    if found is None:
        return None
    return InstanceLabel(found.group("brand"), found.group("model"), found.group("tail"))


def serial_from_host(host: str, label: InstanceLabel | None = None) -> str:
    """The serial number an SRV host name carries, or "".

    Hikvision names the host after the full serial (`<model><date><letters><digits>.local`);
    with the instance label at hand the host must also start with the model and end with the
    instance's serial tail, so an ordinary host name is never taken for a serial.
    """
    value = strip_domain(host)
    if not value or len(value) > 64:
        return ""
    if label is not None and len(label.tail) >= 4:
        if value.upper().startswith(label.model.upper()) and value.endswith(label.tail):
            return value
        return ""
    return value if _HIK_SERIAL.match(value) else ""


def txt_pairs(
    properties: dict[bytes, bytes | None], limit: int = 32
) -> tuple[tuple[str, str], ...]:
    """TXT key/value pairs decoded (invalid UTF-8 replaced), bounded in count and length."""
    pairs = []
    for key, value in list(properties.items())[:limit]:
        if not isinstance(key, bytes):
            continue
        k = key[:64].decode("utf-8", errors="replace")
        v = (value or b"")[:256].decode("utf-8", errors="replace")
        pairs.append((k, v))
    return tuple(pairs)
