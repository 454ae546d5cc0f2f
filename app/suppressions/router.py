"""/v3/suppression/{bounces,blocks,invalid_emails,spam_reports,unsubscribes} and bounce classifications.

No `from __future__ import annotations` here: the per-list routes are closures whose parameter types
(the scope dependencies) FastAPI must see as objects, not as names to look up in the module.
"""

import csv
import io
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel

from app.kernel.db.base import as_utc
from app.kernel.deps import JsonBody, SessionDep, scoped
from app.kernel.error_schemas import error_responses, json_request_body
from app.kernel.errors import NotFound
from app.kernel.principal import Principal
from app.suppressions import lists as suppression_lists
from app.suppressions import request_rules as requests
from app.suppressions import schemas
from app.suppressions.models import Suppression
from app.suppressions.rules import CLASSIFICATIONS, Kind

router = APIRouter(tags=["Suppressions"])

Query_ = Annotated[str | None, Query()]
BounceReader = Annotated[Principal, Depends(scoped("suppression.bounces.read"))]
CSV = "text/csv"


def _unix(row: Suppression) -> int:
    return int(as_utc(row.created_at).timestamp())


def _bounce(row: Suppression) -> BaseModel:
    return schemas.Bounce(created=_unix(row), email=row.email, reason=row.reason or "", status=row.status or "")


def _block(row: Suppression) -> BaseModel:
    return schemas.Block(created=_unix(row), email=row.email, reason=row.reason or "", status=row.status or "")


def _invalid(row: Suppression) -> BaseModel:
    return schemas.InvalidEmail(created=_unix(row), email=row.email, reason=row.reason or "")


def _spam(row: Suppression) -> BaseModel:
    return schemas.SpamReport(created=_unix(row), email=row.email, ip=row.ip or "")


def _unsubscribe(row: Suppression) -> BaseModel:
    return schemas.Unsubscribe(created=_unix(row), email=row.email)


def _wants_csv(accept: str | None) -> bool:
    return accept is not None and CSV in accept.lower()


def _csv(header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type=CSV)


@router.get(
    "/v3/suppression/bounces/classifications",
    response_model=schemas.ClassificationTotals,
    responses={**error_responses(400, 403), 200: {"content": {CSV: {}}}},
)
def list_bounce_classifications(
    session: SessionDep,
    principal: BounceReader,
    start_date: Query_ = None,
    end_date: Query_ = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Bounces per day and classification (JSON, or CSV when asked)."""
    start, end = requests.day(start_date, "start_date"), requests.day(end_date, "end_date")
    days = suppression_lists.classification_totals(session, principal, start, end)
    if _wants_csv(accept):
        return _csv(["date", "classification", "count"], [[d, c, n] for d, stats in days for c, n in stats])
    result = [schemas.ClassificationDay(date=d.isoformat(), stats=_counts(stats)) for d, stats in days]
    return schemas.ClassificationTotals(result=result)


@router.get(
    "/v3/suppression/bounces/classifications/{classification}",
    response_model=schemas.ClassificationDomains,
    responses={**error_responses(400, 403, 404), 200: {"content": {CSV: {}}}},
)
def get_bounce_classification(
    session: SessionDep,
    principal: BounceReader,
    classification: str,
    start_date: Query_ = None,
    end_date: Query_ = None,
    accept: Annotated[str | None, Header()] = None,
) -> Any:
    """Bounces of one classification per day and recipient domain."""
    if classification not in CLASSIFICATIONS:
        raise NotFound()
    start, end = requests.day(start_date, "start_date"), requests.day(end_date, "end_date")
    days = suppression_lists.classification_domains(session, principal, classification, start, end)
    if _wants_csv(accept):
        return _csv(["date", "domain", "count"], [[d, dom, n] for d, stats in days for dom, n in stats])
    result = [schemas.DomainDay(date=d.isoformat(), stats=_domains(stats)) for d, stats in days]
    return schemas.ClassificationDomains(result=result)


def _counts(stats: list[tuple[str, int]]) -> list[schemas.ClassificationCount]:
    return [schemas.ClassificationCount(classification=name, count=count) for name, count in stats]


def _domains(stats: list[tuple[str, int]]) -> list[schemas.DomainCount]:
    return [schemas.DomainCount(domain=name, count=count) for name, count in stats]


def _register(path: str, kind: Kind, model: type[BaseModel], view: Callable[[Suppression], BaseModel]) -> None:
    """The four routes of one list: list, delete many, get one, delete one."""
    scope = f"suppression.{path}"
    reader = Annotated[Principal, Depends(scoped(f"{scope}.read"))]
    deleter = Annotated[Principal, Depends(scoped(f"{scope}.delete"))]
    base = f"/v3/suppression/{path}"

    def list_entries(
        session: SessionDep,
        principal: reader,
        start_time: Query_ = None,
        end_time: Query_ = None,
        limit: Query_ = None,
        offset: Query_ = None,
        email: Query_ = None,
    ) -> list[BaseModel]:
        """The list, newest first; start_time/end_time (inclusive), limit/offset and email narrow it."""
        wanted = requests.list_filter(start_time=start_time, end_time=end_time, limit=limit, offset=offset, email=email)
        return [view(row) for row in suppression_lists.list_entries(session, principal, kind, wanted)]

    def delete_entries(session: SessionDep, principal: deleter, body: JsonBody) -> Response:
        """Empty the list (`delete_all`) or remove the given `emails`."""
        suppression_lists.delete_entries(session, principal, kind, requests.delete_request(body))
        return Response(status_code=204)

    def get_entry(session: SessionDep, principal: reader, email: str) -> list[BaseModel]:
        """The address's entry as a list of none or one."""
        return [view(row) for row in suppression_lists.get_entries(session, principal, kind, email)]

    def delete_entry(session: SessionDep, principal: deleter, email: str) -> Response:
        """Remove one address; 404 when it is not on the list."""
        suppression_lists.delete_entry(session, principal, kind, email)
        return Response(status_code=204)

    name = path.rstrip("s")
    many: Any = list[model]  # type: ignore[valid-type]
    router.get(base, response_model=many, responses=error_responses(400, 403), name=f"list_{path}")(list_entries)
    if kind == "global_unsubscribe":
        return
    router.delete(
        base,
        status_code=204,
        response_class=Response,
        responses=error_responses(400, 403),
        openapi_extra=json_request_body(schemas.DeleteMany),
        name=f"delete_{path}",
    )(delete_entries)
    router.get(f"{base}/{{email}}", response_model=many, responses=error_responses(403), name=f"get_{name}")(get_entry)
    router.delete(
        f"{base}/{{email}}",
        status_code=204,
        response_class=Response,
        responses=error_responses(403, 404),
        name=f"delete_{name}",
    )(delete_entry)


_register("bounces", "bounce", schemas.Bounce, _bounce)
_register("blocks", "block", schemas.Block, _block)
_register("invalid_emails", "invalid_email", schemas.InvalidEmail, _invalid)
_register("spam_reports", "spam_report", schemas.SpamReport, _spam)
_register("unsubscribes", "global_unsubscribe", schemas.Unsubscribe, _unsubscribe)
