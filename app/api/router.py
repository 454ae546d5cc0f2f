"""Every route module's router, in matching order."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import activity, admin, api_keys, console, inspection, ips, mail, mirror, partners, subusers

# Mail send first: routes match in order, and it is the one path that carries load. The app includes
# each router directly because every level of nesting adds routing work to each request.
ROUTERS: tuple[APIRouter, ...] = (
    mail.router,
    api_keys.router,
    activity.router,
    partners.router,
    subusers.router,
    ips.router,
    mirror.router,
    inspection.router,
    admin.router,
    console.router,
)
