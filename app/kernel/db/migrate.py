"""Run Alembic migrations from code (used by `sgmirror serve`/`migrate` and the tests).

The migrations sit at the top of the repository and install as the package `app.migrations`, so they are
found the same way in a source checkout and in an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("app.migrations")))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


# Search structures only the migrations create (SQLite FTS5 tables and their shadow tables, PostgreSQL
# expression indexes): comparing the models with the database leaves them out.
MIGRATION_ONLY = ("message_recipients_search", "message_words_search")


def compared_with_models(name: str | None, _type: str, _parents: object) -> bool:
    """Alembic's `include_name`: False for what the models do not describe."""
    return not (name or "").removeprefix("ix_").startswith(MIGRATION_ONLY)
