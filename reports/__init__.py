"""Report formats and the one safe way to write a report file.

Importing this package is cheap (no Jinja2, no jsonschema): the CLI imports it at start-up to list
the formats in ``--help``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from scanner.model import ScanRun

from .base import ReportFormat
from .csv_report import CsvFormat
from .cyclonedx_report import CycloneDxFormat
from .html_report import HtmlFormat
from .json_report import JsonFormat
from .pdf_report import PdfFormat

__all__ = [
    "FORMATS",
    "ReportFormat",
    "format_for_path",
    "get_format",
    "write_report",
]

FORMATS: Mapping[str, ReportFormat] = MappingProxyType(
    {
        fmt.name: fmt
        for fmt in (JsonFormat(), HtmlFormat(), CsvFormat(), CycloneDxFormat(), PdfFormat())
    }
)
"""Every format by its ``--format`` name."""

_ALIASES = {".htm": "html"}


def _choices() -> str:
    return ", ".join(sorted(FORMATS))


def get_format(name: str) -> ReportFormat:
    """The format called ``name``; a ValueError names the valid ones, for the CLI to show."""
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown report format {name!r}; choose one of: {_choices()}") from None


def format_for_path(path: str | os.PathLike[str]) -> ReportFormat:
    """The format a file name asks for by its extension (``report.html`` -> html).

    The longest matching suffix wins, so ``bom.cdx.json`` is CycloneDX and ``report.json`` JSON.
    """
    name = Path(path).name.lower()
    suffix = Path(path).suffix.lower()
    for fmt in sorted(FORMATS.values(), key=lambda fmt: -len(fmt.suffix)):
        if name.endswith(fmt.suffix) and len(name) > len(fmt.suffix):
            return fmt
    if suffix in _ALIASES:
        return FORMATS[_ALIASES[suffix]]
    valid = ", ".join(sorted(fmt.suffix for fmt in FORMATS.values()))
    shown = f"extension {suffix!r}" if suffix else "no extension"
    raise ValueError(
        f"cannot tell the report format of {os.fspath(path)!r} ({shown}); "
        f"use one of {valid} or give the format ({_choices()})"
    )


def write_report(
    run: ScanRun,
    path: str | os.PathLike[str],
    fmt: ReportFormat | str | None = None,
) -> Path:
    """Write the report so that ``path`` holds either the old file or the whole new one.

    A cron job or a reader watching the file must never see it empty or half written, and a
    render that fails must not destroy the previous report. So: render everything in memory
    first, write a temporary file in the same directory (same filesystem, so the rename is
    atomic), fsync it, then ``os.replace`` it over the target. ``fmt`` defaults to the one the
    extension names. Returns the path written (symlinks resolved).
    """
    if fmt is None:
        fmt = format_for_path(path)
    elif isinstance(fmt, str):
        fmt = get_format(fmt)
    data = fmt.render(run)

    # Replace what a symlink points at, not the link, and keep the temp file beside the target.
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None  # a new file gets the usual 0o666 & ~umask, as open() would give it

    tmp, fd = _create_temp(target)
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(target.parent)
    return target


def _create_temp(target: Path) -> tuple[Path, int]:
    """A new file next to ``target``; O_EXCL so a concurrent writer can never share it."""
    while True:
        # Clip the name so the temp file stays under NAME_MAX even for a very long target name.
        tmp = target.with_name(f".{target.name[:200]}.{secrets.token_hex(6)}.tmp")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform or filesystem allows it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
