"""Turn target specs, exclusions and interfaces into sweep plans without listing addresses.

A plan holds integer ranges, so a /8 costs a few tuples, not 16 million entries; addresses are
produced lazily while sending. Targets on a local subnet are ARP-swept; the others, if the
kernel has a route to them, become routed plans that the TCP probes reach through the router.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator
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


@dataclass(frozen=True)
class RoutedPlan:
    """Targets on no local subnet, reached through a router: no ARP answers from there, so
    hosts are found by TCP connect and identified from layer 7 alone (no MAC)."""

    source_ip: str  # the address the kernel sends from towards these targets
    interface: str  # the scanned interface holding source_ip, else source_ip itself as a label
    ranges: tuple[tuple[int, int], ...]  # inclusive integer ranges

    @property
    def count(self) -> int:
        return sum(last - first + 1 for first, last in self.ranges)

    def addresses(self) -> Iterator[int]:
        for first, last in self.ranges:
            yield from range(first, last + 1)


RouteLookup = Callable[[str], str | None]


def route_source(ip: str) -> str | None:
    """The source address the kernel would use to reach `ip`, or None when there is no route.
    Connecting a UDP socket only consults the routing table; nothing is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((ip, 9))
            source: str = sock.getsockname()[0]
        except OSError:
            return None
    return source


@dataclass(frozen=True)
class ScopePlan:
    local: tuple[SweepPlan, ...]  # ARP-swept, one per interface
    routed: tuple[RoutedPlan, ...] = ()  # beyond a router, one per source address

    @property
    def count(self) -> int:
        return sum(p.count for p in self.local) + sum(p.count for p in self.routed)


def plan_scope(
    targets: IPSet,
    excludes: IPSet,
    interfaces: list[Interface],
    *,
    allow_large: bool = False,
    route_lookup: RouteLookup | None = None,
) -> ScopePlan:
    """Split the scope over the interfaces whose subnets hold it (each address goes to one
    interface only); the rest becomes routed plans, grouped by the source address the kernel
    picks. A target with no route at all is an error. `route_lookup` defaults to
    `route_source`, looked up at call time (tests replace it)."""
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
    return ScopePlan(tuple(plans), _routed(remaining, interfaces, route_lookup))


def _routed(
    remaining: IPSet, interfaces: list[Interface], route_lookup: RouteLookup | None
) -> tuple[RoutedPlan, ...]:
    lookup = route_lookup or route_source
    by_source: dict[str, list[tuple[int, int]]] = {}
    for cidr in remaining.iter_cidrs():
        source = lookup(str(cidr.network))
        if source is None:
            local = ", ".join(net for i in interfaces for _, net in i.networks) or "none"
            raise UserError(
                f"no route to {cidr} (local subnets: {local})",
                "add a route to that network, or scan from a host that has one",
            )
        by_source.setdefault(source, []).append((int(cidr.first), int(cidr.last)))
    names = {addr: i.name for i in interfaces for addr, _ in i.networks}
    routed = []
    for source, ranges in by_source.items():
        merged = IPSet(IPRange(first, last) for first, last in ranges)
        if source:
            merged.remove(source)
        spans = tuple((int(r.first), int(r.last)) for r in merged.iter_ipranges())
        if spans:
            routed.append(RoutedPlan(source, names.get(source, source), spans))
    return tuple(routed)


def _unrouted(_ip: str) -> str:
    return ""  # plan_sweeps refuses routed targets anyway: no need to ask the kernel


def plan_sweeps(
    targets: IPSet, excludes: IPSet, interfaces: list[Interface], *, allow_large: bool = False
) -> list[SweepPlan]:
    """Only the ARP sweeps: for callers that cannot scan routed targets, which are an error."""
    scope = plan_scope(
        targets, excludes, interfaces, allow_large=allow_large, route_lookup=_unrouted
    )
    if scope.routed:
        outside = ", ".join(str(IPRange(f, last)) for p in scope.routed for f, last in p.ranges[:3])
        local = ", ".join(net for i in interfaces for _, net in i.networks) or "none"
        raise UserError(
            f"target {outside} is on no local interface's subnet (local: {local})",
            "ARP only reaches the local segment: scan from a host on that subnet, "
            "or pick the interface with -i",
        )
    return list(scope.local)


def local_targets(interfaces: list[Interface]) -> list[str]:
    return [net for iface in interfaces for _, net in iface.networks]
