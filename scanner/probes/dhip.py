"""Dahua discovery: DHIP `DHDiscover.search` on UDP 37810 (to 239.255.255.251 and broadcast) and
the legacy binary search on UDP 5050 (broadcast). Two probes, `dhip` and `dahua-legacy`, since
older units answer only one of them; both are Dahua firmware whatever the Vendor field says.

DHIP replies are asked for before ARP has found anyone (phase 1), so there is no unicast pass.
"""

from __future__ import annotations

from scanner.model import ProbeResult
from scanner.probes.base import Probe, ProbeContext
from scanner.probes.discovery_udp import MAX_RAW, Discovery, run_on_all
from scanner.wire import dahua_legacy, dhip

# deviceInfo key -> observation field (identity fields verbatim)
DHIP_FIELDS = (
    ("DeviceType", "model"),
    ("SerialNo", "serial"),
    ("Version", "firmware"),
    ("Manufacturer", "manufacturer"),
    ("Vendor", "brand"),
    ("Vendor", "vendor_field"),
    ("DeviceClass", "device_type"),
    ("MachineName", "name"),
    ("HttpPort", "http_port"),
    ("Port", "command_port"),
    ("IPAddress", "ipv4_address"),
    ("DeviceID", "device_id"),
    ("Init", "init"),
)
LEGACY_FIELDS = (
    ("SerialNo", "serial"),
    ("Name", "name"),
    ("Device", "device"),
    ("Version", "firmware"),
    ("IPv6Addr", "ipv6_address"),
)


def dhip_fields(reply: dhip.DevInfo) -> tuple[tuple[str, str], ...]:
    kind = "dhip-devinfo" if reply.method == dhip.REPLY_METHOD else "dhip-other"
    fields = [("reply", kind)]
    if reply.method and reply.method != dhip.REPLY_METHOD:
        fields.append(("method", reply.method))
    for key, name in DHIP_FIELDS:
        value = reply.get(key)
        if value:
            fields.append((name, value))
    if not reply.strict:
        fields.append(("parse", "lenient"))
    if not reply.lengths_ok:
        fields.append(("lengths", "mismatch"))
    return tuple(fields)


def parse_dhip(data: bytes) -> tuple[str | None, tuple[tuple[str, str], ...], str] | None:
    reply = dhip.parse_reply(data)
    if reply is None or reply.method == dhip.SEARCH_METHOD:
        return None  # not a reply (another scanner's search, or our own looped back)
    if reply.method != dhip.REPLY_METHOD and not reply.info:
        return None
    head = data[: dhip.HEADER_LEN].hex()
    body = data[dhip.HEADER_LEN : MAX_RAW].decode("utf-8", errors="backslashreplace")
    return reply.mac, dhip_fields(reply), (head + " " + body)[:MAX_RAW]


def legacy_fields(reply: dahua_legacy.LegacyReply) -> tuple[tuple[str, str], ...]:
    fields = [("reply", "dahua-legacy")]
    if reply.model:
        fields.append(("model", reply.model))
    for key, name in LEGACY_FIELDS:
        value = reply.get(key)
        if value:
            fields.append((name, value))
    if reply.device_type and reply.device_type != reply.model:
        fields.append(("device_type_field", reply.device_type))
    fields += [
        ("ipv4_address", reply.ip),
        ("http_port", str(reply.http_port)),
        ("command_port", str(reply.tcp_port)),
    ]
    if not reply.lengths_ok:
        fields.append(("lengths", "mismatch"))
    return tuple(fields)


def parse_legacy(data: bytes) -> tuple[str | None, tuple[tuple[str, str], ...], str] | None:
    reply = dahua_legacy.parse_reply(data)
    if reply is None:
        return None
    return reply.mac, legacy_fields(reply), data[: MAX_RAW // 2].hex()


DHIP_SPEC = Discovery(
    name="dhip",
    port=dhip.PORT,
    request=dhip.build_search,
    parse=parse_dhip,
    max_reply=dhip.MAX_REPLY,
    group=dhip.GROUP,
)
LEGACY_SPEC = Discovery(
    name="dahua-legacy",
    port=dahua_legacy.PORT,
    request=dahua_legacy.build_search,
    parse=parse_legacy,
    max_reply=dahua_legacy.MAX_REPLY,
)


class DhipProbe(Probe):
    name = "dhip"

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        return run_on_all(ctx, [DHIP_SPEC])


class DahuaLegacyProbe(Probe):
    name = "dahua-legacy"

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        return run_on_all(ctx, [LEGACY_SPEC])
