"""The command line: parsing and presentation only; the work lives in the modules it calls.

Heavy imports (netaddr, jinja2, the OUI tables) happen inside the commands so `--help` and
`--version` start fast.
"""

from __future__ import annotations

import functools
import json
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
        "error; 3 scan incomplete and nothing covered found; 4 only review findings; 5 another "
        "run of the same site is in progress (this one did nothing).\n\n"
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
            ".json/.html/.pdf/.csv/.cdx.json, else --format). '-' writes JSON to standard output.",
            envvar=_env("OUTPUT"),
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Report format when the output's extension does not say: "
            "json, html, pdf, csv or cyclonedx.",
            envvar=_env("FORMAT"),
            metavar="FORMAT",
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
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Where runs are kept: a SQLite file path or sqlite:///PATH, or "
            "postgresql://USER@HOST/DB for many sites (default: runs.db in "
            "$XDG_DATA_HOME/ndaa-scan or ~/.local/share/ndaa-scan).",
            envvar=_env("STORE"),
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    no_store: Annotated[
        bool | None,
        typer.Option(
            "--no-store",
            help="Do not store this run (no history; --fail-on new then treats all as new).",
            envvar=_env("NO_STORE"),
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="When covered equipment makes the exit code 1: any (default), new (only if it "
            "appeared since the site's previous run) or never.",
            envvar=_env("FAIL_ON"),
            metavar="any|new|never",
            show_default=False,
        ),
    ] = None,
    waivers: Annotated[
        str | None,
        typer.Option(
            "--waivers",
            help="TOML file of accepted exceptions (by serial or MAC, with justification, "
            "approver and expiry). Waived devices stay in the report, marked waived.",
            envvar=_env("WAIVERS"),
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool | None,
        typer.Option(
            "--quiet",
            "-q",
            help="Print nothing but warnings and errors (the exit code still says it all).",
            envvar=_env("QUIET"),
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="Logs on stderr as text (default) or JSON lines.",
            envvar=_env("LOG_FORMAT"),
            metavar="text|json",
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
        "store": store,
        "no_store": no_store,
        "fail_on": fail_on,
        "waivers": waivers,
        "quiet": quiet,
        "log_format": log_format,
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
    # Everything the user can get wrong is checked before a packet is sent.
    from scanner import logs

    logs.setup(settings.log_format, settings.quiet)
    waiver_list = _load_waivers(settings.waivers)
    store_url = None if settings.no_store else _store_url(settings.store)
    if settings.dry_run:
        _print_dry_run(scope, plans, planned.routed)
        return 0
    if plans:  # routed targets alone need no raw sockets: they are reached by TCP connect
        privileges.require_raw_sockets()
    from datetime import date

    from scanner import history
    from scanner.lock import site_lock
    from scanner.store.paths import data_dir

    with site_lock(data_dir() / "locks", scope.site):
        ctx = ProbeContext(
            scope=scope, plans=tuple(plans), routed=planned.routed, credentials=user_credentials
        )
        run = _run_with_progress(ctx)
        pending = history.prepare(run, store_url, waiver_list, date.today())
        run = pending.run
        for path, fmt in outputs:
            _write(run, path, fmt)  # reports first: a store failure must not cost them
        store_error = history.save(pending)
    from scanner.outcome import exit_code
    from scanner.summary import print_summary

    code = int(exit_code(run, settings.fail_on))
    if not settings.quiet:
        print_summary(run, outputs=[p for p, _ in outputs if p != "-"], code=code)
    if store_error is not None:
        raise store_error  # exit 2, after the reports were written
    return code


def _load_waivers(path: str | None) -> tuple[Any, ...]:
    if not path:
        return ()
    from scanner import waivers

    return waivers.load(path)


def _store_url(value: str | None) -> str:
    from scanner.store.paths import normalize_url

    return normalize_url(value)


def _outputs(paths: tuple[str, ...], default_format: str) -> list[tuple[str, str]]:
    """Check every output before sending a packet: a typo should not cost a whole scan."""
    result = []
    for path in paths:
        if path == "-":
            result.append((path, "json"))
            continue
        fmt = _format_of(path, default_format)
        if fmt == "pdf":
            from reports.pdf_report import require_weasyprint

            require_weasyprint()
        parent = Path(path).resolve().parent
        if not parent.is_dir() or not os.access(parent, os.W_OK):
            raise UserError(
                f"cannot write the report to {path!r}: {parent} is not a writable directory",
                "choose another -o path",
            )
        result.append((path, fmt))
    return result


def _format_of(path: str, default_format: str) -> str:
    """The format the extension names, else the default; an unknown format is a UserError."""
    from reports import FORMATS, format_for_path, get_format

    try:
        return format_for_path(path).name
    except ValueError:
        pass
    try:
        return get_format(default_format).name
    except ValueError as exc:
        raise UserError(str(exc), f"--format takes one of: {', '.join(FORMATS)}") from None


def _write(run: ScanRun, path: str, fmt: str) -> None:
    from reports import get_format, write_report

    if path == "-":
        sys.stdout.buffer.write(get_format(fmt).render(run))
        sys.stdout.flush()
        return
    write_report(run, Path(path), get_format(fmt))


def _print_dry_run(scope: Any, plans: list[Any], routed: tuple[Any, ...] = ()) -> None:
    from scanner.probes.limits import DEFAULT as DEFAULT_POLITENESS
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
    if local:
        typer.echo(f"rate:       {scope.rate:,} ARP requests/s, {scope.retries} retry pass(es)")
    if discovery and local:
        typer.echo(
            f"discovery:  {', '.join(discovery)}, listening {scope.listen:g} s during the sweep"
        )
    if per_host:
        typer.echo(f"per host:   {', '.join(per_host)}, after the sweep, on hosts that answered")
    if local:
        typer.echo(
            f"estimate:   about {best:.1f} s to find the local hosts if every one answers, at "
            f"most {worst:.1f} s if none does"
        )
    if routed:
        from scanner.probes.portscan import IN_FLIGHT

        typer.echo(
            f"estimate:   the routed targets take about {DEFAULT_POLITENESS.connect_timeout:g} "
            f"s (a connect timeout) per {IN_FLIGHT} silent addresses"
        )
    typer.echo(
        f"then:       identification, {DEFAULT_POLITENESS.total} connections at a time, at most "
        f"{DEFAULT_POLITENESS.host_budget:g} s per host and probe"
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


@app.command(
    epilog="Exit codes: 0 written; 2 the input is not an ndaa-scan/1 JSON report, the store "
    "cannot be read, or a usage error.\n\nExamples: ndaa-scan report ndaa-report.json -o "
    "report.pdf;  ndaa-scan report --run 3f2a -o report.csv;  ndaa-scan report --all-sites "
    "--store postgresql://ndaa@db/ndaa -o all-sites.html"
)
def report(
    input: Annotated[
        Path | None,
        typer.Argument(
            help="A JSON report written by `ndaa-scan scan -o FILE.json`. Or use --run or "
            "--all-sites to render from the run history instead.",
            metavar="[INPUT]",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "-o",
            "--output",
            help="Write the report here (repeatable; the format comes from the extension "
            ".json/.html/.pdf/.csv/.cdx.json, else --format). '-' writes to standard output.",
            metavar="PATH",
            show_default=False,
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="Report format when the output's extension does not say: "
            "json, html, pdf, csv or cyclonedx.",
            envvar=_env("FORMAT"),
            metavar="FORMAT",
        ),
    ] = "html",
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run",
            help="A stored run's id (or a unique prefix of it, as `ndaa-scan history` shows).",
            metavar="ID",
            show_default=False,
        ),
    ] = None,
    all_sites: Annotated[
        bool,
        typer.Option(
            "--all-sites",
            help="The latest run of every site in the store, in one report (each device "
            "carries its site).",
        ),
    ] = False,
    store: _StoreOpt = None,
) -> None:
    """Render a saved JSON report, a stored run, or every site's latest run, in any format
    (HTML, PDF, CSV, CycloneDX, JSON)."""
    sources = [name for name, given in (("INPUT", input), ("--run", run_id)) if given]
    sources += ["--all-sites"] if all_sites else []
    if len(sources) != 1:
        raise UserError(
            "say what to render: a JSON report file, --run ID or --all-sites (exactly one)",
            "e.g. ndaa-scan report ndaa-report.json -o report.html",
        )
    if not output:
        raise UserError("no output given", "add -o FILE (e.g. -o report.html, or -o - for stdout)")
    outputs = _report_outputs(output, format)
    if input is not None:
        from reports.load import ReportLoadError, load

        try:
            run = load(input)
        except ReportLoadError as exc:
            raise UserError(
                str(exc), "give a JSON report written by ndaa-scan scan -o FILE.json"
            ) from None
    elif all_sites:
        from scanner.store import combined_latest

        run = combined_latest(_store_url(store) if store else None)
    else:
        from scanner.store import Store

        assert run_id is not None
        with Store.open(_store_url(store) if store else None, create=False) as opened:
            run = opened.load(opened.resolve(run_id))
    for path, fmt in outputs:
        _write(run, path, fmt)
        if path != "-":
            typer.echo(f"wrote {path} ({fmt})", err=True)


def _report_outputs(paths: list[str], default_format: str) -> list[tuple[str, str]]:
    """Like the scan's outputs, but '-' takes the chosen format rather than always JSON."""
    outputs = _outputs(tuple(path for path in paths if path != "-"), default_format)
    if "-" in paths:
        outputs.append(("-", _format_of("-", default_format)))
    return outputs


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
    from scanner.lab.routed import ROUTED_DEVICES, ROUTED_SUBNET

    with netns.lab(routed=ROUTED_DEVICES) as handle:
        typer.echo(
            f"lab up: {len(handle.devices)} devices on {handle.targets} and "
            f"{len(ROUTED_DEVICES)} behind a router on {ROUTED_SUBNET}; scanning from "
            f"namespace {handle.netns} ({handle.interface})"
        )
        argv = [sys.executable, "-m", "scanner", "scan", handle.targets, ROUTED_SUBNET]
        argv += ["-i", handle.interface]
        argv += ["--site", "demo-lab", "-o", str(html), "-o", str(js), "--no-store"]
        argv += ["--credentials", str(_demo_credentials(handle.prefix))]
        typer.echo(
            "the scan is given the lab's ONVIF login and SNMP communities (--credentials), as "
            "you would give yours; without them it never authenticates"
        )
        proc = subprocess.run(handle.exec_argv(argv), check=False)
    typer.echo("lab down: every namespace it made is gone")
    if proc.returncode not in (0, 1, 3, 4):
        return proc.returncode
    typer.echo(f"open {html} in a browser; the same data as JSON is in {js}")
    return 0


def _demo_credentials(prefix: str) -> Path:
    """A credentials file for the lab, in its state directory (removed with the lab)."""
    from scanner.lab.emulators.onvif_handler import lab_credentials
    from scanner.lab.netns import LabNames

    state_dir = LabNames(prefix).state_dir
    username, password = lab_credentials(state_dir)
    path = state_dir / "demo-credentials.toml"
    path.touch(mode=0o600)
    path.write_text(
        f"[[onvif]]\nusername = {json.dumps(username)}\npassword = {json.dumps(password)}\n\n"
        '[[snmp]]\ncommunities = ["hytera", "public"]\n'
    )
    return path


def _show_user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A UserError becomes its message, its hint and exit 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from scanner import logs

        logs.setup()  # text on stderr until a command asks for JSON lines
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            if logs.json_enabled():  # --log-format json: errors are log lines too
                fields = {"hint": exc.hint, "exit_code": exc.exit_code}
                logs.get().error(exc.message, extra={"fields": fields})
                raise typer.Exit(exc.exit_code) from None
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


# --- run history: history, history prune, diff ----------------------------------------------

_STORE_HELP = (
    "The run store: a SQLite file path, sqlite:///PATH or postgresql://USER@HOST/DB "
    "(default: runs.db in $XDG_DATA_HOME/ndaa-scan or ~/.local/share/ndaa-scan)."
)
_StoreOpt = Annotated[
    str | None,
    typer.Option("--store", help=_STORE_HELP, envvar=_env("STORE"), metavar="URL"),
]
_SiteOpt = Annotated[
    str | None,
    typer.Option("--site", help="Only this site.", envvar=_env("SITE"), metavar="NAME"),
]
_ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        help="TOML file; its store and site keys apply here.",
        envvar=_env("CONFIG"),
        metavar="FILE",
    ),
]
_OutFormatOpt = Annotated[
    str,
    typer.Option("--format", help="Output as text or json.", metavar="text|json"),
]

history_app = typer.Typer(
    help="Stored runs, newest first, with their counts; `history prune --keep N` trims them.",
    no_args_is_help=False,
    rich_markup_mode=None,
)


def _from_config(path: str | None, store: str | None, site: str | None) -> tuple[str | None, ...]:
    if path:
        from scanner import config

        values = config.read_config(path)
        store = store or values.get("store")
        site = site or values.get("site")
    return store, site


def _check_format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        raise UserError(f"unknown --format {fmt!r}", "use text or json")
    return fmt


@history_app.callback(invoke_without_command=True)
@_show_user_errors
def history(
    ctx: typer.Context,
    store: _StoreOpt = None,
    site: _SiteOpt = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many runs.", metavar="N", min=1)
    ] = 50,
    format: _OutFormatOpt = "text",
    config: _ConfigOpt = None,
) -> None:
    """List the stored runs, newest first, with their device counts."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from scanner.store import Store

    _check_format(format)
    store, site = _from_config(config, store, site)
    with Store.open(store, create=False) as db:
        runs = db.runs(site=site, limit=limit)
    if format == "json":
        rows = [
            {
                "id": r.id,
                "site": r.site,
                "started": r.started.isoformat(),
                "finished": r.finished.isoformat(),
                "complete": r.complete,
                "devices": r.devices,
                "covered": r.covered,
                "review": r.review,
                "clear": r.clear,
                "waived": r.waived,
                "new": r.new,
            }
            for r in runs
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    if not runs:
        typer.echo("no runs stored yet")
        return
    width = max(4, *(len(r.site) for r in runs))
    typer.echo(
        f"{'run':<8}  {'site':<{width}}  {'started':<16}  {'state':<10}  "
        "devices  covered  review  clear  waived  new"
    )
    for r in runs:
        typer.echo(
            f"{r.id[:8]:<8}  {r.site:<{width}}  "
            f"{r.started.astimezone().strftime('%Y-%m-%d %H:%M'):<16}  "
            f"{'complete' if r.complete else 'INCOMPLETE':<10}  {r.devices:>7}  {r.covered:>7}  "
            f"{r.review:>6}  {r.clear:>5}  {r.waived:>6}  {r.new:>3}"
        )


@history_app.command("prune")
def history_prune(
    keep: Annotated[
        int, typer.Option("--keep", help="Runs to keep per site (newest).", metavar="N")
    ],
    store: _StoreOpt = None,
    site: _SiteOpt = None,
    config: _ConfigOpt = None,
) -> None:
    """Delete all but the newest N runs of each site (or of --site)."""
    from scanner.store import Store

    if keep < 1:
        raise UserError(f"--keep {keep} would delete every run", "keep at least 1")
    store, site = _from_config(config, store, site)
    with Store.open(store, create=False) as db:
        deleted = db.prune(keep, site=site)
    typer.echo(f"deleted {deleted} run(s); kept the newest {keep} of each site")


@app.command(
    epilog="Exit codes: 0 nothing covered appeared; 1 covered equipment is new or reappeared "
    "(not under an active waiver); 2 usage or store error; 4 only review devices appeared."
)
def diff(
    old: Annotated[
        str | None,
        typer.Argument(
            help="Older run id (or a prefix of it, as history shows).",
            metavar="OLD",
            show_default=False,
        ),
    ] = None,
    new: Annotated[
        str | None,
        typer.Argument(
            help="Newer run id (default: the latest of OLD's site).",
            metavar="NEW",
            show_default=False,
        ),
    ] = None,
    store: _StoreOpt = None,
    site: _SiteOpt = None,
    format: _OutFormatOpt = "text",
    config: _ConfigOpt = None,
) -> None:
    """What changed between two runs of a site (default: its last two): new, gone, changed and
    reappeared devices, covered ones first."""
    code = _diff(old, new, store, site, _check_format(format), config)
    raise typer.Exit(code)


def _diff(
    old: str | None,
    new: str | None,
    store: str | None,
    site: str | None,
    fmt: str,
    config: str | None,
) -> int:
    import json

    from scanner.store import Store
    from scanner.store import changes as changes_mod

    store, site = _from_config(config, store, site)
    with Store.open(store, create=False) as db:
        if old is None:
            site = site or _only_site(db.sites())
            runs = db.runs(site=site, limit=2)
            if len(runs) < 2:
                raise UserError(
                    f"site {site!r} has {len(runs)} stored run(s); a diff needs two",
                    "scan it again, or name two runs (ndaa-scan history lists them)",
                )
            old_id, new_id = runs[1].id, runs[0].id
        else:
            old_id = db.resolve(old)
            if new is None:
                site_of_old = db.load(old_id).scope.site
                latest = db.latest(site_of_old)
                new_id = latest if latest is not None else old_id
            else:
                new_id = db.resolve(new)
        before, after = db.load(old_id), db.load(new_id)
        if before.started > after.started:
            before, after = after, before
        seen = db.keys_before(after.scope.site, before.started)
    result = changes_mod.diff(before, after, seen)
    if fmt == "json":
        typer.echo(json.dumps(changes_mod.to_dict(result), indent=2))
    else:
        typer.echo(changes_mod.render_text(result), nl=False)
    return changes_mod.exit_code(result)


def _only_site(sites: list[str]) -> str:
    if len(sites) == 1:
        return sites[0]
    if not sites:
        raise UserError("the store holds no runs yet", "run `ndaa-scan scan` first")
    raise UserError(f"the store holds several sites ({', '.join(sites)})", "choose one with --site")


def _assemble() -> None:
    from scanner.fingerprint_commands import fingerprints_app
    from scanner.lab.commands import lab_app

    app.add_typer(lab_app, name="lab")
    app.add_typer(fingerprints_app, name="fingerprints")
    app.add_typer(history_app, name="history")
    _guard_all(app)


_assemble()


def main() -> None:
    app()
