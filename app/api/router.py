"""Every route module's router, in matching order."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import (
    activity,
    admin,
    api_keys,
    asm,
    console,
    console_account,
    console_mail,
    console_signup,
    console_webhooks,
    domains,
    inspection,
    ips,
    mail,
    mirror,
    mirror_delivery,
    mirror_faults,
    mirror_identity,
    mirror_time,
    mirror_webhooks,
    partners,
    scheduled_sends,
    subusers,
    suppressions,
    templates,
    verified_senders,
    webhooks,
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
    webhooks.router,
    suppressions.router,
    asm.router,
    templates.router,
    mirror.router,
    mirror_time.router,
    mirror_faults.router,
    mirror_delivery.router,
    mirror_webhooks.router,
    mirror_identity.router,
    inspection.router,
    admin.router,
    console.router,
    console_signup.router,
    console_mail.router,
    console_webhooks.router,
    console_account.router,
)
