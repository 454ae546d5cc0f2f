"""The database: engine and sessions, the group-commit writer, bulk inserts, checkpoints, migrations."""
