"""`sgmirror`: serve, smtp, migrate, seed, create-key, reset, cert, openapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from app.accounts import bootstrap
from app.accounts import service as accounts
from app.accounts.models import Account
from app.api_keys import scopes
from app.api_keys import service as api_keys
from app.kernel import deps, tls
from app.kernel.config import Settings, describe_settings, get_settings
from app.kernel.db import migrate
from app.kernel.db.session import Database
from app.kernel.errors import SendGridError
from app.server import http_protocol
from app.server import workers as processes

SQLITE_WORKERS_REFUSED = (
    "sgmirror: --workers above 1 needs PostgreSQL (SGMIRROR_DATABASE_URL=postgresql://...): processes "
    "sharing one SQLite file would queue on its single write lock. Run one worker on SQLite."
)


def _database(settings: Settings) -> Database:
    url = settings.resolved_database_url()
    migrate.upgrade(url)
    return Database(url)


def _print_report(report: bootstrap.Report, *, key_hint: bool = False) -> None:
    """What a bootstrap did; with `key_hint`, how to get a key when none was made now."""
    for line in report.lines:
        print(line)
    if key_hint and not report.first_start:
        print(bootstrap.KEYS_HINT)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, bootstrap on first start, then run uvicorn (and the relay) in one process or N workers."""
    if args.workers < 1:
        print("sgmirror: --workers must be 1 or more.", file=sys.stderr)
        return 2
    db = _database(settings)
    if args.workers > 1 and db.engine.dialect.name == "sqlite":
        db.dispose()
        print(SQLITE_WORKERS_REFUSED, file=sys.stderr)
        return 2
    with db.session() as session:
        _print_report(bootstrap.from_settings(session, settings), key_hint=True)
    db.dispose()
    host = args.host or settings.host
    port = args.port or settings.http_port
    if not settings.admin_token and not deps.is_loopback(host):
        settings = _with_generated_admin_token(settings, host)
    print(f"sendgrid-mirror: HTTP API on http://{host}:{port} (database: {db.engine.dialect.name})", flush=True)
    # Each worker (or the lifespan of the only process) reads its settings anew: the relay binds where HTTP does.
    os.environ["SGMIRROR_HOST"] = host
    get_settings.cache_clear()
    options: dict[str, Any] = {
        "app": "app.main:create_default_app",
        "factory": True,
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "access_log": args.access_log,
        # Header size and slow-client limits, and HTTPS (see app/server/http_protocol.py).
        "http": http_protocol.GuardedHttpToolsProtocol,
        # X-Forwarded-For/-Proto only from the proxies named (uvicorn's default believes any loopback peer, which
        # would let a local client pick the address the console throttles sign-ins by).
        "proxy_headers": bool(settings.forwarded_allow_ips.strip()),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    config = processes.ServeConfig(**options, workers=args.workers)
    try:
        https = processes.bind_https(config, settings)
    except OSError as error:
        print(f"sgmirror: cannot listen for HTTPS on {host}:{settings.https_port}: {error}", file=sys.stderr)
        return 2
    if config.https is not None:
        print(
            f"sendgrid-mirror: HTTPS API on https://{host}:{config.https[0]} (`sgmirror cert` to trust it)", flush=True
        )
    if args.workers == 1:
        if settings.smtp_enabled:
            ports = _smtp_ports(host, settings.smtp_port, settings.smtps_port)
            print(f"sendgrid-mirror: SMTP relay on {ports}", flush=True)
        processes.serve_one(config, https)
        return 0
    return _serve_workers(config, https, settings=get_settings())


def _with_generated_admin_token(settings: Settings, host: str) -> Settings:
    """Other machines can reach a non-loopback address: the admin API then needs a token, made here if unset."""
    token = secrets.token_urlsafe(24)
    os.environ["SGMIRROR_ADMIN_TOKEN"] = token  # the app (and each worker) reads its settings from the environment
    get_settings.cache_clear()
    print(
        f"sendgrid-mirror: {host} is reachable from other machines, so /_mirror needs a token; this start's "
        f"(shown once; set SGMIRROR_ADMIN_TOKEN to choose it): {token}",
        flush=True,
    )
    return get_settings()


def _serve_workers(config: processes.ServeConfig, https: socket.socket | None, *, settings: Settings) -> int:
    """N uvicorn workers; the parent binds HTTP(S) and the relay's two ports once and every worker serves them."""
    if settings.smtp_enabled:
        try:
            config.smtp_listeners = processes.bind_relay(settings)
        except OSError as error:
            print(f"sgmirror: cannot listen for SMTP on {settings.host}: {error}", file=sys.stderr)
            return 2
        ports = _smtp_ports(settings.host, *config.smtp_listeners.ports())
        print(f"sendgrid-mirror: SMTP relay on {ports}; one listener per port, {config.workers} workers", flush=True)
    processes.serve_many(config, https)
    return 0


def _smtp_ports(host: str, smtp_port: int, smtps_port: int) -> str:
    return f"{host}:{smtp_port} (STARTTLS) and {host}:{smtps_port} (implicit TLS); user 'apikey', password an API key"


def cmd_smtp(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, bootstrap on first start, then run the SMTP relay alone until SIGINT or SIGTERM."""
    db = _database(settings)
    with db.session() as session:
        _print_report(bootstrap.from_settings(session, settings), key_hint=True)
    try:
        asyncio.run(_relay_until_stopped(settings, db))
    finally:
        db.dispose()
    return 0


async def _relay_until_stopped(settings: Settings, db: Database) -> None:
    from app.kernel import background
    from app.scheduling import scheduler
    from app.smtp import server

    relay = await server.start(settings, db)
    # Alone, the relay also delivers the scheduled sends it accepts (serve's lifespan does that otherwise).
    deliveries = scheduler.start(db, settings.scheduler_interval)
    ports = _smtp_ports(settings.host, relay.port("smtp"), relay.port("smtps"))
    print(f"sendgrid-mirror: SMTP relay on {ports} (database: {db.engine.dialect.name})", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await background.stop(deliveries)
        await relay.close()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the migrations, then bootstrap an empty database as the first start does."""
    db = _database(settings)
    try:
        with db.session() as session:
            report = bootstrap.from_settings(session, settings)
    finally:
        db.dispose()
    print("Database is at the latest migration.")
    _print_report(report)
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    document = _load_document(Path(args.file))
    db = _database(settings)
    with db.session() as session:
        _print_report(bootstrap.from_settings(session, settings))
        _print_report(bootstrap.apply_seed(session, document))
    return 0


def _load_document(path: Path) -> Any:
    text = path.read_text()
    return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)


def cmd_create_key(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(settings)
    with db.session() as session:
        account = accounts.by_username(session, args.account) or session.get(Account, args.account)
        if account is None:
            empty = "" if bootstrap.is_bootstrapped(session) else f" {bootstrap.NOT_BOOTSTRAPPED}"
            print(f"No account with username or id {args.account!r}.{empty}", file=sys.stderr)
            return 2
        key_scopes = args.scopes or scopes.full_access_scopes()
        created = api_keys.add_key(session, account_id=account.id, name=args.name, key_scopes=sorted(key_scopes))
    print(created.raw)
    return 0


def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    db = _database(settings)
    with db.session() as session:
        removed, report = bootstrap.reset(session, settings)
        _print_report(report)
    print("Rows removed: " + (", ".join(f"{table} {count}" for table, count in removed.items()) or "none"))
    print("All data removed; the partner and 'default' accounts were created again.")
    return 0


TRUST_HELP = """\
Certificate of the HTTPS API and the SMTP relay (no private key): {path}
{origin}
HTTPS API: https://{host}:{port}

Trust it from a client, with certificate checks left on:
  Python (the sendgrid SDK, urllib):  SSL_CERT_FILE={path}
  Python requests:                    REQUESTS_CA_BUNDLE={path}
  Node (@sendgrid/client, /mail):     NODE_EXTRA_CA_CERTS={path}
  curl:                               curl --cacert {path} https://{host}:{port}/_mirror/health
  PHP:                                openssl.cafile={path} and curl.cainfo={path} in php.ini
  Java:                               keytool -importcert -noprompt -alias sendgrid-mirror -file {path} \\
                                        -keystore mirror.jks -storepass changeit
                                      java -Djavax.net.ssl.trustStore=mirror.jks \\
                                        -Djavax.net.ssl.trustStorePassword=changeit ...
SSL_CERT_FILE replaces the system's certificate authorities for that process; the others add to them."""


def cmd_cert(args: argparse.Namespace, settings: Settings) -> int:
    """Print where the certificate is (made now on first use) and how to trust it from common clients."""
    origin = (
        "Given by SGMIRROR_TLS_CERT."
        if settings.tls_cert is not None
        else "Made by the mirror for localhost, 127.0.0.1 and ::1 (SGMIRROR_TLS_CERT / _KEY to use your own)."
    )
    path = tls.trust_file(settings)
    print(TRUST_HELP.format(path=path.resolve(), origin=origin, host=settings.host, port=settings.https_port))
    return 0


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    from app.main import create_app

    app = create_app(settings, database=Database("sqlite://"))
    print(yaml.safe_dump(app.openapi(), sort_keys=False, allow_unicode=True), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sgmirror",
        description="A local, faithful mirror of the Twilio SendGrid v3 API and SMTP relay.",
        epilog="Settings (environment variables):\n" + describe_settings(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('sendgrid-mirror')}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations, bootstrap on first start, run the mirror")
    serve.add_argument(
        "--workers", type=int, default=1, help="processes sharing the HTTP and SMTP listeners (>1 needs PostgreSQL)"
    )
    serve.add_argument("--host", help="bind address (default SGMIRROR_HOST)")
    serve.add_argument("--port", type=int, help="HTTP port (default SGMIRROR_HTTP_PORT)")
    serve.add_argument("--access-log", action="store_true", help="log each request line")
    commands.add_parser("smtp", help="apply migrations, bootstrap on first start, run the SMTP relay alone")
    commands.add_parser("migrate", help="apply database migrations, bootstrap an empty database")
    seed = commands.add_parser("seed", help="apply a YAML or JSON seed file (accounts, states, keys)")
    seed.add_argument("file")
    key = commands.add_parser("create-key", help="create an API key and print it once")
    key.add_argument("--account", default=bootstrap.DEFAULT_USERNAME, help="account username or id")
    key.add_argument("--name", default="cli key")
    key.add_argument("--scopes", nargs="*", help="scopes (default: full access)")
    commands.add_parser("reset", help="remove all data and bootstrap again")
    commands.add_parser("cert", help="where the HTTPS and relay certificate is, and how to trust it")
    commands.add_parser("openapi", help="print the served OpenAPI document as YAML")
    return parser


COMMANDS = {
    "serve": cmd_serve,
    "smtp": cmd_smtp,
    "migrate": cmd_migrate,
    "seed": cmd_seed,
    "create-key": cmd_create_key,
    "reset": cmd_reset,
    "cert": cmd_cert,
    "openapi": cmd_openapi,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, get_settings())
    except SendGridError as error:
        print(f"sgmirror: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
