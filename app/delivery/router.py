"""/_mirror/delivery-rules: read and set the delivery simulator's rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.clock import service as clock
from app.delivery import rules_source as delivery_rules_source
from app.delivery import schemas
from app.kernel.deps import AdminDep, JsonBody, SessionDep
from app.kernel.error_schemas import error_responses, json_request_body

router = APIRouter(prefix="/_mirror", tags=["Mirror delivery simulator"], dependencies=[AdminDep])


@router.get("/delivery-rules", response_model=schemas.Rules, responses=error_responses(403))
def get_delivery_rules(request: Request) -> dict[str, Any]:
    """The rules in force: the API's (or a seed file's), else the setting's, and the built-in ones."""
    return delivery_rules_source.describe(delivery_rules_source.current(request.app.state.db, fresh=True))


@router.put(
    "/delivery-rules",
    response_model=schemas.Rules,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.RulesSet),
)
def set_delivery_rules(request: Request, session: SessionDep, body: JsonBody) -> dict[str, Any]:
    """Replace the rules (first match wins; `defaults: false` turns the built-in rules off)."""
    return delivery_rules_source.describe(
        delivery_rules_source.replace(session, body, now=clock.now(request.app.state.db))
    )


@router.delete("/delivery-rules", response_model=schemas.Rules, responses=error_responses(403))
def reset_delivery_rules(request: Request, session: SessionDep) -> dict[str, Any]:
    """Forget the rules set here: SGMIRROR_DELIVERY_RULES (or the built-in rules) apply again."""
    delivery_rules_source.clear(session)
    return delivery_rules_source.describe(delivery_rules_source.setting_rules(request.app.state.db))
