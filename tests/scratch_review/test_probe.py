from __future__ import annotations
import httpx, pytest
from tests.conftest import Keys, bearer
pytestmark = pytest.mark.anyio

PROBES = [
    ("GET", "/v3/suppression/bounces?start_time=99999999999999999999", None),
    ("GET", "/v3/suppression/bounces?end_time=99999999999999999999", None),
    ("GET", "/v3/suppression/bounces?end_time=253402300799", None),
    ("GET", "/v3/suppression/bounces?offset=99999999999999999999", None),
    ("GET", "/v3/suppression/bounces?email=%00", None),
    ("GET", "/v3/suppression/bounces/classifications?start_date=0001-01-01&end_date=9999-12-31", None),
    ("GET", "/v3/templates?page_size=10&page_token=bzo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", None),
    ("GET", "/v3/asm/groups?id=999999999", None),
    ("GET", "/v3/asm/groups/999999999", None),
    ("GET", "/_mirror/webhooks/deliveries/99999999999999999999", None),
    ("POST", "/_mirror/webhooks/deliveries/99999999999999999999/replay", None),
    ("GET", "/_mirror/webhooks/deliveries?offset=99999999999999999999", None),
    ("GET", "/v3/user/webhooks/event/settings/%00", None),
    ("POST", "/v3/asm/groups", {"name": "a\u0000b", "description": "x"}),
    ("POST", "/v3/asm/suppressions/global", {"recipient_emails": ["a\u0000@b.co"]}),
    ("POST", "/v3/templates", {"name": "x\u0000"}),
    ("PATCH", "/v3/user/webhooks/event/settings", {"url": "http://a.com/\u0000", "enabled": True}),
    ("PATCH", "/v3/user/webhooks/event/settings", {"friendly_name": "x" * 100000}),
    ("PATCH", "/v3/user/webhooks/event/settings", {"oauth_client_id": "x" * 100000, "oauth_token_url": "http://a.b/"}),
    ("PUT", "/_mirror/delivery-rules", {"rules": [{"match": {"tag": "x"}, "events": [{"event": "click", "url": 5}]}]}),
    ("PUT", "/_mirror/delivery-rules", {"rules": [{"match": {"tag": "x"}, "events": [{"event": "bounce", "status": 5}]}]}),
    ("PUT", "/_mirror/delivery-rules", {"rules": [{"match": {"tag": "x"}, "events": [{"event": "group_unsubscribe", "asm_group_id": "x"}]}]}),
    ("POST", "/_mirror/faults", {"action": {"status": 420}, "path": "/v3/scopes"}),
    ("GET", "/v3/scopes", None),
    ("DELETE", "/_mirror/faults", None),
    ("POST", "/_mirror/faults", {"action": {"status": 599}, "path": "/v3/scopes"}),
    ("GET", "/v3/scopes", None),
    ("DELETE", "/_mirror/faults", None),
    ("GET", "/v3/asm/suppressions/%00", None),
    ("POST", "/v3/asm/groups/1/suppressions/search", {"recipient_emails": ["a@b.co"] * 1}),
]

@pytest.mark.parametrize("method,path,body", PROBES)
async def test_probe(client: httpx.AsyncClient, keys: Keys, method: str, path: str, body) -> None:
    r = await client.request(method, path, headers=bearer(keys.default), json=body)
    open("/tmp/probe.log", "a").write(f"{method} {path} {r.status_code} {r.headers.get('x-mirror-fault')} {r.text[:150]}\n")
    assert r.status_code < 500 or "fault" in path or r.headers.get("x-mirror-fault"), r.text
