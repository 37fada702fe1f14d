"""Run history: every scan stored (SQLite by default, PostgreSQL for many sites), compared with
the site's previous run, and combined across sites."""

from __future__ import annotations

from scanner.store.combined import combined_latest
from scanner.store.db import RunSummary, Store, StoreError
from scanner.store.paths import data_dir, default_url, normalize_url

__all__ = [
    "RunSummary",
    "Store",
    "StoreError",
    "combined_latest",
    "data_dir",
    "default_url",
    "normalize_url",
]
