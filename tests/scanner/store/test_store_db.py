"""The store against SQLite and a real PostgreSQL server: round trips, history, prune, schema
versions, and every failure a user can cause ending in a UserError with a hint."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_factory import DAHUA, HIK, PC, PRINTER, dev, run

from scanner.errors import UserError
from scanner.model import Change, Status, Waiver
from scanner.store import Store, StoreError, combined_latest, normalize_url
from scanner.store.changes import marks_of
from scanner.store.paths import data_dir, default_url


def test_a_run_comes_back_as_it_went_in(store_url: str) -> None:
    waiver = Waiver(f"mac:{DAHUA}", "bench unit", "CISO", date(2027, 1, 31), "CR-1")
    original = run(
        [
            dev("198.18.0.11", HIK, Status.COVERED, serial="DS-1", firmware="V5.7"),
            dev("198.18.0.12", DAHUA, Status.REVIEW, waiver=waiver, change=Change.CHANGED),
            dev("198.18.0.13", None, hostnames=("nas",), notes=("proxy-ARP",)),
        ]
    )
    hik = original.devices[0]
    later = hik.last_seen + timedelta(seconds=5)
    moved = dataclasses.replace(hik, last_seen=later, first_seen=later - timedelta(hours=1))
    original = dataclasses.replace(original, devices=(moved, *original.devices[1:]))
    with Store.open(store_url) as store:
        store.save(original)
        loaded = store.load(original.id)
    assert loaded == original


def test_history_is_newest_first_with_counts(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.save(run([dev("198.18.0.11", HIK, Status.COVERED)], hours=0))
        store.save(run([dev("198.18.0.11", HIK, Status.COVERED), dev("1.2.3.4", PC)], hours=1))
        store.save(run([dev("198.18.0.9", PRINTER)], site="plant-2", hours=2, complete=False))
        runs = store.runs()
        assert [(r.site, r.devices, r.covered, r.clear, r.complete) for r in runs] == [
            ("plant-2", 1, 0, 1, False),
            ("default", 2, 1, 1, True),
            ("default", 1, 1, 0, True),
        ]
        assert [r.site for r in store.runs(site="default")] == ["default", "default"]
        assert store.sites() == ["default", "plant-2"]


def test_prune_keeps_the_newest_per_site(store_url: str) -> None:
    with Store.open(store_url) as store:
        saved = [run([dev("198.18.0.11", HIK, Status.COVERED)], hours=h) for h in range(4)]
        other = run([dev("198.18.0.9", PRINTER)], site="b", hours=0)
        for r in [*saved, other]:
            store.save(r)
        assert store.prune(2) == 2
        assert {r.id for r in store.runs()} == {saved[3].id, saved[2].id, other.id}
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT count(*) FROM devices")).scalar()
        assert rows == 3  # the pruned runs' devices went with them
        assert store.prune(1, site="b") == 0


def test_previous_run_prefers_the_latest_complete_one(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.previous_for("default") is None
        full = run([dev("198.18.0.11", HIK, Status.COVERED)], hours=0)
        partial = run([], hours=1, complete=False)
        store.save(full)
        store.save(partial)
        previous = store.previous_for("default")
        assert previous is not None and previous.id == full.id
        assert store.latest("default") == partial.id
        assert store.previous_marks("default") == marks_of(full)


def test_run_ids_resolve_by_prefix(store_url: str) -> None:
    with Store.open(store_url) as store:
        r = run([], run_id="abcdef12-0000-0000-0000-000000000000")
        store.save(r)
        assert store.resolve("abcdef") == r.id
        assert store.resolve(r.id) == r.id
        with pytest.raises(UserError, match="no run 'zzz'"):
            store.resolve("zzz")
        with pytest.raises(UserError, match="no run"):
            store.resolve("%")  # LIKE wildcards are taken literally


def test_combined_latest_takes_each_sites_latest_run(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.save(run([dev("198.18.0.11", HIK, Status.COVERED)], site="hq", hours=0))
        store.save(run([dev("198.18.0.12", DAHUA, Status.COVERED)], site="hq", hours=1))
        store.save(run([dev("198.18.1.9", PRINTER)], site="plant", hours=2, complete=False))
    combined = combined_latest(store_url)
    assert sorted((d.site, d.mac) for d in combined.devices) == [("hq", DAHUA), ("plant", PRINTER)]
    assert combined.complete is False
    assert any("plant" in w and "incomplete" in w for w in combined.warnings)
    assert set(combined.scope.interfaces) == {"hq:eth0", "plant:eth0"}
    assert combined.scope.target_count == 512
    from reports import get_format
    from reports.schema import validate

    doc = json.loads(get_format("json").render(combined))
    validate(doc)
    assert {d["site"] for d in doc["devices"]} == {"hq", "plant"}
    assert b"plant" in get_format("html").render(combined)


def test_combined_of_an_empty_store_is_a_user_error(store_url: str) -> None:
    Store.open(store_url).close()  # an existing store without runs
    with pytest.raises(UserError, match="no runs"):
        combined_latest(store_url)


def test_a_newer_schema_is_refused(store_url: str) -> None:
    Store.open(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this ndaa-scan") as info:
        Store.open(store_url)
    assert info.value.hint and "upgrade ndaa-scan" in info.value.hint


def test_an_older_store_is_upgraded(store_url: str) -> None:
    """A store at base (no ndaa-scan tables yet, as before the first migration) is brought to
    head; opening it again is a no-op."""
    from alembic.runtime.migration import MigrationContext

    Store.open(store_url).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        for table in ("devices", "probes", "runs", "alembic_version"):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    with Store.open(store_url) as store:
        store.save(run([]))
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
    engine.dispose()


def test_a_foreign_database_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (x INTEGER)")
    with pytest.raises(StoreError, match="no ndaa-scan schema version"):
        Store.open(str(path))


def test_a_corrupt_sqlite_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="not a database") as info:
        Store.open(str(path))
    assert info.value.exit_code == 2 and info.value.hint


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(str(tmp_path))


def test_an_unreachable_server_is_a_user_error() -> None:
    with pytest.raises(StoreError, match="cannot use the store") as info:
        Store.open("postgresql://nobody:s3cret@127.0.0.1:1/runs")
    assert "s3cret" not in info.value.message  # passwords never shown
    assert info.value.hint and "server is up" in info.value.hint


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////var/x.db", "sqlite:////var/x.db"),
        ("/var/lib/ndaa/runs.db", "sqlite:////var/lib/ndaa/runs.db"),
    ],
)
def test_store_urls(value: str, url: str) -> None:
    assert normalize_url(value) == url


def test_unsupported_scheme_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unsupported store URL scheme 'mysql'"):
        normalize_url("mysql://u@h/db")


def test_default_store_lives_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert default_url() == "sqlite:////srv/data/ndaa-scan/runs.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert str(data_dir()).endswith("/.local/share/ndaa-scan")


def test_a_run_is_saved_whole_or_not_at_all(store_url: str) -> None:
    """Saving the same run twice fails on its id and leaves no stray device rows."""
    r = run([dev("198.18.0.11", HIK, Status.COVERED)])
    with Store.open(store_url) as store:
        store.save(r)
        clash = dataclasses.replace(r, devices=(*r.devices, dev("198.18.0.12", PC)))
        with pytest.raises(StoreError, match="cannot write to the store"):
            store.save(clash)
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM devices")).scalar() == 1


def test_times_come_back_aware_in_utc(store_url: str) -> None:
    r = run([])
    with Store.open(store_url) as store:
        store.save(r)
        (summary,) = store.runs()
    assert summary.started == r.started and summary.started.utcoffset() is not None
    assert isinstance(summary.started, datetime) and r.started.tzinfo is UTC


def test_nothing_heavy_is_imported_before_the_sweep() -> None:
    """A scan installs its SIGTERM handler only after its imports: SQLAlchemy (a second under
    load) must wait until the sweep is over."""
    import subprocess
    import sys

    code = "import scanner.store, scanner.store.paths, scanner.history, scanner.lock, scanner.logs"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert "sqlalchemy" not in out.stderr and "alembic" not in out.stderr
