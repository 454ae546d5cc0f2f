from __future__ import annotations
import httpx, pytest
from tests.conftest import Keys, bearer
from tests.api.mail_support import body
pytestmark = pytest.mark.anyio

def log(*a):
    open("/tmp/probe.log", "a").write(" ".join(map(str, a)) + "\n")

async def test_long_emails(client: httpx.AsyncClient, keys: Keys) -> None:
    long = "a" * 400 + "@example.com"
    r = await client.post("/v3/asm/suppressions/global", headers=bearer(keys.default), json={"recipient_emails": [long]})
    log("global long", r.status_code, r.text[:100])
    g = await client.post("/v3/asm/groups", headers=bearer(keys.default), json={"name": "n", "description": "d"})
    gid = g.json()["id"]
    r = await client.post(f"/v3/asm/groups/{gid}/suppressions", headers=bearer(keys.default), json={"recipient_emails": [long]})
    log("group long", r.status_code, r.text[:100])

@pytest.mark.parametrize("detail", [{"status": 5}, {"status": "5" * 40}, {"bounce_classification": "x" * 50}, {"bounce_classification": 7}, {"type": 3}])
async def test_bad_rule_detail(client: httpx.AsyncClient, keys: Keys, detail) -> None:
    rules = {"rules": [{"match": {"tag": "x"}, "events": [{"event": "bounce", **detail}]}]}
    r = await client.put("/_mirror/delivery-rules", json=rules)
    log("rule", detail, r.status_code)
    r = await client.post("/v3/mail/send", headers=bearer(keys.default), json=body(personalizations=[{"to": [{"email": "a+x@example.com"}]}]))
    log("send", detail, r.status_code, r.text[:100])
    assert r.status_code == 202
