"""Initial schema: runs, their probes, and their devices.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("site", sa.String(200), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("scanner_version", sa.String(50), nullable=False),
        sa.Column("fingerprint_version", sa.String(50), nullable=False),
        sa.Column("oui_source", sa.JSON, nullable=False),
        sa.Column("scope", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("strings", sa.JSON, nullable=False),
        sa.Column("devices", sa.Integer, nullable=False),
        sa.Column("covered", sa.Integer, nullable=False),
        sa.Column("review", sa.Integer, nullable=False),
        sa.Column("clear", sa.Integer, nullable=False),
        sa.Column("waived", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
    )
    op.create_index("ix_runs_site_started", "runs", ["site", "started"])
    op.create_table(
        "probes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("interface", sa.String(50), nullable=False),
        sa.Column("sent", sa.Integer, nullable=False),
        sa.Column("answered", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_probes_run", "probes", ["run_id"])
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("mac", sa.String(32)),
        sa.Column("serial", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("covered_vendor", sa.String(20)),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_devices_run", "devices", ["run_id"])


def downgrade() -> None:
    op.drop_table("devices")
    op.drop_table("probes")
    op.drop_table("runs")
