"""The command line: parsing and presentation only; the work lives in the modules it calls.

Heavy imports (netaddr, jinja2, the OUI tables) happen inside the commands so `--help` and
`--version` start fast.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scanner import __version__
from scanner.errors import UserError

if TYPE_CHECKING:
    from scanner.model import ScanRun
    from scanner.probes.base import ProbeContext

app = typer.Typer(
    name="ndaa-scan",
    help=(
        "Find NDAA Section 889 covered equipment (Hikvision, Dahua, Hytera, Huawei, ZTE and their "
        "subsidiaries) on the networks you are responsible for, and write an evidence-backed "
        "inventory.\n\nStart with `ndaa-scan demo` (needs root; builds a virtual network, scans "
        "it, writes a report) or `ndaa-scan scan --help`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        from fingerprints import FINGERPRINT_DB_VERSION

        typer.echo(f"ndaa-scan {__version__} (fingerprints {FINGERPRINT_DB_VERSION})")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    pass


def _env(name: str) -> str:
    return f"NDAA_SCAN_{name}"


@app.command(
    epilog=(
        "Exit codes: 0 nothing covered; 1 covered equipment found; 2 usage or configuration "
        "error; 3 scan incomplete and nothing covered found; 4 only review findings.\n\n"
        "Every option also reads an environment variable (shown with each option) and a key of "
        "the same name in the --config TOML file; flags win over the environment, which wins "
        "over the file."
    )
)
def scan(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="Addresses, CIDRs or ranges to sweep, e.g. 10.1.20.0/24 10.1.21.5 "
            "10.1.22.10-10.1.22.50. Each must be on a subnet of a local interface.",
            envvar=_env("TARGETS"),
            metavar="TARGET",
            show_default=False,
        ),
    ] = None,
    interface: Annotated[
        list[str] | None,
        typer.Option(
            "-i",
            "--interface",
            help="Interface to scan from (repeatable). Default: every up Ethernet interface "
            "with an IPv4 address.",
            envvar=_env("INTERFACE"),
            metavar="IFACE",
            show_default=False,
        ),
    ] = None,
    local: Annotated[
        bool | None,
        typer.Option(
            "--local",
            help="Sweep every subnet the chosen interfaces are on.",
            envvar=_env("LOCAL"),
            show_default=False,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Address, CIDR or range never to send to (repeatable).",
            envvar=_env("EXCLUDE"),
            metavar="CIDR",
            show_default=False,
        ),
    ] = None,
    exclude_file: Annotated[
        str | None,
        typer.Option(
            "--exclude-file",
            help="File of exclusions, one per line; # starts a comment.",
            envvar=_env("EXCLUDE_FILE"),
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        int | None,
        typer.Option(
            "--rate",
            help="ARP requests per second (default 500, as polite as arp-scan's default; "
            "up to 100000).",
            envvar=_env("RATE"),
            metavar="PPS",
            show_default=False,
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries",
            help="Extra passes over addresses that did not answer (default 1).",
            envvar=_env("RETRIES"),
            metavar="N",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds of quiet after the last request before a pass ends (default 0.5; "
            "each retry waits 1.5x longer).",
            envvar=_env("TIMEOUT"),
            metavar="SECONDS",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool | None,
        typer.Option(
            "--dry-run",
            help="Print the target count, interfaces, rate and estimated time; send nothing.",
            envvar=_env("DRY_RUN"),
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the report here (repeatable; the format comes from the extension "
            ".json/.html, else --format). '-' writes JSON to standard output.",
            envvar=_env("OUTPUT"),
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Report format when the output's extension does not say: json or html.",
            envvar=_env("FORMAT"),
            metavar="json|html",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="TOML file with any of these options as keys (e.g. rate = 200).",
            envvar=_env("CONFIG"),
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    credentials: Annotated[
        str | None,
        typer.Option(
            "--credentials",
            help="TOML file of ONVIF logins and SNMP communities ([[onvif]] username, password, "
            "hosts; [[snmp]] communities, hosts; no hosts = every host); the environment's "
            "NDAA_SCAN_ONVIF_USER/_PASSWORD and NDAA_SCAN_SNMP_COMMUNITIES also count. Secrets "
            "are never taken from the command line; without any, nothing logs in and no SNMP "
            "is sent.",
            envvar=_env("CREDENTIALS"),
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    allow_large: Annotated[
        bool | None,
        typer.Option(
            "--allow-large",
            help="Allow more than 65,536 targets.",
            envvar=_env("ALLOW_LARGE"),
            show_default=False,
        ),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            help="Name of the site this scan covers, shown in reports.",
            envvar=_env("SITE"),
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    listen: Annotated[
        float | None,
        typer.Option(
            "--listen",
            help="Seconds the discovery protocols (WS-Discovery, SADP, DHIP, SSDP, mDNS) listen "
            "for answers, while the ARP sweep runs (default 3).",
            envvar=_env("LISTEN"),
            metavar="SECONDS",
            show_default=False,
        ),
    ] = None,
    probe: Annotated[
        list[str] | None,
        typer.Option(
            "--probe",
            help="Run only this probe (repeatable; the ARP sweep always runs), e.g. --probe sadp "
            "--probe http. Default: all of them.",
            envvar=_env("PROBE"),
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Find the hosts on your subnets, identify covered vendors, and write an evidence-backed
    report.

    Needs root or CAP_NET_RAW (not for --dry-run). What it sends: ARP who-has requests paced at
    --rate to the targets you name; discovery queries (ONVIF WS-Discovery, Hikvision SADP
    "inquiry", Dahua DHIP search, SSDP M-SEARCH, mDNS) to the local multicast groups and
    broadcast while the sweep runs; then to each host that answered, unauthenticated reads only
    (HTTP GET of a few login-page paths, RTSP OPTIONS/DESCRIBE, TCP connects to camera ports,
    ONVIF GetSystemDateAndTime). Never to excluded addresses, never a login attempt; ONVIF device
    information and SNMP only with credentials you supply in --credentials.
    """
    given = {
        "targets": targets,
        "interface": interface,
        "local": local,
        "exclude": exclude,
        "exclude_file": exclude_file,
        "rate": rate,
        "retries": retries,
        "timeout": timeout,
        "dry_run": dry_run,
        "output": output,
        "format": format,
        "allow_large": allow_large,
        "site": site,
        "listen": listen,
        "probe": probe,
        "credentials": credentials,
    }
    code = _scan(given, config)
    raise typer.Exit(code)


def _scan(given: dict[str, Any], config_path: str | None) -> int:
    from netaddr import IPSet

    from scanner import config, interfaces, privileges, targets
    from scanner.model import Scope
    from scanner.probes.base import ProbeContext

    settings = config.merge(given, config.read_config(config_path) if config_path else {})
    ifaces = interfaces.resolve(settings.interface, interfaces.list_interfaces())
    specs = list(settings.targets) or targets.local_targets(ifaces)
    excludes = list(settings.exclude)
    if settings.exclude_file:
        excludes += targets.read_exclude_file(Path(settings.exclude_file))
    planned = targets.plan_scope(
        targets.parse_specs(specs),
        targets.parse_specs(excludes) if excludes else IPSet(),
        ifaces,
        allow_large=settings.allow_large,
    )
    plans = list(planned.local)
    outputs = _outputs(settings.output, settings.format)
    used = [p.interface.name for p in plans] + [r.interface for r in planned.routed]
    scope = Scope(
        targets=tuple(specs),
        interfaces=tuple(dict.fromkeys(used)),
        excludes=tuple(excludes),
        rate=settings.rate,
        retries=settings.retries,
        timeout=settings.timeout,
        target_count=planned.count,
        site=settings.site,
        listen=settings.listen,
        probes=settings.probe,
    )
    from scanner import credentials as creds

    user_credentials = creds.load(settings.credentials)
    for warning in user_credentials.warnings if user_credentials else ():
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    if settings.dry_run:
        _print_dry_run(scope, plans, planned.routed)
        return 0
    if plans:  # routed targets alone need no raw sockets: they are reached by TCP connect
        privileges.require_raw_sockets()
    ctx = ProbeContext(
        scope=scope, plans=tuple(plans), routed=planned.routed, credentials=user_credentials
    )
    run = _run_with_progress(ctx)
    for path, fmt in outputs:
        _write(run, path, fmt)
    from scanner.outcome import exit_code
    from scanner.summary import print_summary

    print_summary(run, outputs=[p for p, _ in outputs if p != "-"])
    return int(exit_code(run))


def _outputs(paths: tuple[str, ...], default_format: str) -> list[tuple[str, str]]:
    """Check every output before sending a packet: a typo should not cost a whole scan."""
    result = []
    for path in paths:
        if path == "-":
            result.append((path, "json"))
            continue
        suffix = Path(path).suffix.lower().lstrip(".")
        fmt = suffix if suffix in ("json", "html") else default_format
        parent = Path(path).resolve().parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise UserError(
                f"cannot write the report to {path!r}: {parent} is not a writable directory",
                "choose another -o path",
            )
        result.append((path, fmt))
    return result


def _write(run: ScanRun, path: str, fmt: str) -> None:
    from reports import get_format, write_report

    if path == "-":
        sys.stdout.buffer.write(get_format("json").render(run))
        sys.stdout.flush()
        return
    write_report(run, Path(path), get_format(fmt))


def _print_dry_run(scope: Any, plans: list[Any], routed: tuple[Any, ...] = ()) -> None:
    from scanner.scan import default_probes
    from scanner.summary import estimate_seconds

    typer.echo(f"targets:    {scope.target_count:,} addresses")
    for plan in plans:
        typer.echo(
            f"interface:  {plan.interface.name} (from {plan.source_ip}, "
            f"MAC {plan.interface.mac}): {plan.count:,} targets, found by ARP"
        )
    for part in routed:
        typer.echo(
            f"routed:     {part.count:,} targets beyond a router (from {part.source_ip} on "
            f"{part.interface}), found by TCP connect to camera and recorder ports"
        )
    if scope.excludes:
        typer.echo(f"excluded:   {', '.join(scope.excludes)}")
    local = sum(plan.count for plan in plans)
    best, worst = estimate_seconds(local, scope.rate, scope.retries, scope.timeout)
    best, worst = max(best, scope.listen), max(worst, scope.listen)
    probes = default_probes(scope.probes)
    discovery = [p.name for p in probes if p.phase == 1 and p.name not in ("arp", "tcp-sweep")]
    per_host = [p.name for p in probes if p.phase != 1]
    typer.echo(f"rate:       {scope.rate:,} ARP requests/s, {scope.retries} retry pass(es)")
    if discovery:
        typer.echo(
            f"discovery:  {', '.join(discovery)}, listening {scope.listen:g} s during the sweep"
        )
    if per_host:
        typer.echo(f"per host:   {', '.join(per_host)}, after the sweep, on hosts that answered")
    typer.echo(
        f"estimate:   about {best:.1f} s to find the hosts if every one answers, at most "
        f"{worst:.1f} s if none does; then a few seconds per batch of hosts to identify them"
    )
    typer.echo("dry run: nothing was sent")


def _run_with_progress(ctx: ProbeContext) -> ScanRun:
    """Run the scan in a worker thread so Ctrl-C and SIGTERM can stop it cleanly: the sweep
    ends, and what was found so far is reported as an incomplete scan."""
    from scanner.scan import run_scan
    from scanner.summary import progress_display

    box: dict[str, Any] = {}
    with progress_display(ctx) as ctx2:

        def work() -> None:
            try:
                box["run"] = run_scan(ctx2)
            except BaseException as exc:  # re-raised in the main thread
                box["error"] = exc

        worker = threading.Thread(target=work, name="scan", daemon=True)
        previous = signal.signal(signal.SIGTERM, lambda *_: ctx.stop.set())
        try:
            worker.start()
            while worker.is_alive():
                try:
                    worker.join(0.2)
                except KeyboardInterrupt:
                    typer.echo("interrupted: finishing the sweep's bookkeeping...", err=True)
                    ctx.stop.set()
        finally:
            signal.signal(signal.SIGTERM, previous)
    if "error" in box:
        raise box["error"]
    result: ScanRun = box["run"]
    return result


@app.command()
def demo(
    out_dir: Annotated[
        Path,
        typer.Option("--out-dir", help="Where to write ndaa-report.html and ndaa-report.json."),
    ] = Path("."),
) -> None:
    """Build a virtual facility network, scan it, write a report, and tear it down.

    Needs root: the lab is made of Linux network namespaces (addresses in 198.18.0.0/15, the
    benchmarking range), so nothing leaves this machine.
    """
    code = _demo(out_dir)
    raise typer.Exit(code)


def _demo(out_dir: Path) -> int:
    import subprocess

    from scanner.lab import netns

    if os.geteuid() != 0:
        raise UserError(
            "the demo builds a virtual network of Linux namespaces, which needs root",
            f"run it with sudo: sudo {Path(sys.argv[0]).name} demo "
            "(or sudo .venv/bin/ndaa-scan demo)",
        )
    out_dir = out_dir.resolve()
    if not out_dir.is_dir():
        raise UserError(f"--out-dir {out_dir} is not a directory")
    html, js = out_dir / "ndaa-report.html", out_dir / "ndaa-report.json"
    with netns.lab() as handle:
        typer.echo(
            f"lab up: {len(handle.devices)} devices on {handle.targets}; scanning from "
            f"namespace {handle.netns} ({handle.interface})"
        )
        argv = [sys.executable, "-m", "scanner", "scan", handle.targets, "-i", handle.interface]
        argv += ["--site", "demo-lab", "-o", str(html), "-o", str(js)]
        proc = subprocess.run(handle.exec_argv(argv), check=False)
    typer.echo("lab down: every namespace it made is gone")
    if proc.returncode not in (0, 1, 3, 4):
        return proc.returncode
    typer.echo(f"open {html} in a browser; the same data as JSON is in {js}")
    return 0


def _show_user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A UserError becomes its message, its hint and exit 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            typer.secho(f"error: {exc.message}", err=True, fg=typer.colors.RED)
            if exc.hint:
                typer.echo(f"  hint: {exc.hint}", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _guard_all(t: typer.Typer) -> None:
    """Wrap every command of the app and its sub-apps (the lab's too) in one place."""
    for info in t.registered_commands:
        if info.callback is not None:
            info.callback = _show_user_errors(info.callback)
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _guard_all(group.typer_instance)


def _assemble() -> None:
    from scanner.fingerprint_commands import fingerprints_app
    from scanner.lab.commands import lab_app

    app.add_typer(lab_app, name="lab")
    app.add_typer(fingerprints_app, name="fingerprints")
    _guard_all(app)


_assemble()


def main() -> None:
    app()
