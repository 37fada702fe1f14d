import pytest

from scanner.errors import UserError
from scanner.interfaces import parse_ip_json, resolve

IP_JSON = """[
 {"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"operstate":"UNKNOWN",
  "link_type":"loopback","address":"00:00:00:00:00:00",
  "addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
 {"ifindex":2,"ifname":"lab0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],
  "operstate":"UP","link_type":"ether","address":"02:aa:bb:cc:dd:ee",
  "addr_info":[{"family":"inet","local":"198.18.0.1","prefixlen":24},
               {"family":"inet6","local":"fe80::1","prefixlen":64}]},
 {"ifindex":3,"ifname":"down0","flags":["BROADCAST","MULTICAST"],"operstate":"DOWN",
  "link_type":"ether","address":"02:aa:bb:cc:dd:ef","addr_info":[]}
]"""


def test_parse() -> None:
    lo, lab0, down0 = parse_ip_json(IP_JSON)
    assert lo.loopback and lo.mac is None
    assert lab0.mac == "02:AA:BB:CC:DD:EE" and lab0.up
    assert lab0.networks == (("198.18.0.1", "198.18.0.0/24"),)
    assert lab0.address_for("198.18.0.77") == "198.18.0.1"
    assert lab0.address_for("198.18.1.77") is None
    assert not down0.up


def test_default_choice_skips_loopback_and_down() -> None:
    assert [i.name for i in resolve((), parse_ip_json(IP_JSON))] == ["lab0"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("eth9", "unknown interface"), ("down0", "is down"), ("lo", "not Ethernet")],
)
def test_bad_interfaces(name: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        resolve((name,), parse_ip_json(IP_JSON))
