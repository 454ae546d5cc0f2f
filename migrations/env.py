"""Alembic environment: metadata from every area's tables (app.models); URL from the caller, else from Settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app import models  # noqa: F401  (registers the tables)
from app.kernel.config import get_settings
from app.kernel.db import migrate
from app.kernel.db.base import Base
from app.kernel.db.session import make_engine

target_metadata = Base.metadata


def _url() -> str:
    url = context.config.attributes.get("database_url")
    return str(url) if url else get_settings().resolved_database_url()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=migrate.compared_with_models,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
