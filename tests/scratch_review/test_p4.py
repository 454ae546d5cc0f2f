import httpx, pytest
from tests.conftest import Keys, bearer
pytestmark = pytest.mark.anyio
async def test_x(client: httpx.AsyncClient, keys: Keys) -> None:
    r = await client.get("/v3/suppression/bounces", headers=bearer(keys.default), params={"end_time": str(2**62)})
    assert r.status_code == 200, r.text
