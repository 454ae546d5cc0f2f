"""Authentication and authorization: SendGrid's exact 401/403 bodies, On-Behalf-Of, error envelopes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.accounts import bootstrap
from app.accounts import service as accounts
from app.accounts.state import AccountState
from app.kernel.db.session import Database
from app.kernel.deps import get_session
from tests.conftest import Keys, bearer

pytestmark = pytest.mark.anyio

INVALID_GRANT = {
    "errors": [{"field": None, "message": "The provided authorization grant is invalid, expired, or revoked"}]
}
BAD_CREDENTIALS = {"errors": [{"field": None, "message": "Permission denied, wrong credentials"}]}
FORBIDDEN = {"errors": [{"field": None, "message": "access forbidden"}]}


async def test_missing_authorization_header_is_authorization_required(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/v3/scopes")
    assert response.status_code == 401
    assert response.content == b'{"errors":[{"field":null,"message":"authorization required"}]}'


@pytest.mark.parametrize("header", ["Bearer ", "Bearer", "Basic abc", "Bearer not-a-key", "Bearer SG.only-one-part"])
async def test_empty_or_garbled_bearer_is_wrong_credentials(client: httpx.AsyncClient, keys: Keys, header: str) -> None:
    response = await client.get("/v3/scopes", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == BAD_CREDENTIALS


async def test_unknown_well_formed_key_is_invalid_grant(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/v3/scopes", headers=bearer("SG.unknownKeyId00000000.unknownSecret"))
    assert response.status_code == 401
    assert response.json() == INVALID_GRANT


async def test_right_id_with_wrong_secret_is_invalid_grant(client: httpx.AsyncClient, keys: Keys) -> None:
    key_id = keys.default.split(".")[1]
    response = await client.get("/v3/scopes", headers=bearer(f"SG.{key_id}.wrongSecret"))
    assert response.json() == INVALID_GRANT


async def test_header_names_and_scheme_match_case_insensitively(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/v3/scopes", headers={"aUTHORIZATION": f"bearer {keys.default}"})
    assert response.status_code == 200


async def test_scopes_lists_the_calling_keys_scopes(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "n", "scopes": ["mail.send"]}
    )
    response = await client.get("/v3/scopes", headers=bearer(created.json()["api_key"]))
    assert response.json() == {"scopes": ["mail.send"]}


async def test_missing_scope_is_access_forbidden(client: httpx.AsyncClient, keys: Keys) -> None:
    created = await client.post(
        "/v3/api_keys", headers=bearer(keys.default), json={"name": "n", "scopes": ["mail.send"]}
    )
    response = await client.get("/v3/api_keys", headers=bearer(created.json()["api_key"]))
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


async def test_keys_of_a_deactivated_account_answer_like_revoked_ones(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    with db.session() as session:
        account = accounts.by_username(session, bootstrap.DEFAULT_USERNAME)
        assert account is not None
        accounts.set_state(session, account, AccountState.DEACTIVATED)
    response = await client.get("/v3/scopes", headers=bearer(keys.default))
    assert response.json() == INVALID_GRANT
    with db.session() as session:
        account = accounts.by_username(session, bootstrap.DEFAULT_USERNAME)
        assert account is not None
        accounts.set_state(session, account, AccountState.ACTIVATED)
    assert (await client.get("/v3/scopes", headers=bearer(keys.default))).status_code == 200


def _seed_subuser(db: Database) -> str:
    subuser_key = "SG.subuserKey00000000000.subuserSecret"
    with db.session() as session:
        bootstrap.apply_seed(
            session,
            {
                "accounts": [
                    {
                        "username": "default",
                        "subusers": [{"username": "sub-one", "keys": [{"name": "sub key", "key": subuser_key}]}],
                    }
                ]
            },
        )
    return subuser_key


async def test_on_behalf_of_a_subuser_acts_as_the_subuser(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    _seed_subuser(db)
    response = await client.get("/v3/api_keys", headers={**bearer(keys.default), "on-behalf-of": "sub-one"})
    assert [k["name"] for k in response.json()["result"]] == ["sub key"]


async def test_on_behalf_of_someone_elses_subuser_is_forbidden(
    client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    _seed_subuser(db)
    for who in ("nobody", "default"):
        response = await client.get("/v3/api_keys", headers={**bearer(keys.default), "On-Behalf-Of": who})
        assert response.status_code == 403
        assert response.json() == FORBIDDEN


async def test_partner_acts_for_its_customer_by_account_id(client: httpx.AsyncClient, keys: Keys, db: Database) -> None:
    with db.session() as session:
        default = accounts.by_username(session, bootstrap.DEFAULT_USERNAME)
        assert default is not None
        account_id = default.id
    response = await client.get(
        "/v3/api_keys", headers={**bearer(keys.partner), "On-Behalf-Of": f"account-id {account_id}"}
    )
    assert response.status_code == 200
    assert [k["name"] for k in response.json()["result"]] == ["default (bootstrap)"]
    denied = await client.get(
        "/v3/api_keys", headers={**bearer(keys.default), "On-Behalf-Of": f"account-id {account_id}"}
    )
    assert denied.status_code == 403


async def test_unknown_path_and_wrong_method_are_sendgrid_shaped(client: httpx.AsyncClient, keys: Keys) -> None:
    missing = await client.get("/v3/nothing/here", headers=bearer(keys.default))
    assert (missing.status_code, missing.json()) == (404, {"errors": [{"field": None, "message": "not found"}]})
    wrong = await client.post("/v3/scopes", headers=bearer(keys.default))
    assert (wrong.status_code, wrong.json()) == (405, {"errors": [{"field": None, "message": "method not allowed"}]})


async def test_doubled_leading_slash_is_tolerated(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("http://mirror.test//v3/scopes", headers=bearer(keys.default))
    assert response.status_code == 200


def _failing_session(message: str) -> Iterator[object]:
    raise RuntimeError(message)
    yield  # pragma: no cover


async def test_unexpected_errors_are_500_without_the_cause(app: FastAPI, client: httpx.AsyncClient, keys: Keys) -> None:
    app.dependency_overrides[get_session] = lambda: _failing_session("secret internals")
    response = await client.get("/v3/api_keys", headers=bearer(keys.default))
    assert response.status_code == 500
    assert response.content == b'{"errors":[{"message":"internal server error"}]}'


async def test_a_failed_commit_is_not_reported_as_success(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, db: Database
) -> None:
    def session_that_cannot_commit() -> Iterator[object]:
        with db.sessionmaker() as session:
            yield session
            session.rollback()
            raise RuntimeError("commit failed")

    app.dependency_overrides[get_session] = session_that_cannot_commit
    response = await client.post("/v3/api_keys", headers=bearer(keys.default), json={"name": "never stored"})
    assert response.status_code == 500
    with db.session() as session:
        names = session.execute(text("SELECT name FROM api_keys")).scalars().all()
    assert "never stored" not in names
