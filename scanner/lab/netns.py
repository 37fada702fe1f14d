"""Build, inspect and tear down the lab: Linux network namespaces joined by veths and a bridge.

Standard lab (`up()`): a hub namespace holding a bridge, a scanner namespace (`lab0`,
198.18.0.1/24) and one namespace per device whose `eth0` carries the device's exact MAC and
address, so each device answers ARP through its own kernel. Scale lab (`up(hosts=N)`): two
namespaces joined by one veth, and a userspace responder (`scanner.lab.responder`) answering ARP
for N hosts of 198.18.0.0/16, each with its own MAC.

Safety: every name carries the lab prefix, every address is in 198.18.0.0/15, nothing is created
in or sent from the host's namespace (veth ends are created directly inside lab namespaces), and
`down()` removes only names this module can derive from the prefix or recorded in its state file.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, Literal

from scanner.errors import UserError
from scanner.lab.topology import (
    DEVICE_IFACE,
    SCALE_PREFIXLEN,
    SCALE_SCANNER_IFACE,
    SCALE_SCANNER_IP,
    SCANNER_IFACE,
    SCANNER_IP,
    STANDARD_DEVICES,
    STANDARD_PREFIXLEN,
    STANDARD_SUBNET,
    LabDevice,
    check_scale_params,
    lab_prefix,
    live_count,
    scale_expected_arp,
    scale_targets,
    standard_expected_arp,
    validate_prefix,
)

STATE_ROOT = Path("/run/ndaa-lab")
NETNS_DIR = Path("/run/netns")
MAX_DEVICES = 100  # hub ports are "<prefix>pNN"
RESPONDER_MODULE = "scanner.lab.responder"
_OUR_PROCESS_MARK = b"scanner.lab."  # cmdline of every process the lab starts
_CAP_NET_ADMIN = 12
_CAP_SYS_ADMIN = 21  # `ip netns add` mounts

Mode = Literal["standard", "scale"]


class LabError(UserError):
    """Building or removing the lab failed part-way (an `ip` command refused, a helper died)."""


# --- names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabNames:
    """Every name a lab with this prefix can use: the single source for `up`, `down`, `status`."""

    prefix: str

    @property
    def hub(self) -> str:
        return f"{self.prefix}hub"

    @property
    def scanner(self) -> str:
        return f"{self.prefix}scanner"

    @property
    def bridge(self) -> str:
        return f"{self.prefix}br"

    @property
    def scanner_port(self) -> str:
        return f"{self.prefix}ps"

    @property
    def proxy_inner(self) -> str:
        return f"{self.prefix}px"

    @property
    def proxy_inner_peer(self) -> str:
        return f"{self.prefix}py"

    @property
    def scale_scan(self) -> str:
        return f"{self.prefix}scale-scan"

    @property
    def scale_resp(self) -> str:
        return f"{self.prefix}scale-resp"

    @property
    def scale_resp_iface(self) -> str:
        return f"{self.prefix}sr"

    @property
    def state_dir(self) -> Path:
        return STATE_ROOT / self.prefix

    def device_ns(self, device: LabDevice | str) -> str:
        name = device if isinstance(device, str) else device.name
        return f"{self.prefix}d-{name}"

    def hub_port(self, index: int) -> str:
        return f"{self.prefix}p{index:02d}"

    def standard_namespaces(self, devices: Sequence[LabDevice] = STANDARD_DEVICES) -> list[str]:
        return [self.hub, self.scanner, *(self.device_ns(d) for d in devices)]

    def scale_namespaces(self) -> list[str]:
        return [self.scale_scan, self.scale_resp]


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabHandle:
    """A lab that is up: where to run the scanner, on which interface, against what."""

    prefix: str
    mode: Mode
    netns: str  # the scanner's namespace
    interface: str  # "lab0" or "scale0"
    scanner_ip: str
    targets: str  # CIDR to scan
    devices: tuple[LabDevice, ...] = ()  # empty in scale mode
    hosts: int = 0  # addresses that answer (standard) or the scale population
    live: int = 0  # how many of them answer ARP
    live_fraction: float = 1.0
    seed: int = 0
    namespaces: tuple[str, ...] = ()
    responder_pid: int | None = None
    elapsed: float = 0.0  # seconds `up` took
    routed: tuple[LabDevice, ...] = ()  # devices behind the lab's router (scanner.lab.routed)

    def exec_argv(self, argv: Sequence[str]) -> list[str]:
        """`argv` run inside the scanner's namespace (the caller must be root)."""
        return ["ip", "netns", "exec", self.netns, *argv]

    def expected_arp(self) -> dict[str, str]:
        """Ground truth of an ARP sweep of `targets`: address -> the MAC that must answer."""
        if self.mode == "scale":
            return scale_expected_arp(self.hosts, self.live_fraction, self.seed)
        return standard_expected_arp(self.devices)

    def requests(self, device: str) -> list[dict[str, Any]]:
        """Every request the emulators of `device` received so far (see emulators.base)."""
        from scanner.lab.emulators.base import read_log

        return read_log(request_log_path(self.prefix, device))

    def scan_command(self) -> str:
        """The command line a user types to scan this lab."""
        return f"sudo ip netns exec {self.netns} ndaa-scan scan {self.targets} -i {self.interface}"


@dataclass(frozen=True)
class LabStatus:
    """What exists now for one prefix; safe to ask without root."""

    prefix: str
    mode: Mode | None
    namespaces: tuple[str, ...]  # lab namespaces that exist
    missing: tuple[str, ...]  # namespaces the lab should have but does not
    devices: tuple[str, ...]  # device names whose namespace exists
    responder_pid: int | None
    responder_alive: bool
    state_dir: str | None  # set when the state directory exists
    others: tuple[str, ...] = field(default=())  # other labs' prefixes seen in the state root

    @property
    def up(self) -> bool:
        return bool(self.namespaces) or self.responder_alive

    @property
    def healthy(self) -> bool:
        """Everything the lab should have is there (and, in scale mode, the responder runs)."""
        if not self.namespaces or self.missing:
            return False
        return self.mode != "scale" or self.responder_alive


# --- preflight --------------------------------------------------------------------------------


def _capabilities() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def has_privilege() -> bool:
    """Root, or the two capabilities the lab needs (CAP_NET_ADMIN, CAP_SYS_ADMIN)."""
    if os.geteuid() == 0:
        return True
    caps = _capabilities()
    return bool(caps >> _CAP_NET_ADMIN & 1 and caps >> _CAP_SYS_ADMIN & 1)


def preflight() -> None:
    """Raise UserError with the fix when the lab cannot be built or removed here."""
    if not sys.platform.startswith("linux"):
        raise UserError("the lab needs Linux network namespaces", hint="run it on a Linux host")
    if not has_privilege():
        raise UserError(
            "the lab needs root (CAP_NET_ADMIN) to create network namespaces",
            hint="run it with sudo, e.g. `sudo ndaa-scan lab up`",
        )
    if shutil.which("ip") is None:
        raise UserError(
            "the lab needs the `ip` command, which is not installed or not on PATH",
            hint="install the Debian/Ubuntu package iproute2: sudo apt-get install iproute2",
        )


def _resolve_prefix(prefix: str | None) -> str:
    try:
        return lab_prefix() if prefix is None else validate_prefix(prefix)
    except ValueError as exc:
        raise UserError(str(exc), hint="set NDAA_LAB_PREFIX to e.g. 'ndaa-' or 'ndaa-t1-'") from exc


# --- running ip -------------------------------------------------------------------------------


def _ip_batch_argv(netns: str | None, force: bool = False) -> list[str]:
    argv = ["ip"]
    if netns is not None:
        argv += ["-n", netns]
    if force:
        argv.append("-force")
    return [*argv, "-batch", "-"]


def _ip_batches(batches: Sequence[tuple[str | None, Sequence[str]]]) -> None:
    """Run several `ip -batch` scripts concurrently, each in its namespace (None = host's).

    One process per namespace instead of one per command is what makes `up` take ~0.1 s.
    """
    procs = []
    for netns, lines in batches:
        proc = subprocess.Popen(
            _ip_batch_argv(netns),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append((netns, lines, proc))
    failures = []
    for netns, lines, proc in procs:
        out, err = proc.communicate("\n".join(lines) + "\n")
        if proc.returncode != 0:
            where = f"in namespace {netns}" if netns else "in the host namespace"
            failures.append(f"ip -batch {where} failed: {(err or out).strip()}")
    if failures:
        raise LabError(
            "building the lab failed: " + "; ".join(failures),
            hint="the kernel needs network namespaces, veth and bridge support; "
            "`ndaa-scan lab down` removes whatever was left",
        )


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


# --- state ------------------------------------------------------------------------------------


def _write_state(names: LabNames, state: dict[str, Any]) -> None:
    names.state_dir.mkdir(parents=True, exist_ok=True)
    tmp = names.state_dir / "lab.json.tmp"
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(names.state_dir / "lab.json")


def _read_state(names: LabNames) -> dict[str, Any] | None:
    try:
        data = json.loads((names.state_dir / "lab.json").read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _process_cmdline(pid: int) -> bytes | None:
    """The cmdline of a live (not zombie) process, else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return None
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None


def _responder_pid(names: LabNames, state: dict[str, Any] | None) -> int | None:
    pid = _read_pid(names.state_dir / "responder.pid")
    if pid is None and state is not None and isinstance(state.get("responder_pid"), int):
        pid = state["responder_pid"]
    return pid


def _is_our_responder(pid: int, names: LabNames) -> bool:
    """Guards against a recycled pid: the process must be our module on our interface."""
    cmdline = _process_cmdline(pid)
    if cmdline is None:
        return False
    args = cmdline.split(b"\0")
    return RESPONDER_MODULE.encode() in args and names.scale_resp_iface.encode() in args


def _devices_from_state(state: dict[str, Any]) -> tuple[LabDevice, ...]:
    out = []
    for raw in state.get("devices", []):
        raw = dict(raw)
        raw["proxy_ips"] = tuple(raw.get("proxy_ips", ()))
        raw["services"] = tuple(raw.get("services", ()))
        out.append(LabDevice(**raw))
    return tuple(out)


def _candidate_namespaces(names: LabNames, state: dict[str, Any] | None) -> list[str]:
    """Every namespace name this prefix may own: derived names plus those the state recorded."""
    names_set = dict.fromkeys(names.standard_namespaces() + names.scale_namespaces())
    if state is not None:
        for ns in state.get("namespaces", []):
            if isinstance(ns, str) and ns.startswith(names.prefix):
                names_set[ns] = None
    return list(names_set)


def _existing_namespaces(candidates: Sequence[str]) -> list[str]:
    return [ns for ns in candidates if (NETNS_DIR / ns).exists()]


# --- signals ----------------------------------------------------------------------------------

_TERMINATING = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """While inside, SIGINT raises KeyboardInterrupt and SIGTERM/SIGHUP raise SystemExit, so the
    caller's cleanup runs instead of the process dying with namespaces left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(sig: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + sig)

    saved: dict[int, Any] = {}
    for sig in (*_TERMINATING, signal.SIGINT):
        old = signal.getsignal(sig)
        if old is signal.SIG_IGN:  # e.g. nohup: the user asked for it to be ignored
            continue
        saved[sig] = old
        signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else terminate)
    try:
        yield
    finally:
        for number, old in saved.items():
            signal.signal(number, old)


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while tearing down (a second Ctrl-C must not leave half a lab);
    a signal that arrived meanwhile is acted on afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(sig: int, _frame: FrameType | None) -> None:
        pending.append(sig)

    saved: dict[int, Any] = {}
    for sig in (*_TERMINATING, signal.SIGINT):
        old = signal.getsignal(sig)
        if old is not signal.SIG_IGN:
            saved[sig] = old
            signal.signal(sig, hold)
    try:
        yield
    finally:
        for number, old in saved.items():
            signal.signal(number, old)
    if pending and sys.exc_info()[1] is None:
        if pending[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + pending[0])


# --- up ---------------------------------------------------------------------------------------

# Children started by this process, so `down` can reap them (no zombies in the test runner).
_children: dict[int, subprocess.Popen[bytes]] = {}


def up(
    hosts: int | None = None,
    live_fraction: float = 1.0,
    seed: int = 0,
    *,
    devices: Sequence[LabDevice] = STANDARD_DEVICES,
    prefix: str | None = None,
    routed: Sequence[LabDevice] = (),
) -> LabHandle:
    """Build the standard lab, or with `hosts` the scale lab; on any failure or signal half-way,
    remove what was built and re-raise. `routed`: devices behind a router (standard lab only)."""
    prefix = _resolve_prefix(prefix)
    preflight()
    names = LabNames(prefix)
    if hosts is not None:
        try:
            check_scale_params(hosts, live_fraction)
        except ValueError as exc:
            raise UserError(str(exc), hint="e.g. --hosts 65536 --live-fraction 0.25") from exc
    else:
        _check_devices(devices)
    current = status(prefix)
    if current.up:
        raise UserError(
            f"a lab with prefix {prefix!r} is already up ({', '.join(current.namespaces)})",
            hint="run `sudo ndaa-scan lab down` first, or set NDAA_LAB_PREFIX for a second lab",
        )
    if current.state_dir:  # left by a crash, with nothing alive behind it
        shutil.rmtree(current.state_dir, ignore_errors=True)

    start = time.perf_counter()
    with _interruptible():
        try:
            if hosts is None:
                handle = _build_standard(names, tuple(devices), tuple(routed))
            else:
                handle = _build_scale(names, hosts, live_fraction, seed)
        except BaseException:
            with _shielded():
                down(prefix)
            raise
    return replace(handle, elapsed=time.perf_counter() - start)


def _check_devices(devices: Sequence[LabDevice]) -> None:
    if not 1 <= len(devices) <= MAX_DEVICES:
        raise UserError(f"a standard lab has 1..{MAX_DEVICES} devices, not {len(devices)}")
    for what, values in (
        ("name", [d.name for d in devices]),
        ("MAC", [d.mac for d in devices]),
        ("address", [ip for d in devices for ip in d.addresses] + [SCANNER_IP]),
    ):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise UserError(f"lab devices share a {what}: {', '.join(dupes)}")
    subnet = ipaddress.ip_network(STANDARD_SUBNET)
    outside = [d.ip for d in devices if ipaddress.ip_address(d.ip) not in subnet]
    if outside:
        raise UserError(f"lab device addresses must be in {STANDARD_SUBNET}: {', '.join(outside)}")


def _build_standard(
    names: LabNames, devices: tuple[LabDevice, ...], routed: tuple[LabDevice, ...] = ()
) -> LabHandle:
    namespaces = names.standard_namespaces(devices) + _routed_namespaces(names, routed)
    _write_state(
        names,
        {
            "prefix": names.prefix,
            "mode": "standard",
            "namespaces": namespaces,
            "devices": [asdict(d) for d in devices],
            "routed": [asdict(d) for d in routed],
            "created": time.time(),
        },
    )
    # 1. In the host namespace, but creating nothing there: each veth end and the bridge are
    #    created directly inside their lab namespace.
    host = [f"netns add {ns}" for ns in namespaces]
    host.append(
        f"link add {names.bridge} netns {names.hub} type bridge "
        "stp_state 0 forward_delay 0 mcast_snooping 0"
    )
    host.append(
        f"link add {SCANNER_IFACE} netns {names.scanner} type veth "
        f"peer name {names.scanner_port} netns {names.hub}"
    )
    for index, device in enumerate(devices):
        host.append(
            f"link add {DEVICE_IFACE} netns {names.device_ns(device)} address {device.mac} "
            f"type veth peer name {names.hub_port(index)} netns {names.hub}"
        )
        if device.proxy_ips:
            # The network "behind" the router: a veth pair inside its namespace (a dummy
            # interface would do, but CONFIG_DUMMY is missing from some kernels; veth is not).
            dns = names.device_ns(device)
            host.append(
                f"link add {names.proxy_inner} netns {dns} type veth "
                f"peer name {names.proxy_inner_peer} netns {dns}"
            )
    _ip_batches([(None, host)])

    # 2. Inside each namespace, concurrently. `addrgenmode none` keeps IPv6 silent (no
    #    link-local address, so no DAD, router solicitations or MLD reports on the wire).
    hub = [f"link set dev {names.bridge} addrgenmode none"]
    ports = [(names.scanner_port, "scanner")]
    ports += [(names.hub_port(i), d.name) for i, d in enumerate(devices)]
    for port, alias in ports:
        hub += [
            f"link set dev {port} addrgenmode none",
            f"link set dev {port} alias {alias}",
            f"link set dev {port} master {names.bridge}",
            f"link set dev {port} up",
        ]
    hub.append(f"link set dev {names.bridge} up")
    batches: list[tuple[str | None, Sequence[str]]] = [
        (names.hub, hub),
        (names.scanner, _iface_lines(SCANNER_IFACE, f"{SCANNER_IP}/{STANDARD_PREFIXLEN}")),
    ]
    for device in devices:
        lines = _iface_lines(DEVICE_IFACE, f"{device.ip}/{STANDARD_PREFIXLEN}")
        if device.proxy_ips:
            for iface in (names.proxy_inner, names.proxy_inner_peer):
                lines += [f"link set dev {iface} addrgenmode none", f"link set dev {iface} up"]
            for net in _covering_networks(device.proxy_ips):
                lines.append(f"route add {net} dev {names.proxy_inner}")
        batches.append((names.device_ns(device), lines))
    _ip_batches(batches)

    # 3. Proxy ARP: the kernel answers for an address it routes out of another interface when
    #    forwarding and proxy_arp are on; proxy_delay=0 makes it answer at once, not after up to
    #    0.8 s (the default), which a fast sweep would count as no answer.
    for device in devices:
        if device.proxy_ips:
            _sysctl(
                names.device_ns(device),
                {
                    "net/ipv4/ip_forward": "1",
                    f"net/ipv4/conf/{DEVICE_IFACE}/proxy_arp": "1",
                    f"net/ipv4/neigh/{DEVICE_IFACE}/proxy_delay": "0",
                },
            )
    if routed:
        _build_routed(names, routed)
    _start_emulators(names, devices)
    expected = standard_expected_arp(devices)
    return LabHandle(
        prefix=names.prefix,
        mode="standard",
        netns=names.scanner,
        interface=SCANNER_IFACE,
        scanner_ip=SCANNER_IP,
        targets=STANDARD_SUBNET,
        devices=devices,
        hosts=len(expected),
        live=len(expected),
        namespaces=tuple(namespaces),
        routed=routed,
    )


# --- the routed subnet (scanner.lab.routed) ---------------------------------------------------
# A router namespace with one leg on the lab bridge and a bridge of its own for the routed
# devices; the scanner gets a route to the routed subnet through it. Names inside the router's
# namespace need no prefix: nothing else lives there.


def _router_ns(names: LabNames) -> str:
    return f"{names.prefix}router"


def _routed_namespaces(names: LabNames, routed: Sequence[LabDevice]) -> list[str]:
    if not routed:
        return []
    return [_router_ns(names), *(names.device_ns(d) for d in routed)]


def _build_routed(names: LabNames, routed: tuple[LabDevice, ...]) -> None:
    from scanner.lab.routed import (
        ROUTED_PREFIXLEN,
        ROUTED_SUBNET,
        ROUTER_LAB_IP,
        ROUTER_ROUTED_IP,
    )

    router, uplink = _router_ns(names), f"{names.prefix}pr"
    # The namespaces themselves were added with the standard lab's (see _build_standard).
    host = [f"link add eth0 netns {router} type veth peer name {uplink} netns {names.hub}"]
    host.append(f"link add br1 netns {router} type bridge stp_state 0 forward_delay 0")
    for index, device in enumerate(routed):
        host.append(
            f"link add {DEVICE_IFACE} netns {names.device_ns(device)} address {device.mac} "
            f"type veth peer name r{index:02d} netns {router}"
        )
    _ip_batches([(None, host)])
    hub = [
        f"link set dev {uplink} addrgenmode none",
        f"link set dev {uplink} alias router",
        f"link set dev {uplink} master {names.bridge}",
        f"link set dev {uplink} up",
    ]
    inner = _iface_lines("eth0", f"{ROUTER_LAB_IP}/{STANDARD_PREFIXLEN}")
    inner += [
        "link set dev br1 addrgenmode none",
        f"addr add {ROUTER_ROUTED_IP}/{ROUTED_PREFIXLEN} brd + dev br1",
        "link set dev br1 up",
    ]
    for index in range(len(routed)):
        inner += [
            f"link set dev r{index:02d} addrgenmode none",
            f"link set dev r{index:02d} master br1",
            f"link set dev r{index:02d} up",
        ]
    batches: list[tuple[str | None, Sequence[str]]] = [
        (names.hub, hub),
        (router, inner),
        (names.scanner, [f"route add {ROUTED_SUBNET} via {ROUTER_LAB_IP}"]),
    ]
    for device in routed:
        lines = _iface_lines(DEVICE_IFACE, f"{device.ip}/{ROUTED_PREFIXLEN}")
        lines.append(f"route add default via {ROUTER_ROUTED_IP}")
        batches.append((names.device_ns(device), lines))
    _ip_batches(batches)
    _sysctl(router, {"net/ipv4/ip_forward": "1"})
    state_file = names.state_dir / "routed.json"
    state_file.write_text(json.dumps({"devices": [asdict(d) for d in routed]}))
    _start_emulators(names, routed, state_file=state_file)


def _iface_lines(iface: str, cidr: str) -> list[str]:
    return [
        "link set dev lo up",
        f"link set dev {iface} addrgenmode none",
        f"addr add {cidr} brd + dev {iface}",
        f"link set dev {iface} up",
    ]


def _covering_networks(ips: Sequence[str]) -> list[str]:
    addresses = [ipaddress.IPv4Network(f"{ip}/32") for ip in ips]
    return [str(net) for net in ipaddress.collapse_addresses(addresses)]


def _sysctl(netns: str, values: dict[str, str]) -> None:
    """Write /proc/sys entries inside `netns` (procfs there shows that namespace's settings)."""
    script = "; ".join(f"echo {v} > /proc/sys/{k}" for k, v in values.items())
    result = _run(["ip", "netns", "exec", netns, "sh", "-ec", script])
    if result.returncode != 0:
        raise LabError(f"setting {', '.join(values)} in {netns} failed: {result.stderr.strip()}")


def _build_scale(names: LabNames, hosts: int, live_fraction: float, seed: int) -> LabHandle:
    namespaces = names.scale_namespaces()
    state: dict[str, Any] = {
        "prefix": names.prefix,
        "mode": "scale",
        "namespaces": namespaces,
        "hosts": hosts,
        "live_fraction": live_fraction,
        "seed": seed,
        "created": time.time(),
    }
    _write_state(names, state)
    host = [f"netns add {ns}" for ns in namespaces]
    host.append(
        f"link add {SCALE_SCANNER_IFACE} netns {names.scale_scan} type veth "
        f"peer name {names.scale_resp_iface} netns {names.scale_resp}"
    )
    _ip_batches([(None, host)])
    _ip_batches(
        [
            (
                names.scale_scan,
                _iface_lines(SCALE_SCANNER_IFACE, f"{SCALE_SCANNER_IP}/{SCALE_PREFIXLEN}"),
            ),
            (
                names.scale_resp,
                [
                    "link set dev lo up",
                    f"link set dev {names.scale_resp_iface} addrgenmode none",
                    f"link set dev {names.scale_resp_iface} up",
                ],
            ),
        ]
    )
    pid = _start_responder(names, hosts, live_fraction, seed)
    state["responder_pid"] = pid
    _write_state(names, state)
    return LabHandle(
        prefix=names.prefix,
        mode="scale",
        netns=names.scale_scan,
        interface=SCALE_SCANNER_IFACE,
        scanner_ip=SCALE_SCANNER_IP,
        targets=scale_targets(hosts),
        hosts=hosts,
        live=live_count(hosts, live_fraction),
        live_fraction=live_fraction,
        seed=seed,
        namespaces=tuple(namespaces),
        responder_pid=pid,
    )


def tool_environment() -> dict[str, str]:
    """This process's environment with the `scanner` package importable, for running the lab's
    tools (`python -m scanner.lab.responder`, `... .probe`) from a source checkout as well."""
    import scanner

    root = str(Path(scanner.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def spawn_detached(argv: list[str], log_path: Path, ready: Path) -> subprocess.Popen[bytes]:
    """Start a lab tool detached (own session: a Ctrl-C in the terminal is for us, and we stop it
    in order), its output appended to `log_path`, with a stale `ready` file removed first; the
    tool writes `ready` once it has bound its sockets (see `check_started`)."""
    ready.parent.mkdir(parents=True, exist_ok=True)
    ready.unlink(missing_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            cwd="/",
            env=tool_environment(),
        )
    _children[proc.pid] = proc  # `ip netns exec` execs the tool: same pid
    return proc


def check_started(
    proc: subprocess.Popen[bytes],
    ready: Path,
    log_path: Path,
    what: str,
    deadline: float,
    *,
    tail: int = 5,
) -> bool:
    """True once `proc` wrote `ready`; LabError (with its log's last `tail` lines) when it
    exited or `deadline` (time.monotonic()) passed first; False while it is still starting."""
    if ready.exists():
        return True
    if proc.poll() is not None or time.monotonic() > deadline:
        lines = log_path.read_text(errors="replace").strip().splitlines()[-tail:]
        raise LabError(
            f"{what} did not start: " + (" | ".join(lines) or "no output"),
            hint=f"see {log_path}",
        )
    return False


def start_detached(
    argv: list[str],
    log_path: Path,
    ready: Path,
    timeout: float,
    what: str,
    *,
    tail: int = 5,
    poll: float = 0.01,
) -> int:
    """`spawn_detached`, then wait until the tool is ready (`check_started`); its pid."""
    proc = spawn_detached(argv, log_path, ready)
    deadline = time.monotonic() + timeout
    while not check_started(proc, ready, log_path, what, deadline, tail=tail):
        time.sleep(poll)
    return proc.pid


def _start_responder(
    names: LabNames, hosts: int, live_fraction: float, seed: int, timeout: float = 20.0
) -> int:
    """Start the responder detached and wait until its socket is bound, so the lab answers once
    `up` returns."""
    ready = names.state_dir / "responder.ready"
    log_path = names.state_dir / "responder.log"
    argv = [
        "ip", "netns", "exec", names.scale_resp,
        sys.executable, "-m", RESPONDER_MODULE,
        "--iface", names.scale_resp_iface,
        "--hosts", str(hosts),
        "--live-fraction", repr(live_fraction),
        "--seed", str(seed),
        "--ready-file", str(ready),
    ]  # fmt: skip
    proc = spawn_detached(argv, log_path, ready)
    (names.state_dir / "responder.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    what = "the scale-mode ARP responder"
    while not check_started(proc, ready, log_path, what, deadline, tail=3):
        time.sleep(0.005)
    return proc.pid


EMULATOR_MODULE = "scanner.lab.emulators"


def request_log_path(prefix: str, device: str) -> Path:
    """Where the emulators of `device` log every request they receive (JSON lines)."""
    return LabNames(prefix).state_dir / "requests" / f"{device}.jsonl"


def _start_emulators(
    names: LabNames,
    devices: Sequence[LabDevice],
    timeout: float = 20.0,
    state_file: Path | None = None,
) -> None:
    """One emulator host per device that has services, started detached like the responder;
    returns once every one of them has bound its sockets. `state_file` lists the devices (the
    lab's state by default; the routed devices have their own)."""
    pending: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
    for device in devices:
        if not device.services:
            continue
        ready = names.state_dir / "emulators" / f"{device.name}.ready"
        log_path = names.state_dir / "emulators" / f"{device.name}.log"
        argv = [
            "ip", "netns", "exec", names.device_ns(device),
            sys.executable, "-m", EMULATOR_MODULE,
            "--state", str(state_file or names.state_dir / "lab.json"),
            "--device", device.name,
            "--log", str(request_log_path(names.prefix, device.name)),
            "--ready-file", str(ready),
        ]  # fmt: skip
        pending[device.name] = (spawn_detached(argv, log_path, ready), ready, log_path)
    deadline = time.monotonic() + timeout
    while pending:
        for name, (proc, ready, log_path) in list(pending.items()):
            what = f"the emulators of lab device {name!r}"
            if check_started(proc, ready, log_path, what, deadline):
                del pending[name]
        time.sleep(0.01)


# --- down -------------------------------------------------------------------------------------


def down(prefix: str | None = None) -> list[str]:
    """Remove everything of the lab with this prefix; idempotent, and works on half a lab.

    Returns what it removed (and any process it had to leave alone), one line each.
    """
    prefix = _resolve_prefix(prefix)
    preflight()
    names = LabNames(prefix)
    state = _read_state(names)
    existing = _existing_namespaces(_candidate_namespaces(names, state))
    removed: list[str] = []

    # 1. Our processes: the responder by its pid file, and any lab tool still inside a lab
    #    namespace (the pid file may be gone after a crash). A user's shell is left alone.
    ours: dict[int, str] = {}
    pid = _responder_pid(names, state)
    if pid is not None and _is_our_responder(pid, names):
        ours[pid] = "responder"
    for pid, netns, cmdline in _processes_in(existing):
        if _OUR_PROCESS_MARK in cmdline:
            ours.setdefault(pid, f"lab process in {netns}")
        else:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
            removed.append(f"left alone: pid {pid} ({shown[:60]}) inside {netns}")
    for pid, what in sorted(ours.items()):
        if _stop_process(pid):
            removed.append(f"process {pid} ({what})")

    # 2. Namespaces: deleting one destroys its interfaces, and a veth with it its peer, so
    #    the bridge ports, the bridge and every address go too.
    if existing:
        proc = subprocess.run(
            _ip_batch_argv(None, force=True),
            input="".join(f"netns del {ns}\n" for ns in existing),
            capture_output=True,
            text=True,
            check=False,
        )
        left = _existing_namespaces(existing)
        removed += [f"netns {ns}" for ns in existing if ns not in left]
        if left:
            raise LabError(
                f"could not remove namespaces {', '.join(left)}: {proc.stderr.strip()}",
                hint="retry `sudo ndaa-scan lab down`; `ip netns del NAME` removes one by hand",
            )

    # 3. State.
    if names.state_dir.exists():
        shutil.rmtree(names.state_dir, ignore_errors=True)
        removed.append(f"state {names.state_dir}")
    with contextlib.suppress(OSError):
        STATE_ROOT.rmdir()  # only if no other lab uses it
    return removed


def _processes_in(namespaces: Sequence[str]) -> Iterator[tuple[int, str, bytes]]:
    """(pid, namespace, cmdline) of every live process inside one of `namespaces`."""
    inodes: dict[tuple[int, int], str] = {}
    for ns in namespaces:
        with contextlib.suppress(OSError):
            st = os.stat(NETNS_DIR / ns)
            inodes[(st.st_dev, st.st_ino)] = ns
    if not inodes:
        return
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            st = os.stat(f"/proc/{entry.name}/ns/net")
        except OSError:
            continue
        netns = inodes.get((st.st_dev, st.st_ino))
        if netns is None:
            continue
        cmdline = _process_cmdline(int(entry.name))
        if cmdline is not None:
            yield int(entry.name), netns, cmdline


def _stop_process(pid: int, grace: float = 2.0) -> bool:
    """SIGTERM, then SIGKILL after `grace`; reap it if it is our child. True if it is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    child = _children.pop(pid, None)
    deadline = time.monotonic() + grace
    while True:
        if child is not None:
            if child.poll() is not None:
                return True
        elif _process_cmdline(pid) is None:
            return True
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if child is not None:
                child.wait(timeout=5)
            else:
                _wait_gone(pid, 5.0)
            return True
        time.sleep(0.005)


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _process_cmdline(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)


# --- status and attach ------------------------------------------------------------------------


def status(prefix: str | None = None) -> LabStatus:
    """Which of this prefix's namespaces exist and whether its responder runs (no root needed)."""
    prefix = _resolve_prefix(prefix)
    names = LabNames(prefix)
    state = _read_state(names)
    existing = _existing_namespaces(_candidate_namespaces(names, state))
    mode: Mode | None = None
    expected: list[str] = []
    if state is not None and state.get("mode") in ("standard", "scale"):
        mode = state["mode"]
        expected = [ns for ns in state.get("namespaces", []) if isinstance(ns, str)]
    elif any(ns in existing for ns in names.scale_namespaces()):
        mode, expected = "scale", names.scale_namespaces()
    elif existing:
        mode, expected = "standard", names.standard_namespaces()
    device_prefix = names.device_ns("")
    pid = _responder_pid(names, state)
    others: tuple[str, ...] = ()
    with contextlib.suppress(OSError):
        others = tuple(sorted(p.name for p in STATE_ROOT.iterdir() if p.name != prefix))
    return LabStatus(
        prefix=prefix,
        mode=mode,
        namespaces=tuple(existing),
        missing=tuple(ns for ns in expected if ns not in existing),
        devices=tuple(ns[len(device_prefix) :] for ns in existing if ns.startswith(device_prefix)),
        responder_pid=pid,
        responder_alive=pid is not None and _is_our_responder(pid, names),
        state_dir=str(names.state_dir) if names.state_dir.exists() else None,
        others=others,
    )


def attach(prefix: str | None = None) -> LabHandle:
    """The handle of a lab that is already up (e.g. built by `ndaa-scan lab up`)."""
    prefix = _resolve_prefix(prefix)
    names = LabNames(prefix)
    state = _read_state(names)
    current = status(prefix)
    if state is None or not current.healthy:
        raise UserError(
            f"no complete lab with prefix {prefix!r} is up",
            hint="build one with `sudo ndaa-scan lab up` (or `lab down` then `lab up`)",
        )
    if state["mode"] == "scale":
        hosts, fraction, seed = int(state["hosts"]), float(state["live_fraction"]), state["seed"]
        return LabHandle(
            prefix=prefix,
            mode="scale",
            netns=names.scale_scan,
            interface=SCALE_SCANNER_IFACE,
            scanner_ip=SCALE_SCANNER_IP,
            targets=scale_targets(hosts),
            hosts=hosts,
            live=live_count(hosts, fraction),
            live_fraction=fraction,
            seed=int(seed),
            namespaces=current.namespaces,
            responder_pid=current.responder_pid,
        )
    devices = _devices_from_state(state)
    routed = _devices_from_state({"devices": state.get("routed", [])})
    expected = standard_expected_arp(devices)
    return LabHandle(
        prefix=prefix,
        mode="standard",
        netns=names.scanner,
        interface=SCANNER_IFACE,
        scanner_ip=SCANNER_IP,
        targets=STANDARD_SUBNET,
        devices=devices,
        hosts=len(expected),
        live=len(expected),
        namespaces=current.namespaces,
        routed=routed,
    )


# --- context manager --------------------------------------------------------------------------


@contextlib.contextmanager
def lab(
    hosts: int | None = None,
    live_fraction: float = 1.0,
    seed: int = 0,
    *,
    devices: Sequence[LabDevice] = STANDARD_DEVICES,
    prefix: str | None = None,
    on_down: Callable[[list[str]], None] | None = None,
    routed: Sequence[LabDevice] = (),
) -> Iterator[LabHandle]:
    """`with lab() as handle:` - up on entry, always down on exit, Ctrl-C and SIGTERM included."""
    with _interruptible():
        handle = up(hosts, live_fraction, seed, devices=devices, prefix=prefix, routed=routed)
        try:
            yield handle
        finally:
            with _shielded():
                removed = down(handle.prefix)
            if on_down is not None:
                on_down(removed)
