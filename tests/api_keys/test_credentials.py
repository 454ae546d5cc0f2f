"""Key format and digests."""

from __future__ import annotations

import re

from app.api_keys import credentials, scopes


def test_generated_keys_have_sendgrids_shape() -> None:
    key = credentials.generate_key()
    assert re.fullmatch(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", key)
    parsed = credentials.parse_key(key)
    assert parsed is not None
    assert parsed.key_id == key.split(".")[1]
    assert parsed.digest == credentials.digest(key) != key


def test_generated_key_ids_begin_with_a_letter_or_digit() -> None:
    # One id in 32 would begin with "-" or "_" if drawn plainly; a thousand keys make that certain.
    ids = [credentials.generate_key().split(".")[1] for _ in range(1000)]
    assert all(re.match(r"[A-Za-z0-9]", key_id) for key_id in ids)
    assert any("-" in key_id or "_" in key_id for key_id in ids)


def test_malformed_keys_do_not_parse() -> None:
    for raw in ("", "SG.", "SG.a", "SG.a.", "sg.a.b", "SG.a.b.c", "SG.a b.c", "Bearer SG.a.b"):
        assert credentials.parse_key(raw) is None


def test_digest_comparison() -> None:
    assert credentials.digests_match(credentials.digest("x"), credentials.digest("x"))
    assert not credentials.digests_match(credentials.digest("x"), credentials.digest("y"))


def test_account_ids_look_like_sendgrids() -> None:
    assert re.fullmatch(r"sg[0-9a-f]{32}", credentials.new_account_id())


def test_full_access_excludes_billing_and_auto_assigned_scopes() -> None:
    full = scopes.full_access_scopes()
    assert "mail.send" in full
    assert "api_keys.create" in full
    assert not any(s.startswith("billing.") for s in full)
    assert not set(full) & scopes.auto_assigned_scopes()
    assert scopes.mixes_billing(["billing.read", "mail.send"])
    assert not scopes.mixes_billing(["billing.read", "billing.update"])
