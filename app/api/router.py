"""Every route module's router, in matching order."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import (
    activity,
    admin,
    api_keys,
    console,
    console_account,
    console_mail,
    console_signup,
    domains,
    inspection,
    ips,
    mail,
    mirror,
    mirror_identity,
    mirror_time,
    partners,
    scheduled_sends,
    subusers,
    verified_senders,
)

# Mail send first: routes match in order, and it is the one path that carries load. The app includes
# each router directly because every level of nesting adds routing work to each request.
ROUTERS: tuple[APIRouter, ...] = (
    mail.router,
    api_keys.router,
    activity.router,
    partners.router,
    subusers.router,
    ips.router,
    verified_senders.router,
    domains.router,
    scheduled_sends.router,
    mirror.router,
    mirror_time.router,
    mirror_identity.router,
    inspection.router,
    admin.router,
    console.router,
    console_signup.router,
    console_mail.router,
    console_account.router,
)
