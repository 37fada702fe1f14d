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
) -> None:
    """Sweep subnets with ARP, identify covered vendors, and write an evidence-backed report.

    Needs root or CAP_NET_RAW (not for --dry-run). Sends only ARP who-has requests, paced at
    --rate, to the targets you name, and never to excluded addresses.
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
    plans = targets.plan_sweeps(
        targets.parse_specs(specs),
        targets.parse_specs(excludes) if excludes else IPSet(),
        ifaces,
        allow_large=settings.allow_large,
    )
    outputs = _outputs(settings.output, settings.format)
    scope = Scope(
        targets=tuple(specs),
        interfaces=tuple(p.interface.name for p in plans),
        excludes=tuple(excludes),
        rate=settings.rate,
        retries=settings.retries,
        timeout=settings.timeout,
        target_count=sum(p.count for p in plans),
        site=settings.site,
    )
    if settings.dry_run:
        _print_dry_run(scope, plans)
        return 0
    privileges.require_raw_sockets()
    ctx = ProbeContext(scope=scope, plans=tuple(plans))
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


def _print_dry_run(scope: Any, plans: list[Any]) -> None:
    from scanner.summary import estimate_seconds

    typer.echo(f"targets:    {scope.target_count:,} addresses")
    for plan in plans:
        typer.echo(
            f"interface:  {plan.interface.name} (from {plan.source_ip}, "
            f"MAC {plan.interface.mac}): {plan.count:,} targets"
        )
    if scope.excludes:
        typer.echo(f"excluded:   {', '.join(scope.excludes)}")
    best, worst = estimate_seconds(scope.target_count, scope.rate, scope.retries, scope.timeout)
    typer.echo(f"rate:       {scope.rate:,} ARP requests/s, {scope.retries} retry pass(es)")
    typer.echo(
        f"estimate:   about {best:.1f} s if every host answers, at most {worst:.1f} s if none does"
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
    epilog="Exit codes: 0 written; 2 the input is not an ndaa-scan/1 JSON report, or a usage error."
)
def report(
    input: Annotated[
        Path,
        typer.Argument(
            help="A JSON report written by `ndaa-scan scan -o FILE.json`.",
            metavar="INPUT",
            show_default=False,
        ),
    ],
    output: Annotated[
        list[str],
        typer.Option(
            "-o",
            "--output",
            help="Write the report here (repeatable; the format comes from the extension "
            ".json/.html/.pdf/.csv/.cdx.json, else --format). '-' writes to standard output.",
            metavar="PATH",
            show_default=False,
        ),
    ],
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
) -> None:
    """Render a saved JSON report again, in any format (HTML, PDF, CSV, CycloneDX, JSON)."""
    from reports.load import ReportLoadError, load

    outputs = _report_outputs(output, format)
    try:
        run = load(input)
    except ReportLoadError as exc:
        raise UserError(
            str(exc), "give a JSON report written by ndaa-scan scan -o FILE.json"
        ) from None
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
    from scanner.lab.commands import lab_app

    app.add_typer(lab_app, name="lab")
    _guard_all(app)


_assemble()


def main() -> None:
    app()
