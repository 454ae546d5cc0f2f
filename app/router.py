"""Every area's routers, in matching order."""

from __future__ import annotations

from fastapi import APIRouter

from app.accounts import router as accounts_admin
from app.accounts.partners import router as partners
from app.accounts.subusers import router as subusers
from app.activity import router as activity
from app.api_keys import router as api_keys
from app.clock import router as clock
from app.console import account_router as console_account
from app.console import mail_router as console_mail
from app.console import router as console
from app.console import signup_router as console_signup
from app.console import webhooks_router as console_webhooks
from app.delivery import router as delivery_rules
from app.faults import router as faults
from app.identity import router as identity_helpers
from app.identity.domains import router as domains
from app.identity.senders import router as verified_senders
from app.inspection import router as inspection
from app.ips import router as ips
from app.mail import router as mail
from app.scheduling import router as scheduled_sends
from app.server import router as health
from app.suppressions import asm_router as asm
from app.suppressions import router as suppressions
from app.templates import router as templates
from app.webhooks import mirror_router as webhook_log
from app.webhooks import router as webhooks

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
    health.router,
    clock.router,
    faults.router,
    delivery_rules.router,
    webhook_log.router,
    identity_helpers.router,
    inspection.router,
    accounts_admin.router,
    console.router,
    console_signup.router,
    console_mail.router,
    console_webhooks.router,
    console_account.router,
)
