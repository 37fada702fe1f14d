"""ARP sweep benchmark: ndaa-scan, arp-scan and nmap side by side over the scale lab.

    sudo python -m benchmarks.arp_sweep [--sizes 24,20,16] [--density 1.0,0.25] [--rate 10000]
        [--repeat N] [--out benchmarks/RESULTS.md]

Not a pass/fail test: it measures and writes a markdown report. For each subnet size (/24 = 256
hosts ... /16 = 65,536) and density (fraction of hosts that answer) it builds the scale lab once
(two namespaces joined by a veth, a userspace responder answering ARP for 198.18.0.0 + i with a
distinct MAC each) and sweeps it, in turn, with

  - ndaa-scan (`python -m scanner scan ... --rate R`, default retries and timeout),
  - arp-scan at the matched rate (`--interval=1e6/R u --retry=2 --timeout=500`: two attempts per
    host, 500 ms initial timeout, like ndaa-scan's one retry pass after 0.5 s of quiet),
  - nmap (`-sn -PR -n --min-rate R --max-rate R`),

then once more "unthrottled" (ndaa-scan --rate 100000, arp-scan --bandwidth=100M, nmap --min-rate
5000, as in design.md), plus nmap at default timing on the /24. Per run: wall time, CPU (user+sys
of the child, from wait4; `ip netns exec` execs the tool, so the rusage is the tool's own), peak
RSS (through GNU time when installed, see run_measured), recall (live hosts found with their
exact MAC, against the lab's ground truth) and the interface's frame counters.

Rate checks (densest lab only): ndaa-scan at --rate 500 on the /24 and 10,000 on the /16, run
through benchmarks.ndaa_phases (phase timers) while tcpdump records the requests on the wire, so
pacing is measured independently of the scanner's own clock.

Safety: frames are sent only inside the lab's own namespaces (prefix --prefix, default
"ndaa-bench-"; addresses in 198.18.0.0/15), and the lab is torn down on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import select
import shlex
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.lab import netns

DEFAULT_PREFIX = "ndaa-bench-"
DEFAULT_OUT = Path("benchmarks/RESULTS.md")
SCALE_BASE = "198.18.0.0"
TOOLS = ("ndaa-scan", "arp-scan", "nmap")

# ndaa-scan's defaults (scanner/cli.py), which the benchmark does not override.
NDAA_RETRIES = 1
NDAA_TIMEOUT = 0.5
NDAA_BACKOFF = 1.5
NDAA_DEFAULT_RATE = 500

# The "unthrottled" row of design.md's table.
UNTHROTTLED_NDAA_RATE = 100_000
UNTHROTTLED_ARP_SCAN = "--bandwidth=100M"
UNTHROTTLED_NMAP_MIN_RATE = 5000

RUN_TIMEOUT = 300.0  # seconds before a stuck tool is killed
IDLE_POLL = 0.1  # seconds between two looks at the responder's CPU counter
CLK_TCK = os.sysconf("SC_CLK_TCK")

MATCHED = "matched"
UNTHROTTLED = "unthrottled"
NMAP_DEFAULT = "nmap default"
RATE_CHECK = "rate check"


# --- measuring one child ----------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What one child process cost, from os.wait4."""

    wall: float
    user: float
    sys: float
    maxrss_kib: int
    returncode: int
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys


GNU_TIME = "/usr/bin/time"  # Debian package `time`


def rss_wrapper() -> str | None:
    """GNU time, if installed: it forks the tool from its own ~1 MiB image, so its %M is the
    tool's peak RSS (see run_measured for why our own wait4 cannot tell)."""
    return GNU_TIME if os.access(GNU_TIME, os.X_OK) else None


def run_measured(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = RUN_TIMEOUT,
    wrapper: str | None = None,
) -> Usage:
    """Run `argv` to completion; its wall time, CPU and peak RSS.

    CPU: os.wait4 on the child gives user+sys of that process and of the descendants it reaped
    (RUSAGE_BOTH), i.e. the tool's own, since `ip netns exec` execs it (and GNU time, if used,
    only waits). Peak RSS: Linux keeps, across exec, the high-water RSS of the image that
    exec'd, and a child forked (or vfork'd) from this benchmark starts as a copy of it, so its
    ru_maxrss is never below this process's peak (about 20 MiB, more after a /16's ground
    truth). With `wrapper` (GNU time) the tool is forked from a ~1 MiB process instead and the
    figure is the tool's own (floor: `ip netns exec` itself, about 2.3 MiB).

    The child gets its own process group, killed on timeout or Ctrl-C before it is reaped, so
    neither the tool nor a wrapper's grandchild can outlive the run (or the lab).
    """
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile())
        err = stack.enter_context(tempfile.TemporaryFile())
        full = list(argv)
        rss_file: Path | None = None
        if wrapper is not None:
            rss_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            rss_file = rss_dir / "rss"
            full = [wrapper, "-f", "%M", "-o", str(rss_file), "--", *full]
        start = time.perf_counter()
        proc = subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        pidfd = os.pidfd_open(proc.pid)
        timed_out = False
        try:
            ready, _, _ = select.select([pidfd], [], [], timeout)
            if not ready:
                timed_out = True
                _kill_group(proc.pid)
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: the child must not outlive us (nor the lab)
            _kill_group(proc.pid)
            with contextlib.suppress(ChildProcessError):
                os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            raise
        finally:
            os.close(pidfd)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
        maxrss = usage.ru_maxrss
        if rss_file is not None:
            maxrss = _gnu_time_rss(rss_file, maxrss)
        out.seek(0)
        err.seek(0)
        return Usage(
            wall=wall,
            user=usage.ru_utime,
            sys=usage.ru_stime,
            maxrss_kib=maxrss,
            returncode=proc.returncode,
            timed_out=timed_out,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def _kill_group(pgid: int) -> None:
    """SIGKILL the child's process group; safe while the leader is not yet reaped (a zombie
    still holds its pid, so the group id cannot have been reused)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _gnu_time_rss(path: Path, fallback: int) -> int:
    """The last line of GNU time's -o file is %M (KiB); earlier lines may say the exit status."""
    try:
        lines = path.read_text().split()
        return int(lines[-1])
    except (OSError, ValueError, IndexError):
        return fallback


# --- what each tool found ---------------------------------------------------------------------

Pairs = set[tuple[str, str]]  # (ip, lower-case mac)

_ARP_SCAN_LINE = re.compile(
    r"^(\d{1,3}(?:\.\d{1,3}){3})\s+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\b"
)


@dataclass(frozen=True)
class NdaaReport:
    pairs: Pairs
    probe_duration: float | None
    sent: int | None
    answered: int | None
    status: str | None


def parse_ndaa(doc: dict[str, Any]) -> NdaaReport:
    """Pairs from an ndaa-scan JSON report: each device's ip+mac and its other_ips."""
    pairs: Pairs = set()
    for device in doc.get("devices", []):
        mac = device.get("mac")
        if not mac:
            continue
        for ip in [device.get("ip"), *device.get("other_ips", [])]:
            if ip:
                pairs.add((ip, mac.lower()))
    arp = next((p for p in doc.get("scan", {}).get("probes", []) if p.get("name") == "arp"), None)
    if arp is None:
        return NdaaReport(pairs, None, None, None, None)
    return NdaaReport(
        pairs, arp.get("duration"), arp.get("sent"), arp.get("answered"), arp.get("status")
    )


def parse_arp_scan(text: str) -> Pairs:
    """Pairs from `arp-scan -q -x` output: "ip<TAB>mac" lines, maybe with a "(DUP: n)" tail."""
    pairs: Pairs = set()
    for line in text.splitlines():
        match = _ARP_SCAN_LINE.match(line)
        if match:
            pairs.add((match.group(1), match.group(2).lower()))
    return pairs


def parse_nmap_xml(text: str) -> Pairs:
    """Pairs from `nmap -oX -`: hosts whose status is up, with their ipv4 and mac address."""
    pairs: Pairs = set()
    if not text.strip():
        return pairs
    root = ET.fromstring(text)
    for host in root.iter("host"):
        status = host.find("status")
        if status is None or status.get("state") != "up":
            continue
        addrs = {a.get("addrtype"): a.get("addr") for a in host.findall("address")}
        ip, mac = addrs.get("ipv4"), addrs.get("mac")
        if ip and mac:
            pairs.add((ip, mac.lower()))
    return pairs


@dataclass(frozen=True)
class Score:
    found: int  # live hosts reported with their exact MAC
    wrong: int  # reported pairs that are not in the ground truth
    missing: tuple[str, ...]  # live addresses not reported with their MAC (sorted)


def score(pairs: Pairs, expected: dict[str, str]) -> Score:
    truth = {(ip, mac.lower()) for ip, mac in expected.items()}
    hit = pairs & truth
    found_ips = {ip for ip, _ in hit}
    missing = sorted((ip for ip in expected if ip not in found_ips), key=_ip_key)
    return Score(found=len(hit), wrong=len(pairs - truth), missing=tuple(missing))


def _ip_key(ip: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ip.split("."))


# --- the lab's side: wire counters and the responder ------------------------------------------


@dataclass(frozen=True)
class LabCounters:
    """Counters read around one run, so each run's share can be shown."""

    scan_tx: int  # frames scale0 sent (requests, all tools count the same way)
    scan_rx: int  # frames scale0 received (replies)
    scan_rx_dropped: int
    resp_rx_dropped: int
    responder_ticks: int  # utime+stime of the responder, in clock ticks
    responder: dict[str, float]  # the responder's own counters (answered, send_errors, ...)

    def minus(self, before: LabCounters) -> LabCounters:
        return LabCounters(
            scan_tx=self.scan_tx - before.scan_tx,
            scan_rx=self.scan_rx - before.scan_rx,
            scan_rx_dropped=self.scan_rx_dropped - before.scan_rx_dropped,
            resp_rx_dropped=self.resp_rx_dropped - before.resp_rx_dropped,
            responder_ticks=self.responder_ticks - before.responder_ticks,
            responder={
                k: v - before.responder.get(k, 0)
                for k, v in self.responder.items()
                if k != "uptime"
            },
        )


class LabProbe:
    """Reads counters of a scale lab that is up: interface statistics and the responder's."""

    def __init__(self, handle: netns.LabHandle) -> None:
        self.handle = handle
        self.names = netns.LabNames(handle.prefix)
        self.log = self.names.state_dir / "responder.log"
        self.pid = handle.responder_pid

    def _link_stats(self, ns: str, dev: str) -> dict[str, Any]:
        out = subprocess.run(
            ["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        stats: dict[str, Any] = json.loads(out)[0]["stats64"]
        return stats

    def responder_ticks(self) -> int:
        if self.pid is None:
            return 0
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)

    def responder_stats(self, wait: float = 2.0) -> dict[str, float]:
        """Ask the responder for its counters (SIGUSR1 makes it log one JSON line)."""
        if self.pid is None:
            return {}
        before = self._log_lines()
        try:
            os.kill(self.pid, signal.SIGUSR1)
        except ProcessLookupError:
            return {}
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            lines = self._log_lines()
            if len(lines) > len(before):
                for line in reversed(lines):
                    if line.startswith('{"responder"'):
                        stats: dict[str, float] = json.loads(line)["responder"]
                        return stats
            time.sleep(0.005)
        return {}

    def _log_lines(self) -> list[str]:
        try:
            return self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []

    def wait_idle(self, limit: float = 30.0) -> None:
        """Until the responder has used no CPU for two polls: it has answered every request
        still queued for it, so the next tool starts on a quiet lab."""
        deadline = time.monotonic() + limit
        last, still = self.responder_ticks(), 0
        while still < 2 and time.monotonic() < deadline:
            time.sleep(IDLE_POLL)
            now = self.responder_ticks()
            still = still + 1 if now == last else 0
            last = now

    def counters(self) -> LabCounters:
        scan = self._link_stats(self.handle.netns, self.handle.interface)
        resp = self._link_stats(self.names.scale_resp, self.names.scale_resp_iface)
        return LabCounters(
            scan_tx=scan["tx"]["packets"],
            scan_rx=scan["rx"]["packets"],
            scan_rx_dropped=scan["rx"]["dropped"],
            resp_rx_dropped=resp["rx"]["dropped"],
            responder_ticks=self.responder_ticks(),
            responder=self.responder_stats(),
        )


# --- on-wire timing: tcpdump inside the lab namespace -----------------------------------------

ARP_REQUEST = 1
ARP_REPLY = 2
_PCAP_USEC = 0xA1B2C3D4
_PCAP_NSEC = 0xA1B23C4D
_PCAP_RECORD = 16  # ts_sec, ts_frac, incl_len, orig_len


def read_pcap(data: bytes) -> list[tuple[float, int]]:
    """(timestamp, ARP op) of every ARP frame in a classic pcap file, in capture order."""
    if len(data) < 24:
        return []
    for endian in ("<", ">"):
        (magic,) = struct.unpack_from(endian + "I", data, 0)
        if magic in (_PCAP_USEC, _PCAP_NSEC):
            break
    else:
        raise ValueError("not a pcap file")
    scale = 1e-9 if magic == _PCAP_NSEC else 1e-6
    record = struct.Struct(endian + "IIII")
    frames: list[tuple[float, int]] = []
    offset = 24
    while offset + _PCAP_RECORD <= len(data):
        sec, frac, incl, _orig = record.unpack_from(data, offset)
        frame = data[offset + _PCAP_RECORD : offset + _PCAP_RECORD + incl]
        offset += _PCAP_RECORD + incl
        if len(frame) >= 22 and frame[12:14] == b"\x08\x06":
            frames.append((sec + frac * scale, int.from_bytes(frame[20:22], "big")))
    return frames


@dataclass(frozen=True)
class WireTiming:
    """What tcpdump saw on the scanner's interface during one run."""

    requests: tuple[float, ...]  # timestamps of ARP requests, in order
    replies: tuple[float, ...]
    dropped: int  # tcpdump's "packets dropped by kernel"

    @property
    def last_frame(self) -> float:
        return max(self.requests[-1:] + self.replies[-1:], default=0.0)

    def span(self) -> float:
        """First request to last frame (request or reply)."""
        return self.last_frame - self.requests[0] if self.requests else 0.0


def wire_rate(timestamps: Sequence[float]) -> float | None:
    """Requests per second between the first and the last of `timestamps`."""
    if len(timestamps) < 2 or timestamps[-1] <= timestamps[0]:
        return None
    return (len(timestamps) - 1) / (timestamps[-1] - timestamps[0])


class Capture:
    """tcpdump on the scanner's interface, inside the lab namespace: ARP only, 64-byte snaps,
    nanosecond timestamps, a 32 MiB buffer, immediate mode (without it the last partly filled
    TPACKET_V3 block is lost when tcpdump is stopped). Receives only; it sends nothing."""

    def __init__(self, handle: netns.LabHandle, path: Path) -> None:
        self.path = path
        self.argv = handle.exec_argv(
            [
                "tcpdump", "-i", handle.interface, "-w", str(path), "-s", "64", "-B", "32768",
                "-n", "-Z", "root", "--immediate-mode", "--time-stamp-precision=nano", "arp",
            ]
        )  # fmt: skip
        self.err = path.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.stderr = ""

    def __enter__(self) -> Capture:
        self.path.unlink(missing_ok=True)
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while "listening on" not in self._stderr():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._stop()
                raise RuntimeError(f"tcpdump did not start: {self._stderr().strip()}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.05)  # let the last frames reach tcpdump's socket
        self._stop()

    def _stderr(self) -> str:
        try:
            return self.err.read_text(errors="replace")
        except OSError:
            return ""

    def _stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # tcpdump flushes the file and prints counts
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr = self._stderr()

    def result(self) -> WireTiming:
        frames = read_pcap(self.path.read_bytes())
        match = re.search(r"(\d+) packets? dropped by kernel", self.stderr)
        return WireTiming(
            requests=tuple(t for t, op in frames if op == ARP_REQUEST),
            replies=tuple(t for t, op in frames if op == ARP_REPLY),
            dropped=int(match.group(1)) if match else -1,
        )


# --- one run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One lab: a subnet size and a density."""

    prefixlen: int
    density: float
    live: int

    @property
    def hosts(self) -> int:
        return 1 << (32 - self.prefixlen)

    @property
    def target(self) -> str:
        return f"{SCALE_BASE}/{self.prefixlen}"

    @property
    def label(self) -> str:
        return f"/{self.prefixlen} ({self.hosts:,})"


@dataclass(frozen=True)
class Job:
    tool: str
    kind: str  # MATCHED, UNTHROTTLED, NMAP_DEFAULT or RATE_CHECK
    setting: str  # how it was paced, for the table
    argv: tuple[str, ...]  # as run inside the lab namespace
    rate: int | None = None  # ndaa-scan's --rate

    @property
    def instrumented(self) -> bool:
        """Rate checks run under tcpdump and the phase timers (benchmarks.ndaa_phases)."""
        return self.kind == RATE_CHECK


@dataclass(frozen=True)
class Run:
    case: Case
    job: Job
    repeat: int
    usage: Usage
    score: Score
    lab: LabCounters
    ndaa: NdaaReport | None = None
    report_bytes: int | None = None
    wire: WireTiming | None = None
    phases: dict[str, Any] | None = None
    error: str | None = None


def ndaa_args(target: str, iface: str, rate: int, out: str) -> tuple[str, ...]:
    # Host discovery only, like arp-scan and `nmap -sn`: the ARP sweep, no discovery protocols
    # or per-host fingerprinting, and no run history written.
    only_arp = ("--probe", "arp", "--no-store")
    return ("scan", target, "-i", iface, "--rate", str(rate), *only_arp, "-o", out)


def arp_scan_argv(target: str, iface: str, pacing: str) -> tuple[str, ...]:
    return ("arp-scan", "-I", iface, pacing, "--retry=2", "--timeout=500", "-q", "-x", target)


def nmap_argv(target: str, iface: str, timing: Sequence[str]) -> tuple[str, ...]:
    return ("nmap", "-sn", "-PR", "-n", *timing, "-e", iface, "-oX", "-", target)


def interval_for(rate: int) -> str:
    """arp-scan's --interval for `rate` packets per second, in microseconds."""
    return f"--interval={max(1, round(1e6 / rate))}u"


RATE_CHECKS = {24: NDAA_DEFAULT_RATE, 16: 10_000}  # subnet size -> ndaa-scan --rate to check


def jobs_for(
    case: Case,
    iface: str,
    rate: int,
    workdir: Path,
    *,
    nmap_default: bool,
    rate_check: bool,
) -> list[Job]:
    t = case.target
    out = str(workdir / "ndaa.json")
    ndaa = (sys.executable, "-m", "scanner")
    jobs = [
        Job("ndaa-scan", MATCHED, f"--rate {rate}", (*ndaa, *ndaa_args(t, iface, rate, out)), rate),
        Job("arp-scan", MATCHED, interval_for(rate), arp_scan_argv(t, iface, interval_for(rate))),
        Job(
            "nmap",
            MATCHED,
            f"--min-rate {rate} --max-rate {rate}",
            nmap_argv(t, iface, ["--min-rate", str(rate), "--max-rate", str(rate)]),
        ),
        Job(
            "ndaa-scan",
            UNTHROTTLED,
            f"--rate {UNTHROTTLED_NDAA_RATE}",
            (*ndaa, *ndaa_args(t, iface, UNTHROTTLED_NDAA_RATE, out)),
            UNTHROTTLED_NDAA_RATE,
        ),
        Job(
            "arp-scan",
            UNTHROTTLED,
            UNTHROTTLED_ARP_SCAN,
            arp_scan_argv(t, iface, UNTHROTTLED_ARP_SCAN),
        ),
        Job(
            "nmap",
            UNTHROTTLED,
            f"--min-rate {UNTHROTTLED_NMAP_MIN_RATE}",
            nmap_argv(t, iface, ["--min-rate", str(UNTHROTTLED_NMAP_MIN_RATE)]),
        ),
    ]
    if case.prefixlen == 24 and nmap_default:
        jobs.append(Job("nmap", NMAP_DEFAULT, "default timing", nmap_argv(t, iface, [])))
    check = RATE_CHECKS.get(case.prefixlen)
    if rate_check and check is not None:
        phases = str(workdir / "phases.json")
        wrapped = (sys.executable, "-m", "benchmarks.ndaa_phases", phases)
        argv = (*wrapped, *ndaa_args(t, iface, check, out))
        jobs.append(Job("ndaa-scan", RATE_CHECK, f"--rate {check}", argv, check))
    return jobs


def ndaa_environment() -> dict[str, str]:
    """The lab's tool environment (the checkout importable, so `benchmarks` too) without
    NDAA_SCAN_* settings that would change the scan."""
    env = netns.tool_environment()
    return {k: v for k, v in env.items() if not k.startswith("NDAA_SCAN_")}


def execute(
    handle: netns.LabHandle,
    probe: LabProbe,
    case: Case,
    job: Job,
    repeat: int,
    expected: dict[str, str],
    workdir: Path,
    timeout: float,
    wrapper: str | None,
) -> Run:
    report = workdir / "ndaa.json"
    phases_file = workdir / "phases.json"
    for stale in (report, phases_file):
        stale.unlink(missing_ok=True)
    env = ndaa_environment() if job.tool == "ndaa-scan" else None
    argv = handle.exec_argv(job.argv)
    probe.wait_idle()
    before = probe.counters()
    wire = None
    if job.instrumented:
        with Capture(handle, workdir / "run.pcap") as capture:
            usage = run_measured(argv, env=env, cwd=str(workdir), timeout=timeout, wrapper=wrapper)
        wire = capture.result()
    else:
        usage = run_measured(argv, env=env, cwd=str(workdir), timeout=timeout, wrapper=wrapper)
    probe.wait_idle()
    delta = probe.counters().minus(before)
    error = None
    ndaa = None
    report_bytes = None
    phases = None
    pairs: Pairs = set()
    try:
        if job.tool == "ndaa-scan":
            report_bytes = report.stat().st_size
            ndaa = parse_ndaa(json.loads(report.read_text()))
            pairs = ndaa.pairs
            if job.instrumented:
                phases = json.loads(phases_file.read_text())
        elif job.tool == "arp-scan":
            pairs = parse_arp_scan(usage.stdout)
        else:
            pairs = parse_nmap_xml(usage.stdout)
    except (OSError, ValueError, ET.ParseError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    if usage.timed_out:
        error = f"killed after {timeout:.0f} s"
    elif error is None and job.tool != "ndaa-scan" and usage.returncode != 0:
        error = f"exit {usage.returncode}: {usage.stderr.strip()[-200:]}"
    return Run(
        case,
        job,
        repeat,
        usage,
        score(pairs, expected),
        delta,
        ndaa=ndaa,
        report_bytes=report_bytes,
        wire=wire,
        phases=phases,
        error=error,
    )


def describe(run: Run) -> str:
    extra = ""
    if run.ndaa is not None and run.ndaa.probe_duration is not None:
        extra = f" arp-phase {run.ndaa.probe_duration:.3f}s sent {run.ndaa.sent}"
    if run.wire is not None:
        rate = wire_rate(run.wire.requests[: run.case.hosts])
        extra += f" pass-1 on wire {rate or 0:,.0f}/s"
    missing = f" missing e.g. {', '.join(run.score.missing[:3])}" if run.score.missing else ""
    error = f" ERROR {run.error}" if run.error else ""
    return (
        f"{run.case.label} {run.case.density:.0%} {run.job.kind:<11} {run.job.tool:<9} "
        f"{run.job.setting:<33} wall {run.usage.wall:7.3f}s cpu {run.usage.cpu:6.3f}s "
        f"rss {run.usage.maxrss_kib / 1024:6.1f}MiB found {run.score.found}/{run.case.live} "
        f"req {run.lab.scan_tx} rep {run.lab.scan_rx}{extra}{missing}{error}"
    )


# --- the benchmark ----------------------------------------------------------------------------


@dataclass
class Bench:
    sizes: list[int]
    densities: list[float]
    rate: int
    repeat: int
    seed: int
    prefix: str
    nmap_default: bool
    timeout: float
    wrapper: str | None = field(default_factory=rss_wrapper)
    runs: list[Run] = field(default_factory=list)
    startup: list[Usage] = field(default_factory=list)  # `python -m scanner --help`

    def run(self, say: Callable[[str], None]) -> None:
        with tempfile.TemporaryDirectory(prefix="ndaa-bench-") as tmp:
            workdir = Path(tmp)
            for prefixlen in self.sizes:
                for density in self.densities:
                    self._one_lab(prefixlen, density, workdir, say)

    def _one_lab(
        self, prefixlen: int, density: float, workdir: Path, say: Callable[[str], None]
    ) -> None:
        hosts = 1 << (32 - prefixlen)
        with netns.lab(hosts=hosts, live_fraction=density, seed=self.seed, prefix=self.prefix) as h:
            if h.targets != f"{SCALE_BASE}/{prefixlen}":
                raise RuntimeError(f"lab targets {h.targets}, expected {SCALE_BASE}/{prefixlen}")
            case = Case(prefixlen, density, h.live)
            expected = h.expected_arp()
            if len(expected) != h.live:
                raise RuntimeError(f"ground truth has {len(expected)} hosts, lab says {h.live}")
            probe = LabProbe(h)
            say(f"lab {case.label} {density:.0%} live: {h.live} hosts, up in {h.elapsed:.2f} s")
            if not self.startup:
                argv = h.exec_argv([sys.executable, "-m", "scanner", "--help"])
                for _ in range(max(3, self.repeat)):
                    self.startup.append(
                        run_measured(
                            argv, env=ndaa_environment(), cwd=str(workdir), wrapper=self.wrapper
                        )
                    )
            jobs = jobs_for(
                case,
                h.interface,
                self.rate,
                workdir,
                nmap_default=self.nmap_default,
                rate_check=density == max(self.densities),
            )
            for repeat in range(self.repeat):
                for job in jobs:
                    run = execute(
                        h, probe, case, job, repeat, expected, workdir, self.timeout, self.wrapper
                    )
                    self.runs.append(run)
                    say(describe(run))


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """The runs of one (case, job), summarised over repeats."""

    case: Case
    job: Job
    runs: tuple[Run, ...]

    @property
    def wall(self) -> float:
        return statistics.median(r.usage.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.usage.cpu for r in self.runs)

    @property
    def rss_mib(self) -> float:
        return max(r.usage.maxrss_kib for r in self.runs) / 1024

    @property
    def found(self) -> int:
        return min(r.score.found for r in self.runs)

    @property
    def wrong(self) -> int:
        return max(r.score.wrong for r in self.runs)

    @property
    def requests(self) -> float:
        return self.median(lambda r: r.lab.scan_tx)

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.runs if r.error]

    def median(self, value: Callable[[Run], float]) -> float:
        return statistics.median(value(r) for r in self.runs)

    def arp_phase(self) -> float | None:
        values = [r.ndaa.probe_duration for r in self.runs if r.ndaa and r.ndaa.probe_duration]
        return statistics.median(values) if values else None


def rows_of(runs: Iterable[Run]) -> list[Row]:
    groups: dict[tuple[Case, Job], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.case, run.job), []).append(run)
    return [Row(case, job, tuple(rs)) for (case, job), rs in groups.items()]


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"


def _pct(x: float) -> str:
    return "100%" if x == 1 else f"{x:.2%}" if x > 0.99 else f"{x:.0%}"


def _secs(x: float) -> str:
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.2f}" if abs(x) < 100 else f"{x:.1f}"


def _density(case: Case) -> str:
    return f"{case.density:.0%}"


KIND_TITLE = {
    MATCHED: "matched rate",
    UNTHROTTLED: "unthrottled",
    NMAP_DEFAULT: "nmap default timing",
    RATE_CHECK: "rate check*",
}


def quiet_seconds(sent: int, targets: int, answered: int) -> float:
    """ndaa-scan's quiet periods with --retries 1: a pass that leaves a target unanswered ends
    after 0.5 s of quiet (the retry pass after 0.75 s); a pass whose targets all answered ends
    at once. So: none if pass 1 got every answer, else 0.5 s, plus 0.75 s if the retry pass
    still left some unanswered. (Scanners before that early exit always waited 0.5 s more.)"""
    if sent <= targets:
        return 0.0 if answered >= targets else NDAA_TIMEOUT
    return NDAA_TIMEOUT + (NDAA_TIMEOUT * NDAA_BACKOFF if answered < targets else 0.0)


def model_probe_seconds(sent: int, targets: int, answered: int, rate: int) -> float:
    """ndaa-scan's expected ARP phase: every request paced at `rate`, plus the quiet periods."""
    return sent / rate + quiet_seconds(sent, targets, answered)


def run_quiet(run: Run) -> float | None:
    if run.ndaa is None or run.ndaa.sent is None or run.ndaa.answered is None:
        return None
    return quiet_seconds(run.ndaa.sent, run.case.hosts, run.ndaa.answered)


def run_model(run: Run) -> float | None:
    """The model for one ndaa-scan run, at its job's --rate."""
    quiet = run_quiet(run)
    if quiet is None or run.job.rate is None or run.ndaa is None or run.ndaa.sent is None:
        return None
    return run.ndaa.sent / run.job.rate + quiet


def tool_version(argv: Sequence[str], pattern: str) -> str:
    try:
        text = subprocess.run(list(argv), capture_output=True, text=True, check=False).stdout
    except OSError:
        return f"{argv[0]}: not installed"
    match = re.search(pattern, text)
    if match:
        return match.group(0)
    return text.strip().splitlines()[0] if text.strip() else f"{argv[0]}: ?"


def machine() -> list[str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    # Read-only git: GIT_OPTIONAL_LOCKS=0 keeps even `git diff` from refreshing the index.
    git_env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        env=git_env,
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "diff", "--name-only", "HEAD", "--", "scanner", "reports", "fingerprints"],
        capture_output=True,
        text=True,
        check=False,
        env=git_env,
    ).stdout.split()
    tree = f"uncommitted changes in {', '.join(changed)}" if changed else "no uncommitted changes"
    from scanner import __version__

    return [
        f"- CPU: nproc {len(os.sched_getaffinity(0))} ({os.cpu_count()} x {cpu})",
        f"- Kernel: {platform.system()} {platform.release()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- ndaa-scan {__version__}: commit {commit or '?'}, {tree} (the scanner is measured as "
        "it is in the working tree)",
        f"- {tool_version(['arp-scan', '--version'], r'arp-scan [0-9.]+')}",
        f"- {tool_version(['nmap', '--version'], r'Nmap version [0-9.]+')}",
        f"- {tool_version(['tcpdump', '--version'], r'tcpdump version [0-9.]+')}"
        " (rate checks only)",
    ]


def render(bench: Bench, command: str, started: datetime, elapsed: float) -> str:
    rows = rows_of(bench.runs)
    out: list[str] = []
    add = out.append
    add("# ARP sweep benchmark: ndaa-scan, arp-scan and nmap side by side")
    add("")
    add("Generated by `benchmarks/arp_sweep.py` (not a pass/fail test); re-run it to refresh.")
    add("")
    add(f"- Command: `{command}` (as root)")
    add(f"- Date: {started:%Y-%m-%d %H:%M} UTC; the whole run took {elapsed:.0f} s")
    add(
        f"- Repeats per configuration: {bench.repeat} (wall, CPU and counts are medians, RSS "
        "the maximum, found the minimum over repeats)"
    )
    add(
        "- Testbed: the scale lab (`scanner/lab`): two network namespaces joined by one veth; "
        "a userspace Python responder (`scanner.lab.responder`) answers ARP for 198.18.0.0 + i "
        f"with a distinct MAC each; live hosts a pseudo-random subset (seed {bench.seed}). "
        "The lab is built once per size and density and every tool sweeps it in turn; each "
        "run starts once the responder has been idle for 0.2 s."
    )
    add("")
    add("Machine:")
    add("")
    out += machine()
    add("")
    add("Commands (inside the scanner namespace, via `ip netns exec`; R = matched rate):")
    add("")
    add(
        "- ndaa-scan: `python -m scanner scan 198.18.0.0/N -i scale0 --rate R -o out.json` "
        f"(defaults: --retries {NDAA_RETRIES}, --timeout {NDAA_TIMEOUT}); unthrottled: "
        f"`--rate {UNTHROTTLED_NDAA_RATE}`"
    )
    add(
        "- arp-scan: `arp-scan -I scale0 --interval=<1e6/R>u --retry=2 --timeout=500 -q -x "
        f"198.18.0.0/N`; unthrottled: `{UNTHROTTLED_ARP_SCAN}` instead of `--interval`"
    )
    add(
        "- nmap: `nmap -sn -PR -n --min-rate R --max-rate R -e scale0 -oX - 198.18.0.0/N`; "
        f"unthrottled: `--min-rate {UNTHROTTLED_NMAP_MIN_RATE}` only; default timing: neither"
    )
    add(
        "- \\* rate check: ndaa-scan at the given --rate, run through "
        "`python -m benchmarks.ndaa_phases` (the same CLI in-process, with timers around six "
        "functions) while tcpdump records ARP on scale0; on the largest density only"
    )
    add("")
    rss = (
        "RSS = the tool's peak resident set, from GNU time's %M (the tool is forked from GNU "
        "time's small image, so the figure is not inflated by this benchmark's own memory; "
        "floor about 2.3 MiB, `ip netns exec` itself)"
        if bench.wrapper
        else "RSS = ru_maxrss from wait4 (GNU time is not installed, so this is at least the "
        "benchmark process's own peak: an upper bound)"
    )
    add(
        "Columns: wall = from spawn to reap; CPU = user+sys of the tool's process (os.wait4); "
        f"{rss}; found = live hosts reported with their exact MAC (ndaa-scan: devices' ip and "
        "other_ips); wrong = reported (ip, mac) pairs not in the ground truth; req / rep = "
        "frames the scanner's interface sent / received during the run (kernel counters); "
        "responder CPU = the responder's user+sys during the run."
    )
    add("")
    add("## Results")
    add("")
    add(
        "| subnet | live | run | tool | pacing | wall s | CPU s | peak RSS MiB | found / live "
        "| recall | wrong | req / rep | responder CPU s |"
    )
    add("|---|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for row in rows:
        c = row.case
        rep = row.median(lambda r: r.lab.scan_rx)
        resp_cpu = row.median(lambda r: r.lab.responder_ticks / CLK_TCK)
        note = f" {'; '.join(row.errors)}" if row.errors else ""
        add(
            f"| {c.label} | {_density(c)} ({c.live:,}) | {KIND_TITLE[row.job.kind]} "
            f"| {row.job.tool} | `{row.job.setting}` | {_secs(row.wall)} | {_secs(row.cpu)} "
            f"| {row.rss_mib:.1f} | {row.found:,} / {c.live:,} | {_pct(row.found / c.live)} "
            f"| {row.wrong} | {row.requests:,.0f} / {rep:,.0f} | {resp_cpu:.2f} |{note}"
        )
    add("")
    add("## Ratios (ndaa-scan ÷ peer, same lab, same run; below 1 means ndaa-scan used less)")
    add("")
    add("| subnet | live | run | wall ÷ arp-scan | CPU ÷ arp-scan | wall ÷ nmap | CPU ÷ nmap |")
    add("|---|---|---|--:|--:|--:|--:|")
    by_key = {(r.case, r.job.kind, r.job.tool): r for r in rows}
    for row in rows:
        if row.job.tool != "ndaa-scan" or row.job.kind not in (MATCHED, UNTHROTTLED):
            continue
        cells = []
        for tool in ("arp-scan", "nmap"):
            peer = by_key.get((row.case, row.job.kind, tool))
            if peer is None:
                cells += ["-", "-"]
            else:
                cells += [_ratio(row.wall, peer.wall), _ratio(row.cpu, peer.cpu)]
        add(
            f"| {row.case.label} | {_density(row.case)} | {KIND_TITLE[row.job.kind]} "
            f"| {' | '.join(cells)} |"
        )
    add("")
    add(f"## Matched rate: wall time over the pacing floor (requests on the wire ÷ {bench.rate:,})")
    add("")
    add(
        "| subnet | live | tool | requests | floor s | wall s | wall - floor s "
        "| ndaa-scan ARP phase s |"
    )
    add("|---|---|---|--:|--:|--:|--:|--:|")
    for row in rows:
        if row.job.kind != MATCHED:
            continue
        floor = row.requests / bench.rate
        phase = row.arp_phase()
        add(
            f"| {row.case.label} | {_density(row.case)} | {row.job.tool} | {row.requests:,.0f} "
            f"| {_secs(floor)} | {_secs(row.wall)} | {_secs(row.wall - floor)} "
            f"| {'' if phase is None else _secs(phase)} |"
        )
    add("")
    out += render_rate(bench, rows)
    out += render_phases(rows)
    out += render_targets(bench, rows)
    if bench.startup:
        wall = statistics.median(u.wall for u in bench.startup)
        cpu = statistics.median(u.cpu for u in bench.startup)
        start_rss = max(u.maxrss_kib for u in bench.startup) / 1024
        add(
            "Start-up alone, `python -m scanner --help` in the same namespace: "
            f"{wall:.3f} s wall, {cpu:.3f} s CPU, {start_rss:.1f} MiB peak RSS "
            f"(median of {len(bench.startup)})."
        )
        add("")
    add("## Interpretation")
    add("")
    out += interpretation(bench, rows)
    add("")
    return "\n".join(out)


def render_rate(bench: Bench, rows: list[Row]) -> list[str]:
    out: list[str] = []
    add = out.append
    add("## Rate accuracy")
    add("")
    checks = [r for r in rows if r.job.kind == RATE_CHECK]
    if checks:
        add(
            "On the wire (tcpdump on scale0, rate-check runs): requests of each pass, the time "
            "from its first to its last request, and the rate that gives ((n - 1) / span)."
        )
        add("")
        add(
            "| subnet | live | --rate | pass | requests | span s | (n - 1) / R s | rate /s "
            "| deviation |"
        )
        add("|---|---|--:|--:|--:|--:|--:|--:|--:|")
        for row in checks:
            run = row.runs[0]
            if run.wire is None or row.job.rate is None:
                continue
            rate = row.job.rate
            passes = [run.wire.requests[: row.case.hosts], run.wire.requests[row.case.hosts :]]
            for number, stamps in enumerate(passes, 1):
                if len(stamps) < 2:
                    continue
                got = wire_rate(stamps) or 0.0
                add(
                    f"| {row.case.label} | {_density(row.case)} | {rate:,} | {number} "
                    f"| {len(stamps):,} | {_secs(stamps[-1] - stamps[0])} "
                    f"| {_secs((len(stamps) - 1) / rate)} | {got:,.0f} | {got / rate - 1:+.1%} |"
                )
        add("")
        drops = {r.runs[0].wire.dropped for r in checks if r.runs[0].wire is not None}
        add(f"tcpdump's own drops: {', '.join(str(d) for d in sorted(drops))} (-1: not reported).")
        add("")
    add(
        "ARP phase (the JSON's `scan.probes[0].duration`) against the model sent / R + quiet "
        f"periods ({NDAA_TIMEOUT} s after pass 1 unless every target answered in it, "
        f"{NDAA_TIMEOUT * NDAA_BACKOFF:g} s after the retry pass unless every target had "
        "answered by then; a pass whose targets all answered ends at once). Where tcpdump ran, "
        "'not on the wire' = ARP phase - (first request to last frame) "
        "- final quiet period: time inside the ARP phase spent neither sending, receiving nor "
        "waiting (socket set-up before the first request, processing replies after the last "
        f"quiet period). Unthrottled rows: --rate {UNTHROTTLED_NDAA_RATE:,} is a cap, not a "
        "pace the sender is expected to reach."
    )
    add("")
    add(
        "| subnet | live | run | --rate | sent | ARP phase s | model s | excess s | deviation "
        "| not on the wire s | wall s | wall - ARP phase s | JSON MB |"
    )
    add("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for row in rows:
        if row.job.tool != "ndaa-scan" or row.job.rate is None:
            continue
        runs = [r for r in row.runs if r.ndaa and r.ndaa.probe_duration and r.ndaa.sent]
        if not runs:
            continue
        phase = statistics.median(r.ndaa.probe_duration or 0.0 for r in runs if r.ndaa)
        sent = int(statistics.median(r.ndaa.sent or 0 for r in runs if r.ndaa))
        model = statistics.median(run_model(r) or 0.0 for r in runs)
        extra = off_wire(runs[0])
        outside = "" if extra is None else _secs(extra)
        size = statistics.median(r.report_bytes or 0 for r in runs) / 1e6
        cap = " (cap)" if row.job.kind == UNTHROTTLED else ""
        add(
            f"| {row.case.label} | {_density(row.case)} | {KIND_TITLE[row.job.kind]} "
            f"| {row.job.rate:,}{cap} | {sent:,} | {_secs(phase)} | {_secs(model)} "
            f"| {phase - model:+.3f} | {(phase - model) / model:+.1%} | {outside} "
            f"| {_secs(row.wall)} | {_secs(row.wall - phase)} | {size:.1f} |"
        )
    add("")
    return out


def off_wire(run: Run) -> float | None:
    """Time inside ndaa-scan's ARP phase outside first request .. last frame + final quiet
    period (the quiet period after pass 1 lies inside the span when a retry pass ran)."""
    if run.wire is None or not run.wire.requests or run.ndaa is None:
        return None
    if run.ndaa.probe_duration is None or run.ndaa.sent is None:
        return None
    final_quiet = run_quiet(run) or 0.0
    if run.ndaa.sent > run.case.hosts:
        final_quiet -= NDAA_TIMEOUT
    return run.ndaa.probe_duration - run.wire.span() - final_quiet


def render_targets(bench: Bench, rows: list[Row]) -> list[str]:
    """design.md's performance targets next to what was measured (MB = 10^6 bytes)."""
    by = {(r.case.prefixlen, r.case.density, r.job.kind, r.job.tool): r for r in rows}
    lines = [
        "## Against design.md's performance targets",
        "",
        "| target | measured (ndaa-scan) |",
        "|---|---|",
    ]

    def mb(row: Row) -> str:
        return f"{row.rss_mib * 1.048576:.0f} MB"

    for density in bench.densities:
        row = by.get((16, density, UNTHROTTLED, "ndaa-scan"))
        if row is None:
            continue
        phase = row.arp_phase()
        lines.append(
            f"| unthrottled /16 ≤ 1.2 s wall, {density:.0%} live | {row.wall:.2f} s wall "
            f"(ARP phase {phase or 0:.2f} s); found {row.found:,}/{row.case.live:,} |"
        )
        lines.append(
            f"| … CPU ≤ 1.5 s, peak memory ≤ 60 MB | {row.cpu:.2f} s CPU, {mb(row)} peak RSS |"
        )
    for kind in (UNTHROTTLED, MATCHED):
        row = by.get((24, max(bench.densities), kind, "ndaa-scan"))
        if row is not None:
            lines.append(
                f"| a /24 in ≤ 0.3 s ({KIND_TITLE[kind]}, {max(bench.densities):.0%} live) "
                f"| {row.wall:.2f} s wall (ARP phase {row.arp_phase() or 0:.2f} s), {mb(row)} |"
            )
    for row in rows:
        run = row.runs[0]
        if row.job.kind != RATE_CHECK or run.wire is None or row.job.rate is None:
            continue
        got = wire_rate(run.wire.requests[: row.case.hosts])
        if got is None or run.ndaa is None or not run.ndaa.probe_duration or not run.ndaa.sent:
            continue
        model = run_model(run) or 1.0
        text = (
            f"| at --rate {row.job.rate:,}, n/R + quiet period within 10% ({row.case.label}) "
            f"| pacing on the wire {got / row.job.rate - 1:+.1%}; ARP phase "
            f"{run.ndaa.probe_duration / model - 1:+.1%} (rate-check run)"
        )
        for other in rows:
            first = other.runs[0]
            if (
                other.job.kind == MATCHED
                and other.job.tool == "ndaa-scan"
                and other.job.rate == row.job.rate
                and other.case == row.case
                and first.ndaa is not None
                and first.ndaa.probe_duration
            ):
                other_model = run_model(first) or 1.0
                text += f", {first.ndaa.probe_duration / other_model - 1:+.1%} (matched-rate run)"
        lines.append(text + " |")
    if bench.startup:
        wall = statistics.median(u.wall for u in bench.startup)
        lines.append(f"| `ndaa-scan --help` ≤ 0.3 s | {wall:.3f} s (`python -m scanner --help`) |")
    lines.append("")
    return lines


def render_phases(rows: list[Row]) -> list[str]:
    checks = [r for r in rows if r.job.kind == RATE_CHECK and r.runs[0].phases]
    if not checks:
        return []
    out = [
        "## Where ndaa-scan's wall time goes (rate-check runs, phase timers)",
        "",
        "Timers around single calls inside the CLI process (wall, and CPU of the thread that "
        "ran it); 'start-up' is the measured wall minus the process's own clock (interpreter "
        "start, `ip netns exec`, GNU time); 'rest' is everything else inside the process "
        "(imports, CLI parsing, listing interfaces, planning, thread hand-offs).",
        "",
        "| subnet | live | --rate | phase | wall s | CPU s | peak RSS after, MiB |",
        "|---|---|--:|---|--:|--:|--:|",
    ]
    for row in checks:
        run = row.runs[0]
        data = run.phases or {}
        head = f"| {row.case.label} | {_density(row.case)} | {row.job.rate:,} "
        total = float(data.get("total", 0.0))
        out.append(f"{head}| start-up | {_secs(run.usage.wall - total)} | | |")
        accounted = 0.0
        for phase in data.get("phases", []):
            accounted += phase["wall"]
            out.append(
                f"{head}| {phase['name']} | {_secs(phase['wall'])} | {_secs(phase['cpu'])} "
                f"| {phase['maxrss_kib'] / 1024:.0f} |"
            )
        out.append(f"{head}| rest | {_secs(total - accounted)} | | |")
        out.append(
            f"{head}| **total** | {_secs(run.usage.wall)} | {_secs(run.usage.cpu)} "
            f"| {run.usage.maxrss_kib / 1024:.0f} |"
        )
        for name in data.get("missing", []):
            out.append(f"{head}| {name}: not found in this scanner version | | | |")
    out.append("")
    return out


def _span(values: Sequence[float]) -> str:
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return f"{lo:.2f} s" if abs(hi - lo) < 0.005 else f"{lo:.2f}-{hi:.2f} s"


def interpretation(bench: Bench, rows: list[Row]) -> list[str]:
    """Statements computed from the measurements, so they cannot drift from the tables."""
    lines: list[str] = []
    add = lines.append

    # Recall.
    for tool in TOOLS:
        mine = [r for r in rows if r.job.tool == tool]
        if not mine:
            continue
        low = [r for r in mine if r.found < r.case.live]
        wrong = sum(r.wrong for r in mine)
        if not low:
            add(
                f"- Recall, {tool}: every live host with its exact MAC in all {len(mine)} "
                f"configurations{', no wrong pair' if not wrong else f', {wrong} wrong pairs'}."
            )
            continue
        what = "; ".join(
            f"{r.case.label} {_density(r.case)} {KIND_TITLE[r.job.kind]} `{r.job.setting}`: "
            f"{r.found:,}/{r.case.live:,} "
            f"(replies on the wire {r.median(lambda x: x.lab.scan_rx):,.0f})"
            for r in low
        )
        add(f"- Recall, **{tool} below 100%**: {what}.")

    # Matched rate: what bounds each tool.
    matched = [r for r in rows if r.job.kind == MATCHED]
    for tool in TOOLS:
        full = [
            r.wall - r.requests / bench.rate
            for r in matched
            if r.job.tool == tool and r.case.density == 1
        ]
        part = [
            r.wall - r.requests / bench.rate
            for r in matched
            if r.job.tool == tool and r.case.density < 1
        ]
        reqs = [
            r.requests / r.case.hosts for r in matched if r.job.tool == tool and r.case.density < 1
        ]
        text = f"- Matched rate, {tool}: wall exceeded the pacing floor by {_span(full)}"
        text += " at 100% density"
        if part:
            per = (
                f"{min(reqs):.2f}"
                if max(reqs) - min(reqs) < 0.005
                else (f"{min(reqs):.2f}-{max(reqs):.2f}")
            )
            text += f" and {_span(part)} at lower density, with {per} requests per address"
        add(text + ".")
    phases = [
        (r.arp_phase() or 0.0) - r.requests / bench.rate
        for r in matched
        if r.job.tool == "ndaa-scan" and r.case.density == 1
    ]
    arp_full = [
        r.wall - r.requests / bench.rate
        for r in matched
        if r.job.tool == "arp-scan" and r.case.density == 1
    ]
    if phases:
        if min(phases) < NDAA_TIMEOUT / 2:
            text = (
                f"  ndaa-scan's ARP phase alone (from its JSON) exceeded the floor by "
                f"{_span(phases)} at 100% density: {min(phases):.2f} s on the smallest subnet, so "
                "it does not wait out its quiet period once every target has answered; the excess "
                "grows with the number of replies, and the rate-check rows put it outside "
                "sending and receiving ('not on the wire': set-up and reply processing)"
            )
        else:
            text = (
                f"  ndaa-scan's ARP phase alone (from its JSON) exceeded the floor by "
                f"{_span(phases)} at 100% density; that includes its {NDAA_TIMEOUT} s quiet "
                "period, which this scanner version runs even when every target has answered"
            )
        if arp_full and max(arp_full) < NDAA_TIMEOUT / 2:
            text += (
                f"; arp-scan (whole process: {_span(arp_full)} over the floor) also exits "
                "without waiting out its 500 ms timeout once every host has replied"
            )
        add(
            text + ". At lower density ndaa-scan and arp-scan both send a second pass to the "
            "silent addresses (the requests-per-address figure) and wait after each pass "
            "(ndaa-scan 0.5 s then 0.75 s of quiet; arp-scan 500 ms then x 1.5 backoff); "
            "nmap's waits are not fixed: its timeouts adapt to the round-trip times it measures."
        )
    # Post-sweep cost, from the phase timers.
    for row in rows:
        if row.job.kind != RATE_CHECK or not row.runs[0].phases:
            continue
        run = row.runs[0]
        data = run.phases or {}
        named = {p["name"]: p for p in data.get("phases", [])}
        parts = [f"start-up {run.usage.wall - float(data.get('total', 0.0)):.2f} s"]
        for name in ("ARP sweep", "identify", "policy", "write report", "print summary"):
            if name in named:
                parts.append(f"{name} {named[name]['wall']:.2f} s")
        size = (run.report_bytes or 0) / 1e6
        add(
            f"- ndaa-scan on the {row.case.label} at {_density(row.case)}, --rate {row.job.rate}: "
            f"{run.usage.wall:.2f} s wall, {run.usage.cpu:.2f} s CPU, peak RSS "
            f"{run.usage.maxrss_kib / 1024:.0f} MiB; "
            + ", ".join(parts)
            + f" (the JSON report is {size:.1f} MB)."
        )
    # Rate accuracy on the wire.
    for row in rows:
        run = row.runs[0]
        if row.job.kind != RATE_CHECK or run.wire is None or row.job.rate is None:
            continue
        first = run.wire.requests[: row.case.hosts]
        got = wire_rate(first)
        if got is None:
            continue
        text = (
            f"- Pacing at --rate {row.job.rate:,} ({row.case.label}): pass 1 left at {got:,.0f} "
            f"requests/s on the wire ({got / row.job.rate - 1:+.1%})"
        )
        extra = off_wire(run)
        if extra is not None and run.ndaa and run.ndaa.probe_duration and run.ndaa.sent:
            model = run_model(run) or 1.0
            text += (
                f"; the JSON's ARP phase was {run.ndaa.probe_duration:.3f} s against "
                f"n/R + quiet = {model:.3f} s ({run.ndaa.probe_duration / model - 1:+.1%}), of "
                f"which {extra:.3f} s was spent neither sending, receiving nor waiting"
            )
        add(text + ".")
    # Unthrottled.
    unthrottled = [r for r in rows if r.job.kind == UNTHROTTLED]
    pieces = []
    for r in unthrottled:
        if r.case.prefixlen != min(bench.sizes) or r.case.density != max(bench.densities):
            continue
        cpu = r.median(lambda x: x.lab.responder_ticks / CLK_TCK)
        if r.job.tool == "ndaa-scan" and r.arp_phase():
            busy = (r.arp_phase() or 0.0) - (run_quiet(r.runs[0]) or 0.0)
            rate = f" (≥ {r.requests / busy:,.0f}/s outside quiet periods)" if busy > 0 else ""
            pieces.append(
                f"ndaa-scan {r.requests:,.0f} requests, ARP phase {r.arp_phase():.2f} s"
                f"{rate}, wall {r.wall:.2f} s, responder CPU {cpu:.2f} s"
            )
        else:
            pieces.append(
                f"{r.job.tool} {r.requests:,.0f} requests in {r.wall:.2f} s wall, "
                f"responder CPU {cpu:.2f} s"
            )
    if pieces:
        add(f"- Unthrottled on the /{min(bench.sizes)}: " + "; ".join(pieces) + ".")
    # Frames lost inside the lab.
    dropped = [
        r
        for r in bench.runs
        if r.lab.scan_rx_dropped or r.lab.resp_rx_dropped or r.lab.responder.get("send_errors")
    ]
    if dropped:
        add(
            "- Frames lost in the lab during: "
            + "; ".join(
                f"{r.case.label} {r.job.tool} `{r.job.setting}` (scanner rx dropped "
                f"{r.lab.scan_rx_dropped}, responder rx dropped {r.lab.resp_rx_dropped}, "
                f"responder send errors {r.lab.responder.get('send_errors', 0):.0f})"
                for r in dropped
            )
            + "."
        )
    else:
        add(
            "- No frame was dropped on either veth end during any run, and the responder "
            "reported no send error."
        )
    return lines


# --- command line -----------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    values = [int(v.strip().lstrip("/")) for v in text.split(",") if v.strip()]
    for v in values:
        if not 16 <= v <= 32:
            raise argparse.ArgumentTypeError(f"subnet size /{v} is outside /16../32")
    return values


def _float_list(text: str) -> list[float]:
    values = [float(v.strip().rstrip("%")) for v in text.split(",") if v.strip()]
    values = [v / 100 if v > 1 else v for v in values]
    for v in values:
        if not 0 < v <= 1:
            raise argparse.ArgumentTypeError(f"density {v} is outside (0, 1]")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.arp_sweep",
        description="Sweep the scale lab with ndaa-scan, arp-scan and nmap; write a markdown "
        "table of wall time, CPU, peak RSS and recall (needs root).",
    )
    parser.add_argument("--sizes", type=_int_list, default=[24, 20, 16], help="e.g. 24,20,16")
    parser.add_argument("--density", type=_float_list, default=[1.0, 0.25], help="e.g. 1.0,0.25")
    parser.add_argument("--rate", type=int, default=10_000, help="matched rate, packets/s")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration")
    parser.add_argument("--seed", type=int, default=0, help="which hosts are live")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown report")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="lab name prefix")
    parser.add_argument("--run-timeout", type=float, default=RUN_TIMEOUT, help="seconds per run")
    parser.add_argument(
        "--no-nmap-default",
        dest="nmap_default",
        action="store_false",
        help="skip nmap at default timing on the /24",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.rate <= UNTHROTTLED_NDAA_RATE:
        parser.error(f"--rate must be between 1 and {UNTHROTTLED_NDAA_RATE}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("benchmarks.arp_sweep needs root (it builds the lab)", file=sys.stderr)
        return 2
    given = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "-m", "benchmarks.arp_sweep", *given])
    bench = Bench(
        sizes=args.sizes,
        densities=args.density,
        rate=args.rate,
        repeat=args.repeat,
        seed=args.seed,
        prefix=args.prefix,
        nmap_default=args.nmap_default,
        timeout=args.run_timeout,
    )
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        bench.run(_say)
    except KeyboardInterrupt:
        _say("interrupted: the lab was removed; no report written")
        return 130
    text = render(bench, command, started, time.perf_counter() - t0)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    _say(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
