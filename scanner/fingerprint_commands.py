"""`ndaa-scan fingerprints`: check signature files, the way recog contributors test theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scanner.errors import UserError

fingerprints_app = typer.Typer(
    name="fingerprints",
    help="Check and list the fingerprint signatures (see docs/probes.md for the format).",
    no_args_is_help=True,
)


@fingerprints_app.command("test")
def test_files(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Signature files to check (TOML, one family per file, named after the probe "
            "it reads, e.g. http.toml). Default: the signatures shipped with ndaa-scan.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load signature files and check every example and counterexample; exit 1 on a problem."""
    from fingerprints.signatures import (
        SignatureError,
        check,
        load_signatures,
        read_user_file,
    )

    try:
        if files:
            signatures = []
            for path in files:
                try:
                    signatures += read_user_file(path)
                except OSError as exc:
                    raise UserError(
                        f"cannot read signature file {str(path)!r}: {exc.strerror or exc}",
                        "check the path",
                    ) from None
                except UnicodeDecodeError:
                    raise UserError(f"{path} is not UTF-8 text") from None
        else:
            signatures = list(load_signatures().signatures)
    except SignatureError as exc:
        raise UserError(str(exc), "fix the signature; docs/probes.md gives the format") from None
    problems = check(signatures)
    for problem in problems:
        typer.echo(f"FAIL {problem}")
    examples = sum(len(s.examples) + len(s.counterexamples) for s in signatures)
    families = sorted({s.family for s in signatures})
    verdict = "problems found" if problems else "all examples hold"
    typer.echo(
        f"{len(signatures)} signatures in {len(families)} families ({', '.join(families)}), "
        f"{examples} examples: {verdict}"
    )
    raise typer.Exit(1 if problems else 0)


@fingerprints_app.command("list")
def list_signatures() -> None:
    """List the shipped signatures: id, vendor, certainty, what it reads."""
    from fingerprints.signatures import load_signatures

    for sig in load_signatures().signatures:
        vendor = sig.vendor or f"({sig.maker})"
        typer.echo(f"{sig.id:48} {vendor:22} {sig.certainty:4.2f}  {sig.field}")
