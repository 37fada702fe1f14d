"""`ndaa-scan lab ...`: build, inspect and remove the virtual facility network.

Only argument handling and printing live here; the work is in `scanner.lab.netns`. UserError is
raised as is: the main CLI turns it into a message and exit code 2.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from scanner.errors import UserError
from scanner.lab.topology import (
    PREFIX_ENV,
    SCALE_DAHUA_OUI,
    SCALE_DECOY_OUI,
    SCALE_HIKVISION_OUI,
    SCALE_MAX_HOSTS,
    lab_prefix,
)

if TYPE_CHECKING:
    from scanner.lab.netns import LabHandle

console = Console()

lab_app = typer.Typer(
    help=(
        "A virtual facility network to scan, built from Linux network namespaces (needs root).\n\n"
        "`lab up` builds a small site: a switch (bridge), a scanner namespace and one namespace "
        "per device - Hikvision, Dahua, Hytera, Huawei and ZTE equipment and decoys that must "
        "not be flagged - each with its vendor's real MAC. `lab up --hosts N` builds a scale lab "
        "for benchmarks instead. Everything lives in 198.18.0.0/15 (the RFC 2544 benchmarking "
        "range) inside namespaces named with the lab prefix ($NDAA_LAB_PREFIX, default 'ndaa-'); "
        "nothing is sent from, or changed in, the host's own network."
    ),
    no_args_is_help=True,
)


@lab_app.command("up")
def up_command(
    hosts: Annotated[
        int | None,
        typer.Option(
            "--hosts",
            min=1,
            max=SCALE_MAX_HOSTS,
            help="Build the scale lab instead: N hosts from 198.18.0.0 upwards (65536 = the "
            "whole /16), answered by one ARP responder process, each with its own MAC.",
        ),
    ] = None,
    live_fraction: Annotated[
        float,
        typer.Option(
            "--live-fraction",
            min=0.0,
            max=1.0,
            help="Scale lab: the share of hosts that answer (e.g. 0.25), picked by --seed.",
        ),
    ] = 1.0,
    seed: Annotated[
        int, typer.Option("--seed", help="Scale lab: which pseudo-random hosts are live.")
    ] = 0,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="After building, sweep the lab with ARP from the scanner namespace and "
            "compare every answer with what the lab should answer.",
        ),
    ] = False,
) -> None:
    """Build the lab and print what was built and the command that scans it."""
    if hosts is None and (live_fraction != 1.0 or seed != 0):
        raise UserError("--live-fraction and --seed apply to the scale lab only", "add --hosts N")
    from scanner.lab import netns  # here, not at the top: `ndaa-scan --help` stays fast

    handle = netns.up(hosts, live_fraction, seed)
    if handle.mode == "standard":
        _print_standard(handle)
    else:
        _print_scale(handle)
    if verify:
        _verify(handle)
    console.print("\nScan it with:")
    console.print(f"  [bold]{handle.scan_command()}[/bold]")
    console.print("Remove it with:")
    console.print("  [bold]sudo ndaa-scan lab down[/bold]" + _prefix_note(handle.prefix))


@lab_app.command("down")
def down_command() -> None:
    """Remove the lab: its namespaces, the responder process and the state directory.

    Safe to run twice, and after a crash that left half a lab behind.
    """
    from scanner.lab import netns

    removed = netns.down()
    if not removed:
        console.print(f"No lab with prefix {lab_prefix()!r} was up; nothing to remove.")
        return
    for line in removed:
        console.print(f"removed {line}" if not line.startswith("left alone") else line)


@lab_app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show which of the lab's namespaces exist and whether the responder runs."""
    from scanner.lab import netns

    st = netns.status()
    if as_json:
        data = {
            "prefix": st.prefix,
            "mode": st.mode,
            "up": st.up,
            "healthy": st.healthy,
            "namespaces": list(st.namespaces),
            "missing": list(st.missing),
            "devices": list(st.devices),
            "responder_pid": st.responder_pid,
            "responder_alive": st.responder_alive,
            "other_labs": list(st.others),
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    if not st.up:
        console.print(f"No lab with prefix {st.prefix!r} is up. Build one: sudo ndaa-scan lab up")
    else:
        health = "[green]complete[/green]" if st.healthy else "[red]incomplete[/red]"
        console.print(f"Lab {st.prefix!r} ({st.mode}) is up, {health}.")
        console.print(f"namespaces ({len(st.namespaces)}): {', '.join(st.namespaces)}")
        if st.missing:
            console.print(f"[red]missing[/red]: {', '.join(st.missing)} - run `lab down`, `lab up`")
        if st.mode == "scale":
            alive = "running" if st.responder_alive else "[red]not running[/red]"
            console.print(f"ARP responder pid {st.responder_pid}: {alive}")
    if st.others:
        console.print(f"other labs on this host (by prefix): {', '.join(st.others)}")


def _prefix_note(prefix: str) -> str:
    if prefix == lab_prefix({}):
        return ""
    return f"   (with {PREFIX_ENV}={prefix} set, as now)"


def _print_standard(handle: LabHandle) -> None:
    from rich.table import Table

    console.print(
        f"Built the standard lab {handle.prefix!r} in {handle.elapsed:.2f} s: "
        f"{len(handle.namespaces)} namespaces on one bridge, subnet {handle.targets}."
    )
    console.print(
        f"Scanner: namespace [bold]{handle.netns}[/bold], interface [bold]{handle.interface}"
        f"[/bold], address {handle.scanner_ip}."
    )
    table = Table(title="Devices (each in namespace <prefix>d-<name>, on eth0)")
    for column in ("name", "IP", "MAC", "what", "made by", "§889 vendor", "expected"):
        table.add_column(column)
    colour = {"covered": "red", "review": "yellow", "clear": "green"}
    for d in handle.devices:
        blocks = ipaddress.collapse_addresses(ipaddress.IPv4Network(ip) for ip in d.proxy_ips)
        ip = "\n".join([d.ip, *(f"+ {net} (proxy ARP)" for net in blocks)])
        table.add_row(
            d.name,
            ip,
            d.mac,
            d.description,
            d.expected_manufacturer or "unknown",
            d.expected_vendor or "-",
            f"[{colour[d.expected_status]}]{d.expected_status}[/]",
        )
    console.print(table)


def _print_scale(handle: LabHandle) -> None:
    console.print(
        f"Built the scale lab {handle.prefix!r} in {handle.elapsed:.2f} s: "
        f"{handle.hosts} hosts in {handle.targets}, {handle.live} answering "
        f"(live fraction {handle.live_fraction}, seed {handle.seed})."
    )
    console.print(
        f"Scanner: namespace [bold]{handle.netns}[/bold], interface [bold]{handle.interface}"
        f"[/bold], address {handle.scanner_ip}/15."
    )
    console.print(
        f"Responder: pid {handle.responder_pid} in {handle.namespaces[-1]}. Host i is "
        f"198.18.0.0 + i; its MAC is {SCALE_HIKVISION_OUI} (Hikvision) when i % 64 == 0, "
        f"{SCALE_DAHUA_OUI} (Dahua) when i % 64 == 1, else {SCALE_DECOY_OUI} (Intel), "
        "followed by i in the low bytes (scanner.lab.topology.scale_mac)."
    )


def _verify(handle: LabHandle) -> None:
    """Sweep with the lab's own probe from inside the scanner namespace and compare."""
    from scanner.lab import netns

    argv = handle.exec_argv(
        [sys.executable, "-m", "scanner.lab.probe", "--iface", handle.interface, handle.targets]
    )
    proc = subprocess.run(
        argv, capture_output=True, text=True, check=False, env=netns.tool_environment()
    )
    if proc.returncode != 0:
        raise UserError(f"the lab check failed: {proc.stderr.strip()}")
    answers = {ip: set(macs) for ip, macs in json.loads(proc.stdout)["answers"].items()}
    expected = handle.expected_arp()
    wrong = [ip for ip, mac in expected.items() if answers.get(ip) != {mac}]
    extra = sorted(set(answers) - set(expected))
    if wrong or extra:
        raise UserError(
            f"the lab does not answer as it should: {len(wrong)} wrong or silent, "
            f"{len(extra)} unexpected (e.g. {(wrong + extra)[:5]})",
            hint="run `sudo ndaa-scan lab down` and build it again",
        )
    console.print(f"[green]Checked[/green]: all {len(expected)} addresses answer ARP as expected.")
