"""The lab itself, built for real: namespaces, MACs, ARP answers, proxy ARP, the scale responder,
and teardown in every way a run can end. Needs root; traffic stays inside 198.18.0.0/15, in
namespaces these tests make under a prefix of their own (never a running demo's)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner.errors import UserError
from scanner.lab import netns
from scanner.lab.topology import (
    SCALE_SCANNER_IP,
    SCANNER_IP,
    STANDARD_DEVICES,
    live_hosts,
    scale_ip,
    scale_mac,
)

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or os.geteuid() != 0,
        reason="the lab needs root (CAP_NET_ADMIN) to build network namespaces",
    ),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the lab needs `ip` (iproute2)"),
]


def new_prefix() -> str:
    return f"ndaa-t{uuid.uuid4().hex[:5]}-"


@pytest.fixture
def prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh prefix in $NDAA_LAB_PREFIX; whatever a test leaves is removed and fails it."""
    value = new_prefix()
    monkeypatch.setenv("NDAA_LAB_PREFIX", value)
    yield value
    leftovers = lab_leftovers(value)
    netns.down(value)
    assert leftovers == [], f"test left {leftovers}"


def lab_leftovers(prefix: str) -> list[str]:
    """Anything carrying the prefix: namespaces, host interfaces, the state directory."""
    out = [n for n in netns_names() if n.startswith(prefix)]
    links = json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)
    out += [f"link {link['ifname']}" for link in links if link["ifname"].startswith(prefix)]
    if (netns.STATE_ROOT / prefix).exists():
        out.append(f"state {netns.STATE_ROOT / prefix}")
    return out


def netns_names() -> list[str]:
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def probe(
    namespace: str, iface: str, *targets: str, rate: float = 0, quiet: float = 0.3
) -> dict[str, object]:
    """ARP-sweep from inside a lab namespace with the lab's own probe; its JSON result."""
    argv = ["ip", "netns", "exec", namespace, sys.executable, "-m", "scanner.lab.probe"]
    argv += ["--iface", iface, "--rate", str(rate), "--quiet", str(quiet), *targets]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=netns.tool_environment(), timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def answers(result: dict[str, object]) -> dict[str, set[str]]:
    raw = result["answers"]
    assert isinstance(raw, dict)
    return {ip: set(macs) for ip, macs in raw.items()}


def ip_json(namespace: str, *args: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        ["ip", "-n", namespace, "-j", *args], capture_output=True, text=True, check=True
    )
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data


# --- the standard lab -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standard() -> Iterator[netns.LabHandle]:
    value = new_prefix()
    old = os.environ.get("NDAA_LAB_PREFIX")
    os.environ["NDAA_LAB_PREFIX"] = value
    try:
        with netns.lab() as handle:
            yield handle
    finally:
        if old is None:
            os.environ.pop("NDAA_LAB_PREFIX", None)
        else:
            os.environ["NDAA_LAB_PREFIX"] = old
    assert lab_leftovers(value) == []


def test_standard_handle(standard: netns.LabHandle) -> None:
    assert standard.mode == "standard"
    assert standard.netns == f"{standard.prefix}scanner" and standard.interface == "lab0"
    assert standard.targets == "198.18.0.0/24" and standard.scanner_ip == SCANNER_IP
    assert standard.devices == STANDARD_DEVICES
    assert standard.exec_argv(["true"]) == ["ip", "netns", "exec", standard.netns, "true"]
    assert standard.hosts == standard.live == len(STANDARD_DEVICES) + 16
    assert standard.elapsed < 5


def test_every_device_namespace_has_its_exact_mac_and_address(
    standard: netns.LabHandle,
) -> None:
    for device in standard.devices:
        (link,) = ip_json(f"{standard.prefix}d-{device.name}", "addr", "show", "dev", "eth0")
        assert link["address"] == device.mac, device.name
        assert link["operstate"] == "UP", device.name
        addr_info = link["addr_info"]
        inet = [(a["local"], a["prefixlen"]) for a in addr_info if a["family"] == "inet"]
        assert inet == [(device.ip, 24)], device.name
        assert not [a for a in addr_info if a["family"] == "inet6"], "IPv6 must stay silent"
    (lab0,) = ip_json(standard.netns, "addr", "show", "dev", "lab0")
    assert [a["local"] for a in lab0["addr_info"] if a["family"] == "inet"] == [SCANNER_IP]


def test_bridge_joins_scanner_and_every_device(standard: netns.LabHandle) -> None:
    ports = ip_json(f"{standard.prefix}hub", "link", "show", "master", f"{standard.prefix}br")
    assert len(ports) == len(standard.devices) + 1
    assert all(p["ifname"].startswith(standard.prefix) for p in ports)
    assert {p.get("ifalias") for p in ports} == {"scanner", *(d.name for d in standard.devices)}


def test_nothing_of_the_lab_is_in_the_host_namespace(standard: netns.LabHandle) -> None:
    links = json.loads(subprocess.run(["ip", "-j", "link"], capture_output=True, text=True).stdout)
    assert not [link for link in links if link["ifname"].startswith(standard.prefix)]
    assert not [link for link in links if link["ifname"] in ("lab0", "scale0")]


def test_every_device_answers_arp_with_its_mac(standard: netns.LabHandle) -> None:
    got = answers(probe(standard.netns, standard.interface, standard.targets))
    expected = standard.expected_arp()
    assert got == {ip: {mac} for ip, mac in expected.items()}


def test_proxy_host_answers_for_its_block_with_its_one_mac(standard: netns.LabHandle) -> None:
    (router,) = [d for d in standard.devices if d.proxy_ips]
    result = probe(standard.netns, standard.interface, *router.proxy_ips, quiet=0.2)
    got = answers(result)
    assert set(got) == set(router.proxy_ips)
    assert all(macs == {router.mac} for macs in got.values())
    assert result["reply_frames"] == len(router.proxy_ips)  # one answer each, immediately


def test_status_of_standard_lab(standard: netns.LabHandle) -> None:
    st = netns.status(standard.prefix)
    assert st.up and st.healthy and st.mode == "standard" and not st.missing
    assert set(st.devices) == {d.name for d in standard.devices}
    assert netns.attach(standard.prefix) == netns.LabHandle(
        **{**standard.__dict__, "elapsed": 0.0, "namespaces": st.namespaces}
    )


def test_second_up_with_the_same_prefix_is_refused(standard: netns.LabHandle) -> None:
    with pytest.raises(UserError, match="already up"):
        netns.up(prefix=standard.prefix)
    assert netns.status(standard.prefix).healthy  # and the refusal removed nothing


# --- teardown ---------------------------------------------------------------------------------


def test_down_removes_everything_and_is_idempotent(prefix: str) -> None:
    handle = netns.up()
    assert lab_leftovers(prefix)
    removed = netns.down()
    assert f"netns {handle.netns}" in removed
    assert lab_leftovers(prefix) == []
    assert not netns.status().up
    assert netns.down() == []


def test_down_after_a_crash_left_half_a_lab(prefix: str) -> None:
    netns.up()
    shutil.rmtree(netns.STATE_ROOT / prefix)  # the state is gone ...
    for name in ("hub", "d-axis", "d-zte"):  # ... and so are some namespaces
        subprocess.run(["ip", "netns", "del", f"{prefix}{name}"], check=True)
    st = netns.status()
    assert st.up and not st.healthy
    netns.down()
    assert lab_leftovers(prefix) == []


def test_failure_half_way_through_up_removes_what_was_built(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(namespace: str, values: dict[str, str]) -> None:
        assert namespace in netns_names()  # built this far
        raise netns.LabError("injected failure")

    monkeypatch.setattr(netns, "_sysctl", broken)
    with pytest.raises(netns.LabError, match="injected"):
        netns.up()
    assert lab_leftovers(prefix) == []


def _python(prefix: str, script: str) -> subprocess.Popen[str]:
    env = {**netns.tool_environment(), "NDAA_LAB_PREFIX": prefix}
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_during_up_removes_what_was_built(prefix: str) -> None:
    script = (
        "import os, signal, time\n"
        "from scanner.lab import netns\n"
        "def slow(*a):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(10)\n"
        "netns._sysctl = slow\n"
        "netns.up()\n"
    )
    proc = _python(prefix, script)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert lab_leftovers(prefix) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("hosts", [None, 256])
def test_signal_inside_lab_context_tears_down(
    prefix: str, sig: signal.Signals, hosts: int | None
) -> None:
    script = (
        "import time\n"
        "from scanner.lab import netns\n"
        f"with netns.lab(hosts={hosts}) as h:\n"
        "    print(h.responder_pid, flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = _python(prefix, script)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line, proc.communicate(timeout=10)[1]
    assert lab_leftovers(prefix)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert lab_leftovers(prefix) == [], err
    if hosts is not None:
        cmdline = Path(f"/proc/{int(line)}/cmdline")
        assert not cmdline.exists() or b"responder" not in cmdline.read_bytes()


# --- the scale lab ----------------------------------------------------------------------------


def test_scale_lab_answers_every_host_with_its_scale_mac(prefix: str) -> None:
    with netns.lab(hosts=4096) as handle:
        assert handle.mode == "scale" and handle.netns == f"{prefix}scale-scan"
        assert handle.interface == "scale0" and handle.scanner_ip == SCALE_SCANNER_IP
        assert handle.targets == "198.18.0.0/20" and handle.devices == ()
        assert handle.live == 4096
        st = netns.status()
        assert st.mode == "scale" and st.healthy and st.responder_pid == handle.responder_pid
        # every host, plus a sample past the population that must stay silent
        result = probe(handle.netns, handle.interface, "198.18.0.0/20", "198.18.16.0/26")
        got = answers(result)
        assert got == {scale_ip(i): {scale_mac(i)} for i in range(4096)}
        assert handle.expected_arp() == {ip: next(iter(m)) for ip, m in got.items()}


def test_fraction_lab_answers_only_live_hosts(prefix: str) -> None:
    with netns.lab(hosts=4096, live_fraction=0.25, seed=11) as handle:
        assert handle.live == 1024
        got = answers(probe(handle.netns, handle.interface, handle.targets))
        live = live_hosts(4096, 0.25, 11)
        assert got == {scale_ip(i): {scale_mac(i)} for i in live}


def test_responder_survives_hostile_frames(prefix: str) -> None:
    hostile = r"""
import os, random, socket
from scanner.lab.arpwire import build_request, ip_bytes
from scanner.lab.rawsock import open_arp_socket, interface_mac
s = open_arp_socket("scale0")
mac = interface_mac(s)
good = build_request(mac, ip_bytes("198.19.255.254"), ip_bytes("198.18.0.5"))
rng = random.Random(1)
frames = [
    good[:14], good[:20], good[:41],                       # truncated
    good[:14] + b"\x00" * 28,                              # all-zero ARP body
    good[:14] + bytes(rng.randrange(256) for _ in range(28)),
    good[:14] + b"\xff" * 1486,                            # full-size junk
    good[:21] + b"\x02" + good[22:],                       # a reply, not a request
    good[:21] + b"\x09" + good[22:],                       # unknown opcode
    good[:18] + b"\x10\x10" + good[20:],                   # absurd hlen/plen
    good[:38] + bytes([10, 0, 0, 1]),                      # target outside the lab
    good[:28] + good[38:42] + good[32:],                   # gratuitous
]
for _ in range(500):
    frames.append(good[:14] + bytes(rng.randrange(256) for _ in range(rng.randrange(60))))
for f in frames:
    s.send(f)
print(len(frames))
"""
    with netns.lab(hosts=256) as handle:
        proc = subprocess.run(
            handle.exec_argv([sys.executable, "-c", hostile]),
            capture_output=True,
            text=True,
            env=netns.tool_environment(),
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        sent = int(proc.stdout)
        assert handle.responder_pid is not None
        time.sleep(0.2)
        assert netns.status().responder_alive
        got = answers(probe(handle.netns, handle.interface, handle.targets))
        assert got == {scale_ip(i): {scale_mac(i)} for i in range(256)}
        os.kill(handle.responder_pid, signal.SIGUSR1)
        log = netns.STATE_ROOT / prefix / "responder.log"
        deadline = time.monotonic() + 5
        while "frames" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = json.loads(log.read_text().strip().splitlines()[-1])["responder"]
        assert stats["ignored"] >= sent - 2  # random junk may, rarely, be a valid request
        assert stats["answered"] >= 256


def test_scale_down_after_crash_stops_the_responder(prefix: str) -> None:
    handle = netns.up(hosts=64)
    pid = handle.responder_pid
    assert pid is not None
    shutil.rmtree(netns.STATE_ROOT / prefix)  # pid file and state gone
    removed = netns.down()
    assert any(line.startswith(f"process {pid}") for line in removed), removed
    assert lab_leftovers(prefix) == []


def test_responder_keeps_up_at_10k_requests_per_second(prefix: str) -> None:
    """The design's benchmark population: all of 198.18.0.0/16 answering, swept at 10k/s."""
    with netns.lab(hosts=65536) as handle:
        assert handle.targets == "198.18.0.0/16"
        result = probe(handle.netns, handle.interface, handle.targets, rate=10_000, quiet=0.5)
        assert result["sent"] == 65536
        assert result["answered"] == 65536, result
        assert result["reply_frames"] == 65536
