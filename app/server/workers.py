"""`sgmirror serve`'s processes: uvicorn in this process, or N workers sharing the HTTP and SMTP listeners.

With workers, the parent binds every listening socket once (uvicorn's HTTP socket, the relay's two ports)
and hands them to each worker it spawns; the workers are otherwise independent processes on one PostgreSQL
database, each with its own writer, relay sessions and scheduler pass (`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.kernel import tls
from app.kernel.config import Settings, get_settings
from app.server import connections, http_protocol
from app.server.listeners import listening_socket
from app.smtp import server as smtp_server

# uvicorn's supervisor kills a worker that does not answer its ping within this time (5 s by default). On a
# busy machine a worker under load or still importing the app can take longer than that; being killed loses
# its in-flight requests and costs a restart, so only a worker silent for this long counts as hung.
HEALTHCHECK_SECONDS = 60


class ServeConfig(uvicorn.Config):
    """uvicorn's config plus the relay's listeners and HTTPS; multiprocessing passes them to each worker."""

    smtp_listeners: smtp_server.Listeners | None = None
    # The HTTPS port and the certificate files: a context is made in each process (it does not pickle).
    https: tuple[int, Path, Path | None] | None = None

    def __init__(self, app: str, **options: Any) -> None:
        super().__init__(app, timeout_worker_healthcheck=HEALTHCHECK_SECONDS, **options)

    def load(self) -> None:
        # Runs in the serving process before the app is built, so its lifespan serves the shared relay sockets.
        settings = get_settings()
        ports = 1 + (self.https is not None) + (2 if settings.smtp_enabled else 0)
        connections.serve_ports(ports)  # the relay, started by the app's lifespan, shares the open-file limit
        http_protocol.configure(
            max_connections=connections.per_port_cap(settings.max_connections, ports=ports),
            request_timeout=settings.http_request_timeout,
        )
        if self.smtp_listeners is not None:
            smtp_server.adopt(self.smtp_listeners)
        if self.https is not None:
            port, cert, key = self.https
            http_protocol.serve_tls_on(port, tls.context_for(cert, key))
        super().load()


def bind_https(config: ServeConfig, settings: Settings) -> socket.socket | None:
    """The HTTPS listener (its certificate made once, here), or None when HTTPS is switched off."""
    if not settings.https_enabled:
        return None
    cert, key = tls.certificate_files(settings)
    tls.trust_file(settings)  # the file `sgmirror cert` names, there from the first start
    sock = listening_socket(config.host, settings.https_port)
    config.https = (sock.getsockname()[1], cert, key)
    return sock


def serve_one(config: ServeConfig, https: socket.socket | None) -> None:
    """uvicorn in this process, on the HTTP port and the HTTPS listener."""
    sockets = [config.bind_socket(), *([https] if https else [])]
    try:
        # uvicorn re-raises the SIGINT it stopped on; a clean stop ends with status 0, as `uvicorn.run` does.
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()


def bind_relay(settings: Settings) -> smtp_server.Listeners:
    """The relay's listening sockets, and its certificate made once here rather than by racing workers."""
    tls.certificate_files(settings)
    return smtp_server.bind(settings)


def serve_many(config: ServeConfig, https: socket.socket | None) -> None:
    """Bind HTTP once and supervise `config.workers` worker processes until SIGINT or SIGTERM."""
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock, *([https] if https else [])]).run()
    finally:
        sock.close()
        if https is not None:
            https.close()
        if config.smtp_listeners is not None:
            config.smtp_listeners.smtp.close()
            config.smtp_listeners.smtps.close()
