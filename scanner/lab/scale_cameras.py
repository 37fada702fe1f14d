"""Scale lab with cameras: a population of `hosts` addresses where the last `cameras` are real
camera emulators and the rest answer ARP only (the scale responder), for fingerprinting
benchmarks and tests (1,000 hosts with 50 cameras by default).

Layout: the scale lab of `netns.up(hosts=hosts - cameras)` (scanner namespace `scale0`, responder
namespace), plus one namespace `<prefix>scale-cams` holding one macvlan per camera, stacked on
the responder's veth end, so each camera has its own MAC and address on the scanner's segment
and answers ARP through the kernel (arp_ignore=1: only for its own address; per-camera policy
routing so replies leave from the camera's own MAC). One emulator process in that namespace runs
every camera's services (the standard lab's emulators: WS-Discovery, SADP, DHIP, HTTP, RTSP,
ONVIF), each bound to the camera's address, answering from a persona cloned from the standard
lab device it copies (hik-cam, hik-nvr, dahua-cam, amcrest-cam) with its own serial.

Camera k has address 198.18.0.0 + (hosts - cameras + k), a MAC in its template's OUI block
(`<oui>:fe:00:kk`), and logs its requests like any lab device (`CameraLab.requests`). The
namespace is recorded in the lab's state file first, so `ndaa-scan lab down` removes it too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scanner.lab import netns
from scanner.lab.personas import PERSONAS, Persona
from scanner.lab.topology import (
    SCALE_PREFIXLEN,
    LabDevice,
    device_by_name,
    scale_expected_arp,
    scale_ip,
    scale_targets,
)

TEMPLATES = ("hik-cam", "hik-nvr", "dahua-cam", "amcrest-cam")
SERVICES = ("wsd", "http", "rtsp", "onvif")  # those that bind per address or per interface
DEFAULT_HOSTS = 1000
DEFAULT_CAMERAS = 50
MAX_CAMERAS = 200
MODULE = "scanner.lab.scale_cameras"
_LAB_NET = f"198.18.0.0/{SCALE_PREFIXLEN}"  # the scale segment, scanner included


def camera_iface(k: int) -> str:
    return f"cam{k:03d}"


def camera_devices(hosts: int, cameras: int) -> tuple[LabDevice, ...]:
    """The cameras of a scale lab (pure: tests compute ground truth from it)."""
    if not 1 <= cameras <= min(MAX_CAMERAS, hosts):
        raise ValueError(f"cameras must be 1..{min(MAX_CAMERAS, hosts)}, not {cameras}")
    out = []
    for k in range(cameras):
        template = device_by_name(TEMPLATES[k % len(TEMPLATES)])
        out.append(
            replace(
                template,
                name=f"cam{k:03d}-{template.name}",
                mac=f"{template.mac[:8]}:fe:{k >> 8:02x}:{k & 0xFF:02x}",
                ip=scale_ip(hosts - cameras + k),
                description=f"scale-lab camera {k}: {template.description}",
                services=tuple(s for s in template.services if s in SERVICES),
            )
        )
    return tuple(out)


def camera_persona(device: LabDevice) -> Persona:
    """The template's persona with a serial of its own (identification keys on it)."""
    template = device.name.split("-", 1)[1]
    base = PERSONAS[template]
    k = int(device.name[3:6])
    return replace(base, serial=f"{base.serial[:-3]}{k:03d}")


@dataclass(frozen=True)
class CameraLab:
    scale: netns.LabHandle  # the ARP-only population and the scanner's namespace
    cameras: tuple[LabDevice, ...]
    hosts: int  # the whole population, cameras included
    namespace: str
    emulator_pid: int

    @property
    def targets(self) -> str:
        return scale_targets(self.hosts)

    @property
    def interface(self) -> str:
        return self.scale.interface

    @property
    def prefix(self) -> str:
        return self.scale.prefix

    def exec_argv(self, argv: list[str]) -> list[str]:
        return self.scale.exec_argv(argv)

    def expected_arp(self) -> dict[str, str]:
        expected = scale_expected_arp(self.scale.hosts)
        expected.update({c.ip: c.mac for c in self.cameras})
        return expected

    def requests(self, camera: str) -> list[dict[str, Any]]:
        from scanner.lab.emulators.base import read_log

        return read_log(netns.request_log_path(self.prefix, camera))


def _namespace(names: netns.LabNames) -> str:
    return f"{names.prefix}scale-cams"


def _record_namespace(names: netns.LabNames, namespace: str) -> None:
    """Into the lab's state before creating it, so `down` removes it even after a crash."""
    state = netns._read_state(names) or {}
    spaces = list(state.get("namespaces", []))
    if namespace not in spaces:
        spaces.append(namespace)
    state["namespaces"] = spaces
    state["cameras"] = state.get("cameras", 0)
    netns._write_state(names, state)


def _build(
    names: netns.LabNames, hosts: int, cameras: tuple[LabDevice, ...], closed_ports: bool
) -> int:
    namespace = _namespace(names)
    state = netns._read_state(names) or {}
    state["cameras"] = len(cameras)
    state["camera_hosts"] = hosts
    netns._write_state(names, state)
    _record_namespace(names, namespace)
    netns._ip_batches([(None, [f"netns add {namespace}"])])
    lower = names.scale_resp_iface
    netns._ip_batches(
        [
            (
                names.scale_resp,
                [
                    f"link add {camera_iface(k)} link {lower} address {c.mac} netns {namespace} "
                    "type macvlan mode bridge"
                    for k, c in enumerate(cameras)
                ],
            )
        ]
    )
    netns._sysctl(
        namespace,
        {
            "net/ipv4/conf/all/arp_ignore": "1",
            "net/ipv4/conf/all/arp_announce": "2",
            "net/ipv4/conf/all/rp_filter": "0",
            "net/ipv4/conf/default/rp_filter": "0",
            "net/ipv4/conf/default/arp_ignore": "1",
            "net/ipv4/conf/default/arp_announce": "2",
        },
    )
    lines = ["link set dev lo up"]
    for k, camera in enumerate(cameras):
        iface = camera_iface(k)
        lines += [
            f"link set dev {iface} addrgenmode none",
            f"addr add {camera.ip}/{SCALE_PREFIXLEN} dev {iface}",
            f"link set dev {iface} up",
            f"rule add from {camera.ip} lookup {100 + k}",
            f"route add {_LAB_NET} dev {iface} src {camera.ip} table {100 + k}",
        ]
    netns._ip_batches([(namespace, lines)])
    if closed_ports:
        _start_closed_hosts(names, hosts - len(cameras))
    return _start_emulators(names, namespace, hosts, len(cameras))


def _start_emulators(
    names: netns.LabNames, namespace: str, hosts: int, cameras: int, timeout: float = 60.0
) -> int:
    argv = [
        "ip", "netns", "exec", namespace, sys.executable, "-m", MODULE,
        "--prefix", names.prefix, "--hosts", str(hosts), "--cameras", str(cameras),
    ]  # fmt: skip
    return _start_detached(names, "scale-cams", argv, timeout)


def _start_closed_hosts(names: netns.LabNames, hosts: int) -> int:
    argv = [
        "ip", "netns", "exec", names.scale_resp, sys.executable, "-m", "scanner.lab.closed_hosts",
        "--iface", names.scale_resp_iface, "--hosts", str(hosts),
    ]  # fmt: skip
    return _start_detached(names, "closed-hosts", argv, 20.0)


def _start_detached(names: netns.LabNames, label: str, argv: list[str], timeout: float) -> int:
    """A lab tool started like the responder (own session, logged), once it says it is ready."""
    ready = names.state_dir / "emulators" / f"{label}.ready"
    log_path = names.state_dir / "emulators" / f"{label}.log"
    argv = [*argv, "--ready-file", str(ready)]
    what = f"the scale lab's {label} process"
    return netns.start_detached(argv, log_path, ready, timeout, what, poll=0.02)


def up(
    hosts: int = DEFAULT_HOSTS,
    cameras: int = DEFAULT_CAMERAS,
    *,
    prefix: str | None = None,
    closed_ports: bool = True,
) -> CameraLab:
    """The scale lab for `hosts - cameras` ARP-only hosts plus `cameras` camera emulators.

    `closed_ports`: the ARP-only hosts answer TCP SYNs with RST (ordinary hosts); False makes
    them drop everything (hosts behind a host firewall), so every connect waits its timeout."""
    devices = camera_devices(hosts, cameras)
    handle = netns.up(hosts=hosts - cameras, prefix=prefix)
    names = netns.LabNames(handle.prefix)
    try:
        pid = _build(names, hosts, devices, closed_ports)
    except BaseException:
        netns.down(handle.prefix)
        raise
    return CameraLab(handle, devices, hosts, _namespace(names), pid)


@contextlib.contextmanager
def lab(
    hosts: int = DEFAULT_HOSTS,
    cameras: int = DEFAULT_CAMERAS,
    *,
    prefix: str | None = None,
    closed_ports: bool = True,
) -> Iterator[CameraLab]:
    """`with lab() as cams:` - up on entry, always down on exit (every namespace it made)."""
    handle = up(hosts, cameras, prefix=prefix, closed_ports=closed_ports)
    try:
        yield handle
    finally:
        netns.down(handle.prefix)


# --- the emulator process (runs inside <prefix>scale-cams) -------------------------------------


def serve(prefix: str, hosts: int, cameras: int, ready_file: Path) -> int:
    import signal

    from scanner.lab.emulators.base import RequestLog, Service, ServiceContext, registry

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    services = registry()
    started = threading.Semaphore(0)
    threads = []
    for k, device in enumerate(camera_devices(hosts, cameras)):
        log = RequestLog(netns.request_log_path(prefix, device.name))
        for name in device.services:
            if name not in services:
                print(f"{device.name}: no emulator {name!r}; skipped", flush=True)
                continue
            ctx = ServiceContext(
                device, camera_persona(device), log, camera_iface(k), started.release
            )
            service = services[name](ctx)

            def run(svc: Service = service, label: str = f"{device.name}/{name}") -> None:
                try:
                    svc.serve(stop)
                except Exception:
                    print(f"{label} failed:", flush=True)
                    traceback.print_exc()
                    started.release()

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            threads.append(thread)
    for _ in threads:
        if not started.acquire(timeout=30):
            print("a camera service did not become ready in 30 s", flush=True)
            return 1
    ready_file.write_text("ready\n")
    while not stop.is_set():
        stop.wait(0.5)
    return 0


def describe(cams: CameraLab) -> str:
    """One line for logs and benchmarks."""
    return json.dumps(
        {
            "hosts": cams.hosts,
            "cameras": len(cams.cameras),
            "targets": cams.targets,
            "namespace": cams.namespace,
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("--cameras", type=int, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    return serve(args.prefix, args.hosts, args.cameras, args.ready_file)


if __name__ == "__main__":
    sys.exit(main())
