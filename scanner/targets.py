"""Turn target specs, exclusions and interfaces into sweep plans without listing addresses.

A plan holds integer ranges, so a /8 costs a few tuples, not 16 million entries; addresses are
produced lazily while sending.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from netaddr import AddrFormatError, IPAddress, IPNetwork, IPRange, IPSet

from scanner.errors import UserError
from scanner.interfaces import Interface

MAX_TARGETS = 65_536


def parse_spec(spec: str) -> IPSet:
    """One target or exclusion: an address, a CIDR, or a range `a-b`."""
    text = spec.strip()
    try:
        if "-" in text:
            start, end = (p.strip() for p in text.split("-", 1))
            result = IPSet(IPRange(start, end))
        elif "/" in text:
            result = IPSet([IPNetwork(text, expand_partial=False)])
        else:
            result = IPSet([IPAddress(text)])
    except (AddrFormatError, ValueError, TypeError) as exc:
        raise UserError(
            f"malformed target {spec!r}: {exc}",
            "use an address (198.18.0.7), a CIDR (198.18.0.0/24) "
            "or a range (198.18.0.1-198.18.0.50)",
        ) from None
    if any(net.version != 4 for net in result.iter_cidrs()):
        raise UserError(f"{spec!r} is IPv6; ARP sweeps are IPv4 only")
    return result


def parse_specs(specs: Iterable[str]) -> IPSet:
    total = IPSet()
    for spec in specs:
        total |= parse_spec(spec)
    return total


def read_exclude_file(path: Path) -> list[str]:
    """One spec per line; blank lines and `#` comments are ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"cannot read exclude file {str(path)!r}: {exc}",
            "check the path and its permissions",
        ) from None
    specs = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            specs.append(line)
    return specs


@dataclass(frozen=True)
class SweepPlan:
    interface: Interface
    source_ip: str
    ranges: tuple[tuple[int, int], ...]  # inclusive integer ranges

    @property
    def count(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)

    def contains(self, addr: int) -> bool:
        return any(first <= addr <= last for first, last in self.ranges)

    def addresses(self) -> Iterator[int]:
        for first, last in self.ranges:
            yield from range(first, last + 1)


def plan_sweeps(
    targets: IPSet, excludes: IPSet, interfaces: list[Interface], *, allow_large: bool = False
) -> list[SweepPlan]:
    """Split the scope over the interfaces whose subnets hold it; each address goes to one
    interface only. A target on no local subnet is an error, since ARP cannot reach it."""
    remaining = targets - excludes
    if remaining.size == 0:
        raise UserError(
            "nothing to scan: every target is excluded", "check --exclude and --exclude-file"
        )
    if remaining.size > MAX_TARGETS and not allow_large:
        raise UserError(
            f"{remaining.size:,} targets is more than {MAX_TARGETS:,}",
            "narrow the targets, or pass --allow-large if you really mean it",
        )
    plans: list[SweepPlan] = []
    for iface in interfaces:
        for addr, net in iface.networks:
            part = remaining & IPSet([IPNetwork(net)])
            part.remove(addr)  # never ARP for ourselves
            remaining = remaining - IPSet([IPNetwork(net)])
            if part.size:
                ranges = tuple((int(r.first), int(r.last)) for r in part.iter_ipranges())
                plans.append(SweepPlan(iface, addr, ranges))
    if remaining.size:
        outside = ", ".join(str(c) for c in remaining.iter_cidrs()[:3])
        local = ", ".join(net for i in interfaces for _, net in i.networks) or "none"
        raise UserError(
            f"target {outside} is on no local interface's subnet (local: {local})",
            "ARP only reaches the local segment: scan from a host on that subnet, "
            "or pick the interface with -i",
        )
    return plans


def local_targets(interfaces: list[Interface]) -> list[str]:
    return [net for iface in interfaces for _, net in iface.networks]
