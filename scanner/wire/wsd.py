"""ONVIF WS-Discovery (April 2005 discovery, August 2004 addressing, SOAP 1.2) as bytes.

`build_probe` makes the multicast Probe; `parse_message` reads whatever arrives on UDP 3702
(ProbeMatches, Hello, Bye, SOAP faults) into plain data; `read_scopes` turns ONVIF scope URIs
into the identity they disclose. Vendors differ in prefixes and even namespaces, so elements are
found by local name; malformed documents are salvaged field by field rather than dropped, since
the scopes of a device with a broken XML writer are still evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from scanner.wire.safe_xml import MAX_XML, child, local, namespace, parse_xml, text

PORT = 3702
GROUP_V4 = "239.255.255.250"
GROUP_V6 = "ff02::c"
NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_DISCOVERY = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_DISCOVERY_2009 = "http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"
NS_DN = "http://www.onvif.org/ver10/network/wsdl"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
TO_DISCOVERY = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
ACTION_PROBE = NS_DISCOVERY + "/Probe"
ANONYMOUS = NS_ADDRESSING + "/role/anonymous"
TYPE_NVT = "dn:NetworkVideoTransmitter"
TYPE_DEVICE = "tds:Device"
MAX_MATCHES = 16  # ProbeMatch elements read from one message
MAX_LIST = 64  # scopes, types or xaddrs read from one match
MAX_ITEM = 512  # characters of one scope/type/xaddr
_PREFIXES = {"dn": NS_DN, "tds": NS_TDS}
_HEX12 = re.compile(r"([0-9a-fA-F]{12})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SALVAGE = re.compile(
    r"<(?:[\w.-]{1,32}:)?(Types|Scopes|XAddrs|Address|MessageID|RelatesTo|Action)\b[^>]{0,512}>"
    r"([^<]{0,4096})</"
)
_KIND = re.compile(r"<(?:[\w.-]{1,32}:)?(ProbeMatches|Hello|Bye|Fault|Probe)\b")
_ONVIF_SCOPE = re.compile(r"^onvif://www\.onvif\.org/([^/]{1,64})/?(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class ProbeRequest:
    message_id: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One ProbeMatch (or the body of a Hello): who the device is and where it listens."""

    endpoint: str
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    xaddrs: tuple[str, ...]
    metadata_version: str = ""


@dataclass(frozen=True)
class Message:
    """`kind`: probematches, hello, bye, fault, probe, other. `malformed` when the XML was
    broken and the fields were salvaged from the text."""

    kind: str
    action: str = ""
    message_id: str = ""
    relates_to: str = ""
    discovery_ns: str = ""
    matches: tuple[Match, ...] = ()
    fault_code: str = ""
    fault_subcode: str = ""
    fault_reason: str = ""
    malformed: bool = False


@dataclass(frozen=True)
class Scopes:
    """What ONVIF scopes disclose; `name` is URL-decoded, lists keep the device's order."""

    hardware: str = ""
    name: str = ""
    mac: str = ""
    serial: str = ""
    locations: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    types: tuple[str, ...] = ()


def build_probe(message_id: str, types: tuple[str, ...] = ()) -> bytes:
    """A SOAP 1.2 Probe; `types` are QNames with the `dn`/`tds` prefixes (empty: untyped)."""
    for qname in types:
        if qname.split(":", 1)[0] not in _PREFIXES or not re.fullmatch(r"\w+:\w+", qname):
            raise ValueError(f"unsupported probe type {qname!r}")
    if not re.fullmatch(r"[\w:.-]{1,100}", message_id):
        raise ValueError(f"bad message id {message_id!r}")
    declared = "".join(f' xmlns:{p}="{ns}"' for p, ns in _PREFIXES.items())
    body = f"<d:Types>{' '.join(types)}</d:Types>" if types else ""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDRESSING}" xmlns:d="{NS_DISCOVERY}"'
        f"{declared}>"
        "<s:Header>"
        f"<a:MessageID>{message_id}</a:MessageID>"
        f'<a:To s:mustUnderstand="1">{TO_DISCOVERY}</a:To>'
        f'<a:Action s:mustUnderstand="1">{ACTION_PROBE}</a:Action>'
        f"<a:ReplyTo><a:Address>{ANONYMOUS}</a:Address></a:ReplyTo>"
        "</s:Header>"
        f"<s:Body><d:Probe>{body}</d:Probe></s:Body>"
        "</s:Envelope>"
    )
    return xml.encode("utf-8")


def _words(value: str) -> tuple[str, ...]:
    return tuple(w[:MAX_ITEM] for w in value.split()[:MAX_LIST])


def _header(root: Element) -> tuple[str, str, str]:
    header = child(root, "Header")
    return (
        text(child(header, "Action")),
        text(child(header, "MessageID")),
        text(child(header, "RelatesTo")),
    )


def parse_probe(data: bytes) -> ProbeRequest | None:
    """A Probe's MessageID and Types (for tests' round trips and for recognising our own)."""
    root = parse_xml(data)
    if root is None or local(root.tag) != "Envelope":
        return None
    probe = child(child(root, "Body"), "Probe")
    if probe is None:
        return None
    return ProbeRequest(_header(root)[1], _words(text(child(probe, "Types"), 4096)))


def _match(elem: Element) -> Match:
    ref = child(elem, "EndpointReference")
    return Match(
        endpoint=text(child(ref, "Address"), MAX_ITEM),
        types=_words(text(child(elem, "Types"), 8192)),
        scopes=_words(text(child(elem, "Scopes"), 32768)),
        xaddrs=_words(text(child(elem, "XAddrs"), 8192)),
        metadata_version=text(child(elem, "MetadataVersion"), 32),
    )


def _fault(fault: Element) -> tuple[str, str, str]:
    code = child(fault, "Code")
    sub = child(code, "Subcode")
    reason = child(fault, "Reason")
    reason_text = text(child(reason, "Text")) or text(reason)
    # SOAP 1.1 faults (faultcode/faultstring) turn up from old stacks too.
    return (
        text(child(code, "Value")) or text(child(fault, "faultcode")),
        text(child(sub, "Value")),
        reason_text or text(child(fault, "faultstring")),
    )


def _from_tree(root: Element) -> Message | None:
    if local(root.tag) != "Envelope":
        return None
    action, message_id, relates_to = _header(root)
    body = child(root, "Body")
    if body is None or len(body) == 0:
        return Message("other", action, message_id, relates_to)
    first = body[0]
    name = local(first.tag)
    ns = namespace(first.tag)
    if name == "Fault":
        code, subcode, reason = _fault(first)
        return Message("fault", action, message_id, relates_to, ns, (), code, subcode, reason)
    if name == "ProbeMatches":
        found = [m for m in first if local(m.tag) == "ProbeMatch"][:MAX_MATCHES]
        matches = tuple(_match(m) for m in found)
        return Message("probematches", action, message_id, relates_to, ns, matches)
    if name in ("Hello", "Bye"):
        return Message(name.lower(), action, message_id, relates_to, ns, (_match(first),))
    if name == "Probe":
        return Message("probe", action, message_id, relates_to, ns)
    return Message("other", action, message_id, relates_to, ns)


def _salvage(data: bytes) -> Message | None:
    """Fields read straight from the text of a document the XML parser refused."""
    raw = data[:MAX_XML].decode("utf-8", errors="replace")
    kind_match = _KIND.search(raw)
    if kind_match is None:
        return None
    kind = {"ProbeMatches": "probematches", "Hello": "hello", "Bye": "bye", "Fault": "fault"}.get(
        kind_match.group(1), "probe"
    )
    values: dict[str, str] = {}
    for tag, value in _SALVAGE.findall(raw):
        values.setdefault(tag, value.strip())
    match = Match(
        endpoint=values.get("Address", "")[:MAX_ITEM],
        types=_words(values.get("Types", "")),
        scopes=_words(values.get("Scopes", "")),
        xaddrs=_words(values.get("XAddrs", "")),
    )
    matches = (
        (match,)
        if kind in ("probematches", "hello", "bye")
        and any((match.endpoint, match.types, match.scopes, match.xaddrs))
        else ()
    )
    return Message(
        kind,
        values.get("Action", "")[:MAX_ITEM],
        values.get("MessageID", "")[:MAX_ITEM],
        values.get("RelatesTo", "")[:MAX_ITEM],
        matches=matches,
        malformed=True,
    )


def parse_message(data: bytes) -> Message | None:
    """Whatever a WS-Discovery peer sent, or None when it is not WS-Discovery at all (or is
    bigger than any real reply). Never raises."""
    if not data or len(data) > MAX_XML:
        return None
    try:
        root = parse_xml(data)
        if root is not None:
            return _from_tree(root)
        return _salvage(data)
    except Exception:  # a parser must never take the scan down; nothing here should raise
        return None


def read_scopes(scopes: tuple[str, ...]) -> Scopes:
    """Identity from ONVIF scope URIs (`onvif://www.onvif.org/<category>/<value>`)."""
    fields: dict[str, str] = {}
    lists: dict[str, list[str]] = {"location": [], "extension": [], "profile": [], "type": []}
    for scope in scopes[:MAX_LIST]:
        found = _ONVIF_SCOPE.match(scope)
        if found is None:
            continue
        category = found.group(1).lower()
        value = unquote(found.group(2), errors="replace")[:MAX_ITEM]
        if category in ("hardware", "name") and value and category not in fields:
            fields[category] = value
        elif category in ("mac", "macaddress") and value and "mac" not in fields:
            fields["mac"] = value
        elif category in ("serial", "serialnumber") and value and "serial" not in fields:
            fields["serial"] = value
        elif category in lists:
            lists[category].append(value)
    return Scopes(
        hardware=fields.get("hardware", ""),
        name=fields.get("name", ""),
        mac=fields.get("mac", ""),
        serial=fields.get("serial", ""),
        locations=tuple(lists["location"]),
        extensions=tuple(lists["extension"]),
        profiles=tuple(lists["profile"]),
        types=tuple(lists["type"]),
    )


def endpoint_style(address: str) -> str:
    """`urn:uuid` (the spec's form, Hikvision), `uuid` (bare, a Dahua tell), or `other`."""
    lowered = address.strip().lower()
    if lowered.startswith("urn:uuid:"):
        return "urn:uuid"
    if lowered.startswith("uuid:"):
        return "uuid"
    return "other"


def endpoint_node(address: str) -> str:
    """The last 12 hex digits of a UUID endpoint (a version-1 UUID's node: often the MAC)."""
    value = address.strip()
    for prefix in ("urn:uuid:", "uuid:"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
            break
    if not _UUID.match(value):
        return ""
    found = _HEX12.search(value)
    return found.group(1).lower() if found else ""


def normalize_mac(value: str) -> str:
    """`aa:bb:..`, `AA-BB-..`, `aabbcc..` -> `AA:BB:CC:DD:EE:FF`; "" when it is not a MAC."""
    digits = re.sub(r"[:\-. ]", "", value.strip())
    if not re.fullmatch(r"[0-9a-fA-F]{12}", digits):
        return ""
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()
