"""How the mirror runs: worker processes, the HTTP protocol limits, the access log, ASGI middleware, health."""
