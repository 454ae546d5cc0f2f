"""search indexes: message labels, listing indexes, substring search over recipients, words

Revision ID: b1c2d3e4f501
Revises: a9b1c2d3e405
Create Date: 2026-12-08 01:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b1c2d3e4f501"
down_revision: str | None = "a9b1c2d3e405"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# SQLite: an FTS5 trigram index over the recipients' address, sender and subject. The search index pass
# fills it a moment after each send (app/inspection/indexer.py); a trigger takes a deleted recipient out.
_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE message_recipients_search USING fts5(email, from_email, subject, tokenize='trigram')",
    "CREATE TRIGGER message_recipients_search_delete AFTER DELETE ON message_recipients BEGIN "
    "DELETE FROM message_recipients_search WHERE rowid = old.rowid; END",
)
# PostgreSQL: one trigram GIN index over the same three fields joined (queries repeat the expression,
# then check the field itself).
_PG_SEARCH = (
    "CREATE INDEX ix_message_recipients_search ON message_recipients USING gin "
    "((email || ' ' || from_email || ' ' || coalesce(subject, '')) gin_trgm_ops)"
)

# SQLite: the words under an FTS5 index (diacritics folded), kept by triggers as the rows come and go.
_SQLITE_WORDS = (
    "CREATE VIRTUAL TABLE message_words_search USING fts5(words, content='message_words', content_rowid='seq', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER message_words_search_insert AFTER INSERT ON message_words BEGIN "
    "INSERT INTO message_words_search(rowid, words) VALUES (new.seq, new.words); END",
    "CREATE TRIGGER message_words_search_delete AFTER DELETE ON message_words BEGIN "
    "INSERT INTO message_words_search(message_words_search, rowid, words) VALUES ('delete', old.seq, old.words); END",
)

def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "message_labels",
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_labels_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("kind", "value", "created_at", "message_id", name=op.f("pk_message_labels")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_message_labels_message_id", "message_labels", ["message_id"])

    op.drop_index("ix_messages_account_id", table_name="messages")
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.create_index("ix_messages_created", "messages", ["created_at", "id"])
    op.create_index("ix_messages_account_created", "messages", ["account_id", "created_at", "id"])

    op.drop_index("ix_message_recipients_email", table_name="message_recipients")
    op.create_index(
        "ix_message_recipients_account_status", "message_recipients", ["account_id", "status", "last_event_time"]
    )

    if sqlite:
        for statement in _SQLITE_SEARCH:
            op.execute(statement)
    elif _trigram_extension():
        op.execute(_PG_SEARCH)
    _words(sqlite)


def _words(sqlite: bool) -> None:
    """The words the search index pass writes; it also indexes every message stored before this revision."""
    op.create_table(
        "message_words",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("words", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_words_message_id_messages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_message_words")),
        sa.UniqueConstraint("message_id", name=op.f("uq_message_words_message_id")),
        sqlite_autoincrement=True,
    )
    if sqlite:
        for statement in _SQLITE_WORDS:
            op.execute(statement)
    else:
        op.execute("CREATE INDEX ix_message_words_search ON message_words USING gin (words)")


def _trigram_extension() -> bool:
    """pg_trgm, or False (searches then scan) where this role may not create it."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        log.warning("pg_trgm is not available: substring searches over stored mail will scan")
        return False
    return True


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete"):
            op.execute(f"DROP TRIGGER message_words_search_{trigger}")
        op.execute("DROP TABLE message_words_search")
    op.drop_table("message_words")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER message_recipients_search_delete")
        op.execute("DROP TABLE message_recipients_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_recipients_search")
    op.drop_index("ix_message_recipients_account_status", table_name="message_recipients")
    op.create_index("ix_message_recipients_email", "message_recipients", ["email"])
    for name in ("created", "account_created"):
        op.drop_index(f"ix_messages_{name}", table_name="messages")
    op.create_index("ix_messages_account_id", "messages", ["account_id"])
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.drop_index("ix_message_labels_message_id", table_name="message_labels")
    op.drop_table("message_labels")
