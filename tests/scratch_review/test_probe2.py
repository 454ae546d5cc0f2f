from __future__ import annotations
import httpx, pytest
from tests.conftest import Keys, bearer
pytestmark = pytest.mark.anyio

@pytest.mark.parametrize("status", [420, 599, 418, 503, 502])
async def test_fault_status(client: httpx.AsyncClient, keys: Keys, status: int) -> None:
    r = await client.post("/_mirror/faults", json={"action": {"status": status}, "path": "/v3/scopes"})
    assert r.status_code == 201
    r = await client.get("/v3/scopes", headers=bearer(keys.default))
    open("/tmp/probe.log", "a").write(f"{status} {r.status_code} {r.text}\n")
    assert r.status_code == status
