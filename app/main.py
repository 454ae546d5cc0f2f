"""The ASGI application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.delivery import rules_source as delivery_rules_source
from app.faults import service as faults
from app.faults.middleware import FaultInjection
from app.inspection import indexer
from app.kernel import background, http_errors
from app.kernel.config import Settings, get_settings
from app.kernel.db import storage
from app.kernel.db.session import Database
from app.mail import policy as send_policy
from app.mail.lane import MirrorApp, answer_mail_send
from app.quotas.edge import RateLimitHeaders
from app.retention import prune as retention
from app.router import ROUTERS
from app.scheduling import scheduler
from app.server import log_redaction
from app.server.middleware import EdgeGuard
from app.smtp import server as smtp_server
from app.webhooks import dispatch as webhook_dispatch

DESCRIPTION = (
    "A local, faithful, stateful mirror of the Twilio SendGrid v3 API. Paths under /v3 answer as SendGrid "
    "does; paths under /_mirror are the mirror's own inspection and admin API."
)


def _operation_id(route: APIRoute) -> str:
    return route.name


def _bad_request() -> dict[str, Any]:
    return {
        "description": "Bad Request",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


def _openapi_without_422(app: FastAPI) -> dict[str, Any]:
    """The schema with SendGrid's 400 in place of FastAPI's 422: the mirror answers bad input so."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses", {})
                # Where FastAPI validates parameters it would answer 422; the mirror answers 400 there.
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", _bad_request())
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # On this loop the relay shares the app's Database and its group-commit writer.
    relay = await smtp_server.start(settings, app.state.db) if settings.smtp_enabled else None
    app.state.smtp = relay
    fault_watch = faults.start_watching(app.state.faults)
    deliveries = scheduler.start(app.state.db, settings.scheduler_interval)
    event_webhooks = webhook_dispatch.start(app.state.db, settings.webhook_interval)
    pruning = retention.start(app.state.db, settings)
    search_index = indexer.start(app.state.db)
    storage_watch = storage.start_watch(app.state.db)
    # Everything built at start-up lives as long as the process; frozen, the collector's full passes
    # skip it (unfrozen, they stalled requests for ~100 ms under load).
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        for task in (storage_watch, search_index, pruning, fault_watch, event_webhooks, deliveries):
            await background.stop(task)
        if relay is not None:
            await relay.close()


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the app; the database is opened here so tests need no lifespan."""
    settings = settings or get_settings()
    app = MirrorApp(
        title="sendgrid-mirror",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_url="/_mirror/openapi.json",
        docs_url="/_mirror/docs",
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.db = database or Database(settings.resolved_database_url())
    app.state.send_policy = send_policy.from_settings(settings)
    delivery_rules_source.configure(app.state.db, settings)
    app.state.faults = faults.configure(app.state.db, settings)
    http_errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(FaultInjection, registry=app.state.faults, settings=settings)
    app.add_middleware(EdgeGuard, settings=settings)
    app.mail_edge = FaultInjection(answer_mail_send, registry=app.state.faults, settings=settings)
    logging.getLogger("sgmirror").setLevel(settings.log_level.upper())
    log_redaction.install()
    app.openapi = lambda: _openapi_without_422(app)  # type: ignore[method-assign]
    return app


def create_default_app() -> FastAPI:
    """Factory for `uvicorn --factory` (multi-worker serve): settings from the environment."""
    return create_app()
