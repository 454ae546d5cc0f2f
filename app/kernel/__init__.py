"""The shared kernel: what every area uses, and no area's own rules.

Settings, the transport-neutral errors and their HTTP renderer, the error envelopes, the request
dependencies (unit of work, principal, admin guard, JSON bodies), the Principal, ids, timestamps, the
in-process caches, and the database (engine, group-commit writer, bulk inserts, checkpoints, migrations).
A module belongs here only if most areas import it. Where the kernel must ask an area, it asks that area's
one module: the Principal asks the state matrix (`app.accounts.state`); the principal dependency
authenticates through `app.api_keys.auth` and counts the request in `app.quotas.edge`.
"""
