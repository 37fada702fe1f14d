"""The host's IPv4 interfaces, read once from iproute2's JSON output.

Which interface owns which subnet decides where each target is swept from, and an ARP request
must carry a sender address on the target's subnet or hosts will not answer it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

from netaddr import IPAddress, IPNetwork

from scanner.errors import UserError


@dataclass(frozen=True)
class Interface:
    name: str
    index: int
    mac: str | None
    up: bool
    loopback: bool
    networks: tuple[tuple[str, str], ...]  # (address, network CIDR)

    def address_for(self, ip: str) -> str | None:
        """Our address on the subnet that holds ip, if any."""
        target = IPAddress(ip)
        for addr, net in self.networks:
            if target in IPNetwork(net):
                return addr
        return None


def parse_ip_json(text: str) -> list[Interface]:
    """Parse `ip -j addr show`; tolerant of fields older iproute2 versions leave out."""
    result: list[Interface] = []
    for entry in json.loads(text or "[]"):
        flags = entry.get("flags", [])
        nets: list[tuple[str, str]] = []
        for info in entry.get("addr_info", []):
            if info.get("family") != "inet":
                continue
            addr, plen = info.get("local"), info.get("prefixlen")
            if addr is None or plen is None:
                continue
            nets.append((addr, str(IPNetwork(f"{addr}/{plen}").cidr)))
        mac = entry.get("address") if entry.get("link_type") == "ether" else None
        result.append(
            Interface(
                name=entry["ifname"],
                index=int(entry.get("ifindex", 0)),
                mac=mac.upper() if mac else None,
                up="UP" in flags and entry.get("operstate") not in ("DOWN", "LOWERLAYERDOWN"),
                loopback="LOOPBACK" in flags,
                networks=tuple(nets),
            )
        )
    return result


def list_interfaces() -> list[Interface]:
    ip = shutil.which("ip")
    if ip is None:
        raise UserError(
            "the 'ip' command (iproute2) is not installed; it is needed to read interfaces",
            "install it: sudo apt-get install iproute2",
        )
    out = subprocess.run([ip, "-j", "addr", "show"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise UserError(f"could not list interfaces: {out.stderr.strip()}")
    return parse_ip_json(out.stdout)


def resolve(names: tuple[str, ...], available: list[Interface]) -> list[Interface]:
    """The interfaces the user named, checked; with none named, every up, non-loopback Ethernet
    interface that has an IPv4 address."""
    by_name = {i.name: i for i in available}
    if not names:
        chosen = [i for i in available if i.up and not i.loopback and i.mac and i.networks]
        if not chosen:
            raise UserError(
                "no usable interface: none is up with an IPv4 address",
                "name one with -i IFACE (see `ip addr`)",
            )
        return chosen
    chosen = []
    for name in names:
        iface = by_name.get(name)
        if iface is None:
            known = ", ".join(sorted(by_name)) or "none"
            raise UserError(f"unknown interface {name!r}", f"interfaces on this host: {known}")
        if not iface.up:
            raise UserError(
                f"interface {name!r} is down", f"bring it up (sudo ip link set {name} up)"
            )
        if iface.mac is None:
            raise UserError(
                f"interface {name!r} is not Ethernet; ARP sweeps need an Ethernet interface"
            )
        if not iface.networks:
            raise UserError(
                f"interface {name!r} has no IPv4 address",
                "ARP requests need a sender address on the target subnet",
            )
        chosen.append(iface)
    return chosen
