"""The store's tables (SQLAlchemy Core: a nightly /16 is 65,536 device rows, written in bulk).

A device row keeps the columns that history, diff and the combined report filter or compare on,
and the rest of the device (identity, evidence with the raw values seen, finding, basis, waiver)
as one JSON document, so a stored run turns back into the same Device objects. Changes here need
a new migration in ``migrations/versions``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("site", String(200), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("scanner_version", String(50), nullable=False),
    Column("fingerprint_version", String(50), nullable=False),
    Column("oui_source", JSON, nullable=False),
    Column("scope", JSON, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("strings", JSON, nullable=False),  # repeated texts the device documents refer to
    Column("devices", Integer, nullable=False),
    Column("covered", Integer, nullable=False),
    Column("review", Integer, nullable=False),
    Column("clear", Integer, nullable=False),
    Column("waived", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Index("ix_runs_site_started", "site", "started"),
)

probes = Table(
    "probes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("interface", String(50), nullable=False),
    Column("sent", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("duration", Float, nullable=False),
    Column("status", String(20), nullable=False),
    Column("error", Text),
    Index("ix_probes_run", "run_id"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(300), nullable=False),  # identity across runs, see identity.py
    Column("ip", String(64)),
    Column("mac", String(32)),
    Column("serial", String(200)),
    Column("status", String(20), nullable=False),
    Column("covered_vendor", String(20)),
    Column("change", String(20), nullable=False),
    Column("waived", Boolean, nullable=False),  # an active waiver at the time of the run
    Column("digest", String(32), nullable=False),  # of the fields a change is judged by
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_devices_run", "run_id"),  # every query reads one run's devices
)
