"""Logs go to stderr (stdout carries the summary, or the JSON report with `-o -`), as text or as
one JSON object per line for a log collector. --quiet keeps warnings and errors only."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LOGGER = "ndaa_scan"
FORMATS = ("text", "json")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry, default=str)


def setup(fmt: str = "text", quiet: bool = False) -> logging.Logger:
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    return logger


def get() -> logging.Logger:
    return logging.getLogger(LOGGER)


def json_enabled() -> bool:
    return any(isinstance(h.formatter, JsonLines) for h in logging.getLogger(LOGGER).handlers)
