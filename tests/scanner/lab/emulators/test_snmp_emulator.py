"""The SNMP emulator's BER: requests pysnmp builds are understood, answers decode in pysnmp,
and hostile datagrams never raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api
from pysnmp.proto.rfc1902 import Null

from scanner.lab.emulators import snmp as agent
from scanner.lab.personas import PERSONAS

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]


def _request(community: str, oids: list[str], pdu_class: type = V2C.GetRequestPDU) -> bytes:
    pdu = pdu_class()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_varbinds(pdu, [(oid, Null()) for oid in oids])
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def test_round_trip_through_pysnmp() -> None:
    oids = [agent.SYS_DESCR, agent.SYS_OBJECT_ID, f"{agent.HYTERA}.5.0", "1.3.6.1.9.9.9.0"]
    parsed = agent.parse_request(_request("hytera", oids))
    assert parsed is not None
    version, community, pdu, rid, got = parsed
    assert (version, community, pdu, got) == (1, "hytera", 0xA0, oids)
    mib = agent.mib_for("hytera", PERSONAS["hytera"])
    reply, _ = decoder.decode(
        agent.build_response(community, rid, got, mib), asn1Spec=V2C.Message()
    )
    binds = V2C.apiPDU.get_varbinds(V2C.apiMessage.get_pdu(reply))
    values = {str(name): value for name, value in binds}
    assert bytes(values[f"{agent.HYTERA}.5.0"]) == PERSONAS["hytera"].serial.encode()
    assert str(values[agent.SYS_OBJECT_ID]) == "1.3.6.1.4.1.40297.1.2"
    assert type(values["1.3.6.1.9.9.9.0"]).__name__ == "NoSuchObject"
    assert V2C.apiPDU.get_request_id(V2C.apiMessage.get_pdu(reply)) == rid


def test_getnext_is_recognised() -> None:
    parsed = agent.parse_request(_request("public", [agent.SYS_DESCR], V2C.GetNextRequestPDU))
    assert parsed is not None and parsed[2] == 0xA1


@given(st.binary(max_size=600))
def test_parse_never_raises(data: bytes) -> None:
    agent.parse_request(data)
