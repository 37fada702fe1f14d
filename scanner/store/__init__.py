"""Run history: every scan stored (SQLite by default, PostgreSQL for many sites), compared with
the site's previous run, and combined across sites.

Importing the package is cheap: SQLAlchemy and Alembic load on first use of the store, so a scan
checks its --store value and installs its signal handlers without waiting for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.store.paths import data_dir, default_url, normalize_url

if TYPE_CHECKING:
    from scanner.store.combined import combined_latest
    from scanner.store.db import RunSummary, Store, StoreError

__all__ = [
    "RunSummary",
    "Store",
    "StoreError",
    "combined_latest",
    "data_dir",
    "default_url",
    "normalize_url",
]

_LAZY = {
    "RunSummary": "scanner.store.db",
    "Store": "scanner.store.db",
    "StoreError": "scanner.store.db",
    "combined_latest": "scanner.store.combined",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scanner.store' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
