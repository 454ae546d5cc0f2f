"""All tables, imported here so Alembic and the app see one metadata."""

from app.db.models.accounts import Account, ApiKey

__all__ = ["Account", "ApiKey"]
