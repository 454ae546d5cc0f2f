"""/_mirror/faults: list, add and remove fault-injection rules (every process applies them within a second)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.faults import schemas
from app.faults import service as faults
from app.kernel.db.session import Database
from app.kernel.deps import AdminDep, JsonBody
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.timestamps import rfc3339

router = APIRouter(prefix="/_mirror", tags=["Mirror faults"], dependencies=[AdminDep])


def _rule(live: faults.LiveRule) -> schemas.FaultRule:
    return schemas.FaultRule.model_validate(
        {
            **live.rule.spec(),
            "source": live.source,
            "created_at": rfc3339(live.created_at),
            "matched": live.counters.matched,
            "hits": live.counters.hits,
        }
    )


def _fresh(db: Database) -> faults.Snapshot:
    registry = faults.registry_for(db)
    registry.refresh()
    return registry.snapshot


@router.get("/faults", response_model=schemas.FaultList, responses=error_responses(403))
def list_mirror_faults(request: Request) -> schemas.FaultList:
    """Every rule in the order they are tried, with this process's match and hit counts."""
    rules = [_rule(live) for live in _fresh(request.app.state.db).rules]
    return schemas.FaultList(active=bool(rules), rules=rules)


@router.post(
    "/faults",
    status_code=201,
    response_model=schemas.FaultRule,
    responses=error_responses(400, 403),
    openapi_extra=json_request_body(schemas.FaultRuleCreate),
)
def add_mirror_fault(request: Request, body: JsonBody) -> schemas.FaultRule:
    """Add a rule, tried after the existing ones."""
    db: Database = request.app.state.db
    with db.session() as session:
        rule = faults.add_rule(session, body)
    return next(_rule(live) for live in _fresh(db).rules if live.rule.id == rule.id)


@router.delete("/faults/{rule_id}", status_code=204, response_class=Response, responses=error_responses(403, 404))
def delete_mirror_fault(request: Request, rule_id: str) -> Response:
    """Remove one rule."""
    db: Database = request.app.state.db
    with db.session() as session:
        faults.delete_rule(session, rule_id)
    _fresh(db)
    return Response(status_code=204)


@router.delete("/faults", status_code=204, response_class=Response, responses=error_responses(403))
def delete_mirror_faults(request: Request) -> Response:
    """Remove every rule (those of SGMIRROR_FAULTS come back at the next start)."""
    db: Database = request.app.state.db
    with db.session() as session:
        faults.delete_all(session)
    _fresh(db)
    return Response(status_code=204)
