"""The Alembic migrations; installed as `app.migrations`, found with importlib.resources."""
