"""`sgmirror serve`'s processes: uvicorn in this process, or N workers sharing the HTTP and SMTP listeners.

With workers, the parent binds every listening socket once (uvicorn's HTTP socket, the relay's two ports)
and hands them to each worker it spawns; the workers are otherwise independent processes on one PostgreSQL
database, each with its own writer, relay sessions and scheduler pass (`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.kernel.config import Settings
from app.smtp import server as smtp_server
from app.smtp import tls

# uvicorn's supervisor kills a worker that does not answer its ping within this time (5 s by default). On a
# busy machine a worker under load or still importing the app can take longer than that; being killed loses
# its in-flight requests and costs a restart, so only a worker silent for this long counts as hung.
HEALTHCHECK_SECONDS = 60


class ServeConfig(uvicorn.Config):
    """uvicorn's config plus the relay's listeners; multiprocessing passes both sockets to each worker."""

    smtp_listeners: smtp_server.Listeners | None = None

    def __init__(self, app: str, **options: Any) -> None:
        super().__init__(app, timeout_worker_healthcheck=HEALTHCHECK_SECONDS, **options)

    def load(self) -> None:
        # Runs in the worker before the app is built, so its lifespan serves the shared relay sockets.
        if self.smtp_listeners is not None:
            smtp_server.adopt(self.smtp_listeners)
        super().load()


def bind_relay(settings: Settings) -> smtp_server.Listeners:
    """The relay's listening sockets, and its certificate made once here rather than by racing workers."""
    tls.certificate_files(settings)
    return smtp_server.bind(settings)


def serve_many(config: ServeConfig) -> None:
    """Bind HTTP once and supervise `config.workers` worker processes until SIGINT or SIGTERM."""
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
        if config.smtp_listeners is not None:
            config.smtp_listeners.smtp.close()
            config.smtp_listeners.smtps.close()
