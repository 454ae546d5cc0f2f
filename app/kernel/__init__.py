"""The shared kernel: what every area uses and nothing area-specific.

Settings, the transport-neutral errors and their HTTP renderer, the error envelopes, the request
dependencies (unit of work, principal, admin guard), the Principal, ids, timestamps and the in-process
caches, and the database (engine, group-commit writer, bulk inserts, migrations). A module belongs here
only if most areas import it and it knows no area's rules.
"""
