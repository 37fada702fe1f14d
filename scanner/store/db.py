"""The run store: open (and upgrade) a database, save runs, read them back.

Every database problem the user can fix (bad URL, server down, not a database, a store written by
a newer ndaa-scan, an unknown run id) surfaces as a UserError with a hint, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from scanner.errors import UserError
from scanner.model import (
    Change,
    Device,
    OuiSource,
    ProbeStats,
    ProbeStatus,
    ScanRun,
    Scope,
    Status,
)
from scanner.store import schema
from scanner.store.changes import Mark, digest
from scanner.store.codec import (
    Moments,
    Strings,
    device_data,
    device_from_data,
    identity_key,
)
from scanner.store.paths import normalize_url, shown_url

_BATCH = 5000  # device rows per INSERT batch: bounded memory, few round trips


class StoreError(UserError):
    """The store could not be used; the report of the scan that just ran is already written."""


@dataclass(frozen=True)
class RunSummary:
    id: str
    site: str
    started: datetime
    finished: datetime
    complete: bool
    devices: int
    covered: int
    review: int
    clear: int
    waived: int
    new: int


def _hint(url: str) -> str:
    if url.startswith("sqlite"):
        return (
            "check the file given to --store (or NDAA_SCAN_STORE); move a damaged file away "
            "and a new store is created on the next run"
        )
    return "check the --store URL, that the server is up and that this user may connect"


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without a zone; we only ever store UTC."""
    from datetime import UTC

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Store:
    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, value: str | None = None, *, create: bool = True) -> Store:
        """`create=False` is for commands that only read (history, diff, report): a SQLite file
        that does not exist is then an error, not a new empty store left behind."""
        url = normalize_url(value)
        shown = shown_url(url)
        if not create and url.startswith("sqlite"):
            database = sa.engine.make_url(url).database
            if database and database != ":memory:" and not Path(database).exists():
                raise StoreError(
                    f"no run store at {database}",
                    "check --store (or NDAA_SCAN_STORE); a store is created by the first "
                    "`ndaa-scan scan` that uses it",
                )
        try:
            engine = _engine(url)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise StoreError(f"invalid store URL {shown}: {exc}", _hint(url)) from None
        store = cls(engine, url)
        try:
            with engine.begin() as conn:
                _migrate(conn, shown)
        except UserError:
            engine.dispose()
            raise
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot use the store {shown}: {_reason(exc)}", _hint(url)) from None
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _conn(self, write: bool = False) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            verb = "write to" if write else "read"
            raise StoreError(
                f"cannot {verb} the store {shown_url(self.url)}: {_reason(exc)}", _hint(self.url)
            ) from None

    # --- writing ------------------------------------------------------------------------------

    def save(self, run: ScanRun) -> None:
        """The run, its probes and devices in one transaction: a store never holds half a run."""
        from collections import Counter

        counts = Counter(d.finding.status for d in run.devices)
        waived = sum(1 for d in run.devices if d.waiver is not None and not d.waiver_expired)
        scope = run.scope
        with self._conn(write=True) as conn:
            conn.execute(
                schema.runs.insert(),
                {
                    "id": run.id,
                    "site": scope.site,
                    "started": run.started,
                    "finished": run.finished,
                    "complete": run.complete,
                    "scanner_version": run.scanner_version,
                    "fingerprint_version": run.fingerprint_version,
                    "oui_source": {
                        "name": run.oui_source.name,
                        "version": run.oui_source.version,
                        "date": run.oui_source.date,
                    },
                    "scope": {
                        "targets": list(scope.targets),
                        "interfaces": list(scope.interfaces),
                        "excludes": list(scope.excludes),
                        "rate": scope.rate,
                        "retries": scope.retries,
                        "timeout": scope.timeout,
                        "target_count": scope.target_count,
                    },
                    "warnings": list(run.warnings),
                    "strings": [],  # filled in once the devices are written
                    "devices": len(run.devices),
                    "covered": counts[Status.COVERED],
                    "review": counts[Status.REVIEW],
                    "clear": counts[Status.CLEAR],
                    "waived": waived,
                    "new": sum(1 for d in run.devices if d.change is Change.NEW),
                },
            )
            if run.probes:
                conn.execute(
                    schema.probes.insert(),
                    [
                        {
                            "run_id": run.id,
                            "name": p.name,
                            "interface": p.interface,
                            "sent": p.sent,
                            "answered": p.answered,
                            "duration": p.duration,
                            "status": p.status.value,
                            "error": p.error,
                        }
                        for p in run.probes
                    ],
                )
            when, strings = Moments(), Strings()
            strings.expect(run.devices)
            for start in range(0, len(run.devices), _BATCH):
                conn.execute(
                    schema.devices.insert(),
                    [
                        {
                            "run_id": run.id,
                            "key": identity_key(d),
                            "ip": d.ip,
                            "mac": d.mac,
                            "serial": d.identity.serial,
                            "status": d.finding.status.value,
                            "covered_vendor": d.finding.covered_vendor,
                            "change": d.change.value,
                            "waived": d.waiver is not None and not d.waiver_expired,
                            "digest": digest(d),
                            "first_seen": d.first_seen,
                            "data": device_data(d, strings, when),
                        }
                        for d in run.devices[start : start + _BATCH]
                    ],
                )
            conn.execute(
                schema.runs.update().where(schema.runs.c.id == run.id),
                {"strings": strings.table},
            )

    def prune(self, keep: int, site: str | None = None) -> int:
        """Delete all but the `keep` latest runs of each site (or of `site`); returns how many
        runs were deleted. Children first: SQLite does not enforce ON DELETE CASCADE unasked."""
        runs = schema.runs
        with self._conn(write=True) as conn:
            query = sa.select(runs.c.id, runs.c.site).order_by(
                runs.c.site, runs.c.started.desc(), runs.c.id
            )
            if site is not None:
                query = query.where(runs.c.site == site)
            seen: dict[str, int] = {}
            doomed = []
            for run_id, run_site in conn.execute(query):
                seen[run_site] = seen.get(run_site, 0) + 1
                if seen[run_site] > keep:
                    doomed.append(run_id)
            for start in range(0, len(doomed), 500):
                chunk = doomed[start : start + 500]
                conn.execute(schema.devices.delete().where(schema.devices.c.run_id.in_(chunk)))
                conn.execute(schema.probes.delete().where(schema.probes.c.run_id.in_(chunk)))
                conn.execute(runs.delete().where(runs.c.id.in_(chunk)))
        return len(doomed)

    # --- reading ------------------------------------------------------------------------------

    def runs(self, site: str | None = None, limit: int | None = None) -> list[RunSummary]:
        """Newest first."""
        r = schema.runs
        query = sa.select(
            r.c.id,
            r.c.site,
            r.c.started,
            r.c.finished,
            r.c.complete,
            r.c.devices,
            r.c.covered,
            r.c.review,
            r.c.clear,
            r.c.waived,
            r.c.new,
        ).order_by(r.c.started.desc(), r.c.id)
        if site is not None:
            query = query.where(r.c.site == site)
        if limit is not None:
            query = query.limit(limit)
        with self._conn() as conn:
            rows = conn.execute(query).all()
        return [
            RunSummary(
                row.id,
                row.site,
                _aware(row.started),
                _aware(row.finished),
                bool(row.complete),
                row.devices,
                row.covered,
                row.review,
                row.clear,
                row.waived,
                row.new,
            )
            for row in rows
        ]

    def sites(self) -> list[str]:
        with self._conn() as conn:
            return list(
                conn.execute(sa.select(schema.runs.c.site).distinct().order_by(schema.runs.c.site))
                .scalars()
                .all()
            )

    def resolve(self, ref: str) -> str:
        """A run id, or a unique prefix of one (as `history` shows them), to the full id."""
        r = schema.runs
        pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._conn() as conn:
            ids = list(
                conn.execute(sa.select(r.c.id).where(r.c.id.like(pattern, escape="\\")).limit(2))
                .scalars()
                .all()
            )
        if ref in ids:
            return ref
        if len(ids) == 1:
            return str(ids[0])
        if not ids:
            raise UserError(f"no run {ref!r} in the store", "`ndaa-scan history` lists the runs")
        raise UserError(f"run id {ref!r} is ambiguous", "give more of the id")

    def latest(self, site: str, complete_only: bool = False) -> str | None:
        r = schema.runs
        query = sa.select(r.c.id).where(r.c.site == site)
        if complete_only:
            query = query.where(r.c.complete.is_(True))
        query = query.order_by(r.c.started.desc(), r.c.id).limit(1)
        with self._conn() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def previous_for(self, site: str) -> ScanRun | None:
        """What a new run of `site` is compared with: its latest complete run (an interrupted
        run saw only part of the network, and would make the rest look new), else its latest."""
        run_id = self.latest(site, complete_only=True) or self.latest(site)
        return None if run_id is None else self.load(run_id)

    def previous_marks(self, site: str) -> dict[str, Mark] | None:
        """`previous_for`, reduced to what the comparison needs (no device documents parsed)."""
        run_id = self.latest(site, complete_only=True) or self.latest(site)
        if run_id is None:
            return None
        d = schema.devices
        query = sa.select(d.c.key, d.c.digest, d.c.first_seen).where(d.c.run_id == run_id)
        with self._conn() as conn:
            return {key: Mark(dig, _aware(first)) for key, dig, first in conn.execute(query)}

    def keys_before(self, site: str, before: datetime) -> set[str]:
        """Identity keys seen in the runs of `site` that started before `before`."""
        r, d = schema.runs, schema.devices
        query = (
            sa.select(d.c.key)
            .distinct()
            .join(r, r.c.id == d.c.run_id)
            .where(r.c.site == site, r.c.started < before)
        )
        with self._conn() as conn:
            return set(conn.execute(query).scalars().all())

    def load(self, run_id: str) -> ScanRun:
        with self._conn() as conn:
            row = conn.execute(
                sa.select(schema.runs).where(schema.runs.c.id == run_id)
            ).one_or_none()
            if row is None:
                raise UserError(f"no run {run_id!r} in the store", "`ndaa-scan history` lists them")
            probe_rows = conn.execute(
                sa.select(schema.probes)
                .where(schema.probes.c.run_id == run_id)
                .order_by(schema.probes.c.id)
            ).all()
            data = conn.execute(
                sa.select(schema.devices.c.data)
                .where(schema.devices.c.run_id == run_id)
                .order_by(schema.devices.c.id)
            ).scalars()
            strings = Strings(list(row.strings))
            devices = tuple(device_from_data(item, strings) for item in data)
        return _run_from_row(row, probe_rows, devices)


def _run_from_row(row: Any, probe_rows: Sequence[Any], devices: tuple[Device, ...]) -> ScanRun:
    scope: dict[str, Any] = row.scope
    oui: dict[str, str] = row.oui_source
    return ScanRun(
        id=row.id,
        scope=Scope(
            targets=tuple(scope["targets"]),
            interfaces=tuple(scope["interfaces"]),
            excludes=tuple(scope["excludes"]),
            rate=scope["rate"],
            retries=scope["retries"],
            timeout=scope["timeout"],
            target_count=scope["target_count"],
            site=row.site,
        ),
        started=_aware(row.started),
        finished=_aware(row.finished),
        scanner_version=row.scanner_version,
        fingerprint_version=row.fingerprint_version,
        oui_source=OuiSource(oui["name"], oui["version"], oui["date"]),
        probes=tuple(
            ProbeStats(
                name=p.name,
                sent=p.sent,
                answered=p.answered,
                duration=p.duration,
                status=ProbeStatus(p.status),
                error=p.error,
                interface=p.interface,
            )
            for p in probe_rows
        ),
        devices=devices,
        complete=bool(row.complete),
        warnings=tuple(row.warnings),
    )


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            path = Path(database)
            if path.is_dir():
                raise ValueError(f"{path} is a directory")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
        # Several sites may share one file; wait for a writer instead of failing at once.
        return sa.create_engine(url, connect_args={"timeout": 30}, json_serializer=_json)
    return sa.create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": 10}, json_serializer=_json
    )


_json = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _script_location() -> str:
    return str(importlib.resources.files("scanner.store").joinpath("migrations"))


def _migrate(conn: Connection, shown: str) -> None:
    """Bring the schema up to this version's head; refuse a store from a newer ndaa-scan rather
    than write rows it would misread."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", _script_location())
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the store {shown} has schema revision {current!r}, newer than this ndaa-scan "
            f"knows (up to {head!r})",
            "upgrade ndaa-scan on this machine, or point --store at another database",
        )
    if current is None and sa.inspect(conn).has_table("runs"):
        raise StoreError(
            f"{shown} has a 'runs' table but no ndaa-scan schema version",
            "point --store at a database of its own",
        )
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
