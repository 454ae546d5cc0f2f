"""app.smtp.smtpapi: SendGrid's X-SMTPAPI header, read into v3 terms and checked like mail send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.kernel.errors import BadRequest
from app.mail import wording
from app.mail.message import Address, Asm
from app.smtp import smtpapi

NOW = 1_700_000_000


def _parse(**body: Any) -> smtpapi.SmtpApi:
    return smtpapi.parse(json.dumps(body), now=NOW)


def _problems(header: str) -> list[str]:
    with pytest.raises(BadRequest) as refused:
        smtpapi.parse(header, now=NOW)
    return [detail.message for detail in refused.value.details]


def test_no_header_means_no_instructions() -> None:
    assert smtpapi.parse(None, now=NOW) == smtpapi.SmtpApi()
    assert smtpapi.parse("  ", now=NOW) == smtpapi.SmtpApi()


def test_the_documented_keys_map_onto_v3() -> None:
    api = _parse(
        to=["<ben@example.com>", "Joe Smith <joe@example.com>"],
        category="newuser",
        unique_args={"orderNumber": "12345", "eventID": 6789},
        send_at=NOW + 60,
        asm_group_id=42,
        asm_groups_to_display=[42, 43],
        ip_pool="transactional",
        batch_id="b1",
    )
    assert api.to == (Address("ben@example.com"), Address("joe@example.com", "Joe Smith"))
    assert api.categories == ("newuser",)
    assert api.unique_args == {"orderNumber": "12345", "eventID": "6789"}
    assert (api.send_at, api.asm, api.ip_pool, api.batch_id) == (NOW + 60, Asm(42, (42, 43)), "transactional", "b1")


def test_substitutions_expand_sections_and_the_tags_inside_them() -> None:
    api = _parse(
        to=["ben@example.com", "joe@example.com"],
        sub={"%name%": ["Ben", "Joe"], "%role%": ["%sellerSection%", "%buyerSection%"]},
        section={
            "%sellerSection%": "Seller information for: %name%",
            "%buyerSection%": "Buyer information for: %name%",
        },
    )
    assert api.substitutions_for(0) == {"%name%": "Ben", "%role%": "Seller information for: Ben"}
    assert api.substitutions_for(1) == {"%name%": "Joe", "%role%": "Buyer information for: Joe"}
    assert api.substitutions_for(2) == {}


def test_filters_become_mail_and_tracking_settings() -> None:
    api = _parse(
        filters={
            "footer": {"settings": {"enable": 1, "text/plain": "Thanks", "text/html": "<p>Thanks</p>"}},
            "bypass_list_management": {"settings": {"enable": "1"}},
            "sandbox_mode": {"settings": {"enable": True}},
            "spamcheck": {"settings": {"enable": 1, "maxscore": "5", "url": "https://hook.example"}},
            "clicktrack": {"settings": {"enable": 0, "enable_text": 1}},
            "opentrack": {"setting": {"enable": 1, "replace": "%open%"}},
            "templates": {"settings": {"enable": 1, "template_id": "13b8f94f-bcae-4ec6-b752-70d6cb59f932"}},
            "unknown_filter": {"settings": {"enable": 1}},
        }
    )
    assert api.mail_settings == {
        "footer": {"enable": True, "text": "Thanks", "html": "<p>Thanks</p>"},
        "bypass_list_management": {"enable": True},
        "sandbox_mode": {"enable": True},
        "spam_check": {"enable": True, "threshold": 5, "post_to_url": "https://hook.example"},
    }
    assert api.tracking_settings == {
        "click_tracking": {"enable": False, "enable_text": True},
        "open_tracking": {"enable": True, "substitution_tag": "%open%"},
    }
    assert api.template_id == "13b8f94f-bcae-4ec6-b752-70d6cb59f932"


def test_a_header_that_is_not_a_json_object_is_refused() -> None:
    assert _problems("{not json") == [smtpapi.NOT_JSON]
    assert _problems("[1, 2]") == [smtpapi.NOT_JSON]


def test_every_problem_is_reported_at_once_with_mail_sends_wording() -> None:
    header = json.dumps(
        {
            "to": ["not an address"],
            "category": [f"c{i}" for i in range(11)],
            "send_at": NOW + 73 * 3600,
            "asm_group_id": "x",
            "ip_pool": "p",
            "unique_args": {"nested": {"no": 1}},
            "filters": {"footer": "on"},
        }
    )
    assert _problems(header) == [
        'X-SMTPAPI filters.footer must look like {"settings": {"enable": 1, ...}}.',
        smtpapi.TO_INVALID.format(value="not an address"),
        wording.TOO_MANY_CATEGORIES.format(n=11),
        "X-SMTPAPI unique_args values must be strings or numbers.",
        wording.SEND_AT_TOO_FAR,
        "X-SMTPAPI asm_group_id must be an integer.",
        wording.IP_POOL_LENGTH,
    ]


def test_without_a_clock_the_schedule_is_not_checked() -> None:
    assert smtpapi.parse(json.dumps({"send_at": 4_000_000_000}), now=None).send_at == 4_000_000_000


def test_substitute_replaces_longest_keys_first_in_one_pass() -> None:
    assert smtpapi.substitute("-a- -ab-", {"-a": "X", "-ab-": "-a-"}) == "X- -a-"
    assert smtpapi.substitute("text", {}) == "text"
