"""The published JSON Schema of the report, and validation against it.

jsonschema is imported inside the functions that need it: it costs tens of milliseconds, and the
CLI must start fast for users who never validate anything.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

SCHEMA_RESOURCE = ("schema", "report.schema.json")


def schema_text() -> str:
    """The schema file as shipped, for ``ndaa-scan schema`` or publishing next to reports."""
    return resources.files("reports").joinpath(*SCHEMA_RESOURCE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """A fresh copy of the schema, so callers may change it without touching the validator's."""
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    # Formats are only annotations in 2020-12 unless a checker is given; we want ip/ipv6 checked.
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(document: Any) -> None:
    """Raise ``jsonschema.ValidationError`` (the most relevant error) if the report is invalid."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(document))
    if error is not None:
        raise error


def errors(document: Any) -> list[str]:
    """Every problem, one line each with its JSON path, for a test failure or a CLI message."""
    found = sorted(_validator().iter_errors(document), key=lambda error: str(error.json_path))
    return [f"{error.json_path}: {error.message}" for error in found]
