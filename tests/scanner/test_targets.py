from pathlib import Path

import pytest
from netaddr import IPAddress, IPSet

from scanner.errors import UserError
from scanner.interfaces import Interface
from scanner.targets import (
    parse_spec,
    parse_specs,
    plan_scope,
    plan_sweeps,
    read_exclude_file,
    route_source,
)

LAB0 = Interface("lab0", 2, "02:AA:BB:CC:DD:EE", True, False, (("198.18.0.1", "198.18.0.0/24"),))
BIG = Interface("big0", 3, "02:AA:BB:CC:DD:EF", True, False, (("198.19.255.254", "198.18.0.0/15"),))


def ips(plan_addresses: object) -> list[str]:
    return [str(IPAddress(a)) for a in plan_addresses]  # type: ignore[attr-defined]


def test_parse_forms() -> None:
    assert parse_spec("198.18.0.7").size == 1
    assert parse_spec("198.18.0.0/24").size == 256
    assert parse_spec("198.18.0.1-198.18.0.50").size == 50
    assert parse_specs(["198.18.0.0/25", "198.18.0.128/25"]) == IPSet(["198.18.0.0/24"])


@pytest.mark.parametrize("bad", ["198.18.0.0/33", "198.18.0", "nonsense", "198.18.0.300", "::1"])
def test_malformed_specs_are_user_errors(bad: str) -> None:
    with pytest.raises(UserError):
        parse_spec(bad)


def test_plan_excludes_our_address_and_exclusions() -> None:
    (plan,) = plan_sweeps(
        parse_specs(["198.18.0.0/24"]), parse_specs(["198.18.0.100-198.18.0.199"]), [LAB0]
    )
    assert plan.count == 256 - 1 - 100
    got = ips(plan.addresses())
    assert "198.18.0.1" not in got and "198.18.0.150" not in got
    assert got[0] == "198.18.0.0" and got[-1] == "198.18.0.255"
    assert plan.source_ip == "198.18.0.1"
    assert plan.contains(int(IPAddress("198.18.0.2")))
    assert not plan.contains(int(IPAddress("198.18.0.150")))


def test_plan_is_lazy_for_large_scopes() -> None:
    (plan,) = plan_sweeps(parse_specs(["198.18.0.0/15"]), IPSet(), [BIG], allow_large=True)
    assert plan.count == 131_071
    assert len(plan.ranges) <= 2  # a few integer ranges, not a list of addresses
    first = plan.addresses()
    assert str(IPAddress(next(first))) == "198.18.0.0"


def test_more_than_65536_needs_allow_large() -> None:
    with pytest.raises(UserError, match="allow-large"):
        plan_sweeps(parse_specs(["198.18.0.0/15"]), IPSet(), [BIG])
    (plan,) = plan_sweeps(parse_specs(["198.18.0.0/16"]), IPSet(), [BIG])
    assert plan.count == 65_536


def test_target_on_no_local_subnet() -> None:
    with pytest.raises(UserError, match="no local interface"):
        plan_sweeps(parse_specs(["198.18.1.0/24"]), IPSet(), [LAB0])


def test_routed_targets_become_routed_plans() -> None:
    scope = plan_scope(
        parse_specs(["198.18.0.0/24", "198.19.1.0/24", "198.19.2.0/25"]),
        parse_specs(["198.19.1.7"]),
        [LAB0],
        route_lookup=lambda ip: "198.18.0.1" if ip.startswith("198.19.") else None,
    )
    (local,) = scope.local
    (routed,) = scope.routed
    assert local.count == 255
    assert routed.interface == "lab0" and routed.source_ip == "198.18.0.1"
    assert routed.count == 256 - 1 + 128
    got = ips(routed.addresses())
    assert "198.19.1.7" not in got and got[0] == "198.19.1.0" and got[-1] == "198.19.2.127"
    assert scope.count == 255 + 383


def test_routed_plans_group_by_source_and_label_unknown_sources() -> None:
    scope = plan_scope(
        parse_specs(["198.19.1.0/24", "198.19.3.0/24"]),
        IPSet(),
        [LAB0],
        route_lookup=lambda ip: "198.18.0.1" if ip.startswith("198.19.1.") else "192.0.2.9",
    )
    assert not scope.local
    assert sorted(p.interface for p in scope.routed) == ["192.0.2.9", "lab0"]


def test_target_without_route_is_an_error() -> None:
    with pytest.raises(UserError, match=r"no route to 198\.19\.1\.0/24"):
        plan_scope(parse_specs(["198.19.1.0/24"]), IPSet(), [LAB0], route_lookup=lambda ip: None)


def test_routed_targets_count_towards_the_limit() -> None:
    with pytest.raises(UserError, match="allow-large"):
        plan_scope(
            parse_specs(["198.18.0.0/24", "198.19.0.0/16"]),
            IPSet(),
            [LAB0],
            route_lookup=lambda ip: "198.18.0.1",
        )


def test_route_source_sends_nothing_and_answers_for_loopback() -> None:
    assert route_source("127.0.0.1") == "127.0.0.1"


def test_everything_excluded() -> None:
    with pytest.raises(UserError, match="excluded"):
        plan_sweeps(parse_specs(["198.18.0.5"]), parse_specs(["198.18.0.0/24"]), [LAB0])


def test_each_address_goes_to_one_interface_only() -> None:
    twin = Interface(
        "lab1", 4, "02:AA:BB:CC:DD:00", True, False, (("198.18.0.2", "198.18.0.0/24"),)
    )
    plans = plan_sweeps(parse_specs(["198.18.0.0/24"]), IPSet(), [LAB0, twin])
    assert [p.interface.name for p in plans] == ["lab0"]


def test_exclude_file(tmp_path: Path) -> None:
    f = tmp_path / "ex.txt"
    f.write_text("# printers\n198.18.0.50\n\n198.18.0.60-198.18.0.61  # NVRs\n")
    assert read_exclude_file(f) == ["198.18.0.50", "198.18.0.60-198.18.0.61"]
    with pytest.raises(UserError, match="cannot read exclude file"):
        read_exclude_file(tmp_path / "missing.txt")
