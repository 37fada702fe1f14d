"""Fixtures shared across test folders: a data directory of the tests' own, and a real,
throwaway PostgreSQL server.

CI installs Debian's `postgresql` package; this starts its binaries on loopback in a temporary
directory (as the `postgres` user when we are root, since initdb refuses to run as root), with
trust authentication, and removes it afterwards. Not a mock: the store's SQL runs on the real
server. Tests that need it are skipped only when the binaries are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _own_data_dir() -> Iterator[None]:
    """Scans store their runs and take their site locks in the user's data directory: the tests
    (and the scans they run as subprocesses, which inherit the environment) use a throwaway one,
    never the real store of whoever runs them."""
    old = os.environ.get("XDG_DATA_HOME")
    base = tempfile.mkdtemp(prefix="ndaa-data-")
    os.environ["XDG_DATA_HOME"] = base
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = old
        shutil.rmtree(base, ignore_errors=True)


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class PgServer:
    url: str  # without a database name: postgresql+psycopg://postgres@127.0.0.1:PORT
    socket_dir: str  # its Unix socket, reachable from inside the lab's network namespaces
    port: int


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="ndaa-pg-"))
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    data, log = base / "data", base / "server.log"
    port = _free_port()
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
        subprocess.run(
            [*as_user, *initdb, "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log)]
        subprocess.run(
            [*as_user, *pg_ctl, "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        text = (exc.stderr or b"").decode(errors="replace")
        if log.exists():
            text += log.read_text(errors="replace")
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {text}")
    try:
        yield PgServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}", str(base), port)
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _create_db(server: PgServer) -> str:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _admin_dsn(server: PgServer) -> str:
    return server.url.replace("postgresql+psycopg", "postgresql") + "/postgres"


def _drop_db(server: PgServer, name: str) -> None:
    import psycopg

    with psycopg.connect(_admin_dsn(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_server: PgServer) -> Iterator[str]:
    """A fresh, empty database on the throwaway server for one test (over loopback TCP)."""
    name = _create_db(postgres_server)
    yield f"{postgres_server.url}/{name}"
    _drop_db(postgres_server, name)


@pytest.fixture
def postgres_socket_url(postgres_server: PgServer) -> Iterator[str]:
    """The same over the server's Unix socket, as a user would write it (plain postgresql://):
    a scanner inside a lab namespace has its own loopback and cannot reach ours."""
    name = _create_db(postgres_server)
    server = postgres_server
    yield f"postgresql://postgres@/{name}?host={server.socket_dir}&port={server.port}"
    _drop_db(postgres_server, name)
