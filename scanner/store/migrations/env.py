"""Alembic environment: always run programmatically by scanner.store.migrate, which hands us an
open connection (there is no alembic.ini and no URL here)."""

from __future__ import annotations

from alembic import context

from scanner.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
)
with context.begin_transaction():
    context.run_migrations()
