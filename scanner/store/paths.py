"""Where the default store and the locks live, and how a --store value becomes a database URL.

The default is a SQLite file in the user's data directory, so a nightly cron job keeps its history
without any setup. As root (sudo, a system timer) that is root's data directory: the home of the
effective user from the password database, not a $HOME that sudo may have kept from the caller.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from scanner.errors import UserError

APP_DIR = "ndaa-scan"
STORE_FILE = "runs.db"


def data_dir() -> Path:
    """$XDG_DATA_HOME/ndaa-scan, else ~/.local/share/ndaa-scan of the effective user."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_DIR
    try:
        home = Path(pwd.getpwuid(os.geteuid()).pw_dir)
    except KeyError:  # a uid without an entry (some containers)
        home = Path.home()
    return home / ".local" / "share" / APP_DIR


def default_url() -> str:
    return f"sqlite:///{data_dir() / STORE_FILE}"


_DIALECTS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def normalize_url(value: str | None) -> str:
    """A --store value as an SQLAlchemy URL: a plain path means a SQLite file, and plain
    postgresql:// uses psycopg 3 (the driver we ship). Anything else is a usage error."""
    if not value:
        return default_url()
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    scheme, rest = value.split("://", 1)
    driver = _DIALECTS.get(scheme.lower())
    if driver is None:
        raise UserError(
            f"unsupported store URL scheme {scheme!r}",
            "use a file path, sqlite:///PATH or postgresql://USER@HOST/DB",
        )
    return f"{driver}://{rest}"


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<store URL>"
