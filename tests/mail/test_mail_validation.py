"""parse_mail_send: every CONTRACT §3 row it owns, the limits, and that nothing but BadRequest escapes."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.kernel.errors import MAIL_ERRORS_HELP, BadRequest
from app.mail import validation as mv
from app.mail import wording
from app.mail.message import Address, OutboundMessage
from app.mail.mime import render_mime

H = MAIL_ERRORS_HELP
NOW = 1_700_000_000
DATE = datetime(2024, 1, 1, tzinfo=UTC)
Row = tuple[str, str | None, str | None]


DROP: Any = object()


def body(**overrides: Any) -> dict[str, Any]:
    """A minimal valid request, with top-level keys replaced (DROP deletes the key)."""
    base: dict[str, Any] = {
        "personalizations": [{"to": [{"email": "to@example.com", "name": "To"}]}],
        "from": {"email": "from@example.com", "name": "From"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not DROP}


def one(**personalization: Any) -> list[dict[str, Any]]:
    """A personalizations array of one, `to` defaulted."""
    return [{"to": [{"email": "to@example.com"}], **personalization}]


def errors(payload: object, now: int = NOW) -> list[Row]:
    with pytest.raises(BadRequest) as caught:
        mv.parse_mail_send(payload, now=now)
    assert caught.value.status == 400
    return [(d.message, d.field, d.help) for d in caught.value.details]


def parse(payload: object, now: int = NOW) -> OutboundMessage:
    return mv.parse_mail_send(payload, now=now)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- the happy path -----------------------------------------------------------------------------------


def test_minimal_body_builds_the_message() -> None:
    message = parse(body())
    assert message.from_ == Address("from@example.com", "From")
    assert message.subject == "Hello"
    assert [(c.type, c.value) for c in message.content] == [("text/plain", "Hi")]
    assert message.personalizations[0].to == (Address("to@example.com", "To"),)
    assert message.sandbox is False
    assert message.recipient_count == 1


def test_full_body_keeps_every_field() -> None:
    payload = body(
        personalizations=one(
            cc=[{"email": "cc@example.com"}],
            bcc=[{"email": "bcc@example.com"}],
            subject="P",
            headers={"X-P": "1"},
            substitutions={"-n-": "Bob"},
            dynamic_template_data={"deep": {"list": [1, None]}},
            custom_args={"p": "1"},
            send_at=NOW + 60,
            **{"from": {"email": "override@example.com"}},
        ),
        reply_to_list=[{"email": "r1@example.com"}, {"email": "r2@example.com", "name": "R2"}],
        content=[{"type": "text/plain", "value": "t"}, {"type": "text/html", "value": "<b>h</b>"}],
        attachments=[{"content": b64(b"\x00\x01"), "filename": "a.bin", "type": "application/x", "content_id": "c"}],
        template_id="d-" + "a" * 32,
        headers={"X-G": "g"},
        categories=["one", "two"],
        custom_args={"g": "1"},
        send_at=NOW,
        batch_id="batch",
        asm={"group_id": 7, "groups_to_display": [7, 8]},
        ip_pool_name="pool",
        mail_settings={"sandbox_mode": {"enable": True}, "footer": {"enable": False, "text": "f"}},
        tracking_settings={"click_tracking": {"enable": True, "enable_text": False}},
        unknown_key={"ignored": True},
    )
    message = parse(payload)
    p = message.personalizations[0]
    assert message.from_for(p) == Address("override@example.com")
    assert message.subject_for(p) == "P"
    assert message.send_at_for(p) == NOW + 60
    assert message.custom_args_for(p) == {"g": "1", "p": "1"}
    assert message.headers_for(p) == {"X-G": "g", "X-P": "1"}
    assert p.dynamic_template_data == {"deep": {"list": [1, None]}}
    assert [a.email for a in p.recipients] == ["to@example.com", "cc@example.com", "bcc@example.com"]
    assert message.reply_to_addresses == (Address("r1@example.com"), Address("r2@example.com", "R2"))
    assert message.attachments[0].data == b"\x00\x01"
    assert message.attachments[0].content_b64 == "AAE="
    assert message.attachments[0].disposition == "attachment"
    assert message.is_dynamic_template
    assert message.categories == ("one", "two")
    assert message.asm is not None
    assert message.asm.groups_to_display == (7, 8)
    assert (message.batch_id, message.ip_pool_name, message.send_at) == ("batch", "pool", NOW)
    assert message.sandbox is True
    assert message.mail_setting_enabled("sandbox_mode")
    assert not message.mail_setting_enabled("footer")
    assert message.tracking_setting_enabled("click_tracking")
    assert message.recipient_count == 3


# --- CONTRACT §3 catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [DROP, []], ids=["missing", "empty"])
def test_row_1_personalizations_required(value: Any) -> None:
    assert errors(body(personalizations=value)) == [
        (wording.PERSONALIZATIONS_REQUIRED, "personalizations", f"{H}#-Personalizations-Errors")
    ]


@pytest.mark.parametrize("personalization", [{}, {"to": []}], ids=["missing", "empty"])
def test_row_2_to_required(personalization: dict[str, Any]) -> None:
    payload = body(personalizations=[{"to": [{"email": "a@example.com"}]}, personalization])
    assert errors(payload) == [(wording.TO_REQUIRED, "personalizations.1.to", f"{H}#message.personalizations.to")]


def test_row_2_exact_string() -> None:
    assert wording.TO_REQUIRED == (
        "The to array is required for all personalization objects, and must have at least one email "
        "object with a valid email address."
    )


def test_row_3_to_email_required() -> None:
    assert errors(body(personalizations=one(to=[{"email": "a@example.com"}, {"name": "No Email"}]))) == [
        ("The to email parameter is required.", "personalizations.0.to.1.email", f"{H}#message.personalizations.to")
    ]


@pytest.mark.parametrize(
    "email",
    ["", "plain", "a@", "@example.com", "a@example", "a b@example.com", "a..b@example.com", ".a@example.com",
     "a@-example.com", "a@example.c", "a@exa_mple.com", "a@@example.com", "ä@example.com", " a@example.com"],
)  # fmt: skip
def test_row_4_invalid_recipient(email: str) -> None:
    assert errors(body(personalizations=one(to=[{"email": email}]))) == [
        ("Does not contain a valid address.", "personalizations.0.to.0.email", f"{H}#message.personalizations.to")
    ]


@pytest.mark.parametrize(
    "email",
    ["a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie", "x@xn--p1ai.xn--p1ai",
     "UPPER@EXAMPLE.COM", "a_b-c@e-x.io", "{weird}!#$%&*=?^`|~@example.org"],
)  # fmt: skip
def test_valid_recipients(email: str) -> None:
    assert parse(body(personalizations=one(to=[{"email": email}]))).personalizations[0].to[0].email == email


def test_row_5_from_missing() -> None:
    expected = (
        "The from object must be provided for every email send. It is an object that requires the email "
        'parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or '
        '{"email" : "example@example.com", "name" : "Example Recipient"}.'
    )
    assert errors(body(**{"from": DROP})) == [(expected, "from.email", f"{H}#message.from")]
    assert errors(body(**{"from": {"name": "x"}})) == [(expected, "from.email", f"{H}#message.from")]


@pytest.mark.parametrize("email", ["", "not-an-address"])
def test_row_6_from_invalid(email: str) -> None:
    assert errors(body(**{"from": {"email": email}})) == [
        ("The from email does not contain a valid address.", "from.email", f"{H}#message.from")
    ]


def test_row_7_subject_required() -> None:
    payload = body(subject=DROP, personalizations=[*one(subject="has one"), *one()])
    assert errors(payload) == [
        (
            "The subject is required. You can get around this requirement if you use a template with a "
            "subject defined or if every personalization has a subject defined.",
            "subject",
            f"{H}#message.subject",
        )
    ]


def test_subject_not_required_when_every_personalization_has_one() -> None:
    message = parse(body(subject=DROP, personalizations=[*one(subject="a"), *one(subject="b")]))
    assert [message.subject_for(p) for p in message.personalizations] == ["a", "b"]


def test_subject_and_content_not_required_with_a_template() -> None:
    message = parse(body(subject=DROP, content=DROP, template_id="d-" + "0" * 32))
    assert (message.subject, message.content) == (None, ())


def test_empty_subject() -> None:
    assert errors(body(subject="", personalizations=one(subject=""))) == [
        (wording.SUBJECT_EMPTY, "personalizations.0.subject", f"{H}#message.personalizations.subject"),
        (wording.SUBJECT_EMPTY, "subject", f"{H}#message.subject"),
    ]


@pytest.mark.parametrize("content", [DROP, []], ids=["missing", "empty"])
def test_row_8_content_required(content: Any) -> None:
    assert errors(body(content=content)) == [
        (
            "Unless a valid template_id is provided, the content parameter is required. There must be at "
            "least one defined content block. We typically suggest both text/plain and text/html blocks are "
            "included, but only one block is required.",
            "content",
            f"{H}#message.content",
        )
    ]


def test_row_9_empty_content_value() -> None:
    payload = body(content=[{"type": "text/plain", "value": "x"}, {"type": "text/html", "value": ""}])
    assert errors(payload) == [
        (
            "The content value must be a string at least one character in length.",
            "content.1.value",
            f"{H}#message.content.value",
        )
    ]


def test_row_10_duplicate_recipient_ignores_case() -> None:
    payload = body(
        personalizations=[
            *one(),
            {
                "to": [{"email": "a@example.com"}, {"email": "b@example.com"}],
                "cc": [{"email": "c@example.com"}],
                "bcc": [{"email": "B@Example.com"}, {"email": "c@example.com"}],
            },
        ]
    )
    assert errors(payload) == [
        (
            "Each email address in the personalization block should be unique between to, cc, and bcc. We "
            "found the first duplicate instance of [B@Example.com] in the personalizations.1.bcc field.",
            "personalizations.1",
            f"{H}#message.recipient-errors",
        )
    ]


def test_same_address_in_two_personalizations_is_fine() -> None:
    assert parse(body(personalizations=[*one(), *one()])).recipient_count == 2


@pytest.mark.parametrize(
    ("overrides", "field", "expected", "given", "anchor"),
    [
        ({"from": []}, "from", "object", "array", "from"),
        ({"from": {"email": ["a@example.com"]}}, "from.email", "string", "array", "from"),
        ({"from": {"email": "a@example.com", "name": 5}}, "from.name", "string", "integer", "from"),
        ({"personalizations": {}}, "personalizations", "array", "object", "personalizations"),
        ({"personalizations": ["x"]}, "personalizations.0", "object", "string", "personalizations"),
        ({"personalizations": [{"to": {}}]}, "personalizations.0.to", "array", "object", "personalizations.to"),
        ({"personalizations": [{"to": [1]}]}, "personalizations.0.to.0", "object", "integer", "personalizations.to"),
        ({"personalizations": one(cc=[{"email": None}])}, "personalizations.0.cc.0.email", "string", "null",
         "personalizations.cc"),
        ({"personalizations": one(send_at="soon")}, "personalizations.0.send_at", "integer", "string",
         "personalizations.send_at"),
        ({"personalizations": one(headers=[])}, "personalizations.0.headers", "object", "array",
         "personalizations.headers"),
        ({"personalizations": one(dynamic_template_data="x")}, "personalizations.0.dynamic_template_data",
         "object", "string", "personalizations.dynamic_template_data"),
        ({"subject": 1.5}, "subject", "string", "number", "subject"),
        ({"content": {}}, "content", "array", "object", "content"),
        ({"content": [{"type": True, "value": "v"}]}, "content.0.type", "string", "boolean", "content.type"),
        ({"reply_to": [{"email": "a@example.com"}]}, "reply_to", "object", "array", "reply_to"),
        ({"template_id": 12}, "template_id", "string", "integer", "template_id"),
        ({"send_at": 1.5}, "send_at", "integer", "number", "send_at"),
        ({"send_at": True}, "send_at", "integer", "boolean", "send_at"),
        ({"batch_id": 1}, "batch_id", "string", "integer", "batch_id"),
        ({"asm": {"group_id": "1"}}, "asm.group_id", "integer", "string", "asm.group_id"),
        ({"asm": {"group_id": 1, "groups_to_display": [1, "2"]}}, "asm.groups_to_display.1", "integer",
         "string", "asm.groups_to_display"),
        ({"ip_pool_name": None}, "ip_pool_name", "string", "null", "ip_pool_name"),
        ({"mail_settings": []}, "mail_settings", "object", "array", "mail_settings"),
        ({"mail_settings": {"footer": {"html": 1}}}, "mail_settings.footer.html", "string", "integer",
         "mail_settings.footer.html"),
        ({"tracking_settings": {"ganalytics": {"utm_source": {}}}}, "tracking_settings.ganalytics.utm_source",
         "string", "object", "tracking_settings.ganalytics.utm_source"),
        ({"attachments": [{"content": "AA==", "filename": "f", "disposition": 1}]}, "attachments.0.disposition",
         "string", "integer", "attachments.disposition"),
    ],
)  # fmt: skip
def test_row_11_invalid_type(overrides: dict[str, Any], field: str, expected: str, given: str, anchor: str) -> None:
    message = f"Invalid type. Expected: {expected}, given: {given}."
    assert errors(body(**overrides)) == [(message, field, f"{H}#message.{anchor}")]


@pytest.mark.parametrize("payload", [None, [], "body", 3, 2.5, True])
def test_row_11_root_must_be_an_object(payload: object) -> None:
    ((message, field, help_),) = errors(payload)
    assert message.startswith("Invalid type. Expected: object, given: ")
    assert (field, help_) == ("(root)", f"{H}#-Request-Body-Parameters")


def test_integral_float_is_an_integer() -> None:
    assert parse(body(send_at=float(NOW))).send_at == NOW


def test_row_12_attachment_content() -> None:
    payload = body(
        attachments=[
            {"filename": "a.txt"},
            {"content": "not base64!", "filename": "b.txt"},
            {"content": "", "filename": "c.txt"},
            {"content": "QUJD", "filename": "ok.txt"},
        ]
    )
    help_ = f"{H}#message.attachments.content"
    assert errors(payload) == [
        ("The attachment content is required.", "attachments.0.content", help_),
        ("The attachment content must be base64 encoded.", "attachments.1.content", help_),
        (wording.ATTACHMENT_CONTENT_EMPTY, "attachments.2.content", help_),
    ]


def test_wrapped_base64_is_accepted() -> None:
    data = bytes(range(256)) * 2
    encoded = b64(data)
    wrapped = "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    message = parse(body(attachments=[{"content": wrapped, "filename": "x.bin"}]))
    assert message.attachments[0].data == data


@pytest.mark.parametrize("bad", ["QUJ", "QUJD=", "QU=D", "=QUJ", "Zm9v\x00", "Zm9vé===", "QUJD-_=="])
def test_bad_base64(bad: str) -> None:
    assert errors(body(attachments=[{"content": bad, "filename": "x"}])) == [
        (wording.ATTACHMENT_NOT_BASE64, "attachments.0.content", f"{H}#message.attachments.content")
    ]


@pytest.mark.parametrize("template_id", ["", "d-123", "d-" + "g" * 32, "1234", "{8c6e4f0e-2b6e-4d88-9c3e-1}"])
def test_row_13_bad_template_id(template_id: str) -> None:
    assert errors(body(template_id=template_id)) == [
        (
            f"The template_id must be a valid GUID, you provided '{template_id}'.",
            "template_id",
            f"{H}#message.template_id",
        )
    ]


@pytest.mark.parametrize("template_id", ["d-0123456789abcdef0123456789ABCDEF", "8c6e4f0e-2b6e-4d88-9c3e-0a1b2c3d4e5f"])
def test_valid_template_ids(template_id: str) -> None:
    assert parse(body(template_id=template_id)).template_id == template_id


def test_row_14_too_many_personalizations() -> None:
    payload = body(personalizations=[{"to": [{"email": f"u{i}@example.com"}]} for i in range(1001)])
    assert errors(payload) == [
        (
            "The personalization block is limited to 1000 personalizations per API request. You have provided "
            "1001 personalizations. Please consider splitting this into multiple requests and resending your "
            "request.",
            "personalizations",
            f"{H}#message.personalizations",
        )
    ]


def test_1000_personalizations_with_1000_recipients_are_accepted() -> None:
    payload = body(personalizations=[{"to": [{"email": f"u{i}@example.com"}]} for i in range(1000)])
    message = parse(payload)
    assert (len(message.personalizations), message.recipient_count) == (1000, 1000)


def test_row_15_too_many_recipients() -> None:
    to = [{"email": f"t{i}@example.com"} for i in range(500)]
    cc = [{"email": f"c{i}@example.com"} for i in range(300)]
    bcc = [{"email": f"b{i}@example.com"} for i in range(200)]
    payload = body(personalizations=[{"to": to, "cc": cc, "bcc": bcc}, *one()])
    assert errors(payload) == [
        (
            "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
            "personalizations",
            f"{H}#message.personalizations",
        )
    ]
    assert parse(body(personalizations=[{"to": to, "cc": cc, "bcc": bcc}])).recipient_count == 1000


def test_row_16_categories() -> None:
    long_one = "x" * 256
    payload = body(categories=[f"c{i}" for i in range(9)] + [long_one, "c1", "naïve"])
    help_ = f"{H}#message.categories"
    assert errors(payload) == [
        ("There is a limit of 10 categories for each email that is sent. You provided 12 categories.",
         "categories", help_),
        (f"Each category must not be longer than 255 characters. [{long_one}] exceeds this limit",
         "categories", help_),
        ("The categories must be a unique list, and you have included [c1] more than once.", "categories", help_),
        ("Categories can not contain non-ASCII characters.", "categories", help_),
    ]  # fmt: skip


def test_categories_must_be_strings_and_255_is_fine() -> None:
    assert errors(body(categories=["a", 1])) == [
        ("Categories must be an array of strings.", "categories", f"{H}#message.categories")
    ]
    assert parse(body(categories=["x" * 255] * 1 + [f"c{i}" for i in range(9)])).categories[0] == "x" * 255


def test_row_17_custom_args_values_must_be_strings() -> None:
    payload = body(custom_args={"a": 1}, personalizations=one(custom_args={"b": "1", "c": None}))
    assert errors(payload) == [
        (
            "All values of custom arguments object must be strings",
            "personalizations.0.custom_args",
            f"{H}#message.personalizations.custom_args",
        ),
        ("All values of custom arguments object must be strings", "custom_args", f"{H}#message.custom_args"),
    ]


def test_row_17_merged_custom_args_limit() -> None:
    half = {"g": "x" * 4_999}  # 5,000 bytes
    fits = {"p": "y" * 4_999}
    over = {"p": "é" * 2_500}  # 5,001 bytes: the limit counts UTF-8 bytes
    message = parse(body(custom_args=half, personalizations=one(custom_args=fits)))
    assert len(message.custom_args_for(message.personalizations[0])) == 2
    payload = body(custom_args=half, personalizations=[*one(custom_args=fits), *one(custom_args=over)])
    assert errors(payload) == [
        (
            "The combined size of both global and personalization custom arguments may not exceed 10,000 "
            "bytes per personalization.",
            "personalizations.1.custom_args",
            f"{H}#message.personalizations.custom_args",
        )
    ]


def test_global_custom_args_alone_over_the_limit() -> None:
    assert errors(body(custom_args={"k": "v" * 10_000})) == [
        (wording.CUSTOM_ARGS_TOO_LARGE, "custom_args", f"{H}#message.custom_args")
    ]


def test_row_18_send_at_window() -> None:
    limit = NOW + 72 * 3600
    assert parse(body(send_at=limit, personalizations=one(send_at=NOW - 10**6))).send_at == limit
    payload = body(send_at=limit + 1, personalizations=one(send_at=limit + 1))
    assert errors(payload) == [
        (
            "Scheduling more than 72 hours in advance is forbidden.",
            "personalizations.0.send_at",
            f"{H}#message.personalizations.send_at",
        ),
        ("Scheduling more than 72 hours in advance is forbidden.", "send_at", f"{H}#message.send_at"),
    ]


@pytest.mark.parametrize("enable", ["true", 1, None, {}])
def test_row_19_sandbox_enable_must_be_boolean(enable: object) -> None:
    assert errors(body(mail_settings={"sandbox_mode": {"enable": enable}})) == [
        (
            "The sandbox mode enable param should be a boolean value.",
            "mail_settings.sandbox_mode.enable",
            f"{H}#message.mail_settings.sandbox_mode.enable",
        )
    ]


@pytest.mark.parametrize("enable", [True, False])
def test_row_20_sandbox_flag(enable: bool) -> None:
    assert parse(body(mail_settings={"sandbox_mode": {"enable": enable}})).sandbox is enable


@pytest.mark.parametrize(
    ("group", "setting", "field", "message"),
    [
        ("mail_settings", "bypass_list_management", "enable",
         "The bypass list management enable param should be a boolean value."),
        ("mail_settings", "bypass_unsubscribe_management", "enable",
         "The bypass unsubscribe management enable param should be a boolean value."),
        ("mail_settings", "footer", "enable", "The footer enable param should be a boolean value."),
        ("tracking_settings", "click_tracking", "enable", "The click tracking enable param should be a boolean value."),
        ("tracking_settings", "click_tracking", "enable_text",
         "The click tracking enable text must be a boolean value."),
        ("tracking_settings", "open_tracking", "enable", "The open tracking enable param should be a boolean value."),
        ("tracking_settings", "subscription_tracking", "enable",
         "The subscription tracking enable param should be a boolean value."),
        ("tracking_settings", "ganalytics", "enable", "The Google Analytics enable param must be a boolean value."),
    ],
)  # fmt: skip
def test_setting_flags_must_be_booleans(group: str, setting: str, field: str, message: str) -> None:
    path = f"{group}.{setting}.{field}"
    assert errors(body(**{group: {setting: {field: "yes"}}})) == [(message, path, f"{H}#message.{path}")]


def test_unknown_settings_are_ignored() -> None:
    message = parse(body(mail_settings={"made_up": {"enable": "x"}}, tracking_settings={"x": 1}))
    assert (message.mail_settings, message.tracking_settings) == ({}, {})


# --- the other §2.1 rules -----------------------------------------------------------------------------


def test_address_length_limit_is_320() -> None:
    local = "a" * 64
    fits = f"{local}@{'b' * 63}.{'c' * 63}.{'d' * 63}.{'e' * 59}.com"
    assert len(fits) == 320
    assert parse(body(personalizations=one(to=[{"email": fits}]))).personalizations[0].to[0].email == fits
    too_long = "a" + fits
    payload = body(
        personalizations=one(to=[{"email": too_long}], cc=[{"email": too_long}], bcc=[{"email": too_long}]),
        reply_to={"email": too_long},
        **{"from": {"email": too_long}},
    )
    tail = "email exceeds the maximum total length of 320 characters"
    assert errors(payload) == [
        (f"The To {tail}", "personalizations.0.to.0.email", f"{H}#message.personalizations.to"),
        (f"The CC {tail}", "personalizations.0.cc.0.email", f"{H}#message.personalizations.cc"),
        (f"The BCC {tail}", "personalizations.0.bcc.0.email", f"{H}#message.personalizations.bcc"),
        (f"The From {tail}", "from.email", f"{H}#message.from"),
        (f"The Reply-To {tail}", "reply_to.email", f"{H}#message.reply_to"),
    ]


@pytest.mark.parametrize("name", ["Doe; John", "Doe, John"])
def test_recipient_names_without_separators(name: str) -> None:
    payload = body(personalizations=one(cc=[{"email": "cc@example.com", "name": name}]))
    assert errors(payload) == [
        ("The cc name cannot contain ';' or ',' characters.", "personalizations.0.cc.0.name",
         f"{H}#message.personalizations.cc"),
    ]  # fmt: skip
    assert parse(body(**{"from": {"email": "f@example.com", "name": name}})).from_.name == name


def test_personalization_from_override_is_validated() -> None:
    assert errors(body(personalizations=one(**{"from": {"email": "nope"}}))) == [
        (wording.FROM_INVALID, "personalizations.0.from.email", f"{H}#message.personalizations.from")
    ]


def test_reply_to_and_reply_to_list() -> None:
    help_ = f"{H}#message.reply_to_list"
    assert errors(body(reply_to={"email": "a@example.com"}, reply_to_list=[{"email": "b@example.com"}])) == [
        (wording.REPLY_TO_EXCLUSIVE, "reply_to_list", help_)
    ]
    duplicates = [{"email": "a@example.com"}, {"email": "b@example.com"}, {"email": "A@example.com"}]
    assert errors(body(reply_to_list=duplicates)) == [
        (wording.DUPLICATE_REPLY_TO.format(email="A@example.com"), "reply_to_list", help_)
    ]
    many = [{"email": f"r{i}@example.com"} for i in range(1001)]
    assert errors(body(reply_to_list=many)) == [(wording.TOO_MANY_REPLY_TO, "reply_to_list", help_)]
    assert len(parse(body(reply_to_list=many[:1000])).reply_to_list) == 1000
    assert errors(body(reply_to={"name": "x"})) == [
        (wording.REPLY_TO_REQUIRED, "reply_to.email", f"{H}#message.reply_to")
    ]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Num": 1}, "The header values must be strings."),
        ({"X-Dup": "a", "x-dup": "b"}, "The headers cannot contain duplicate keys."),
        ({"X Space": "a"}, "Header keys cannot contain non-ASCII characters and empty spaces."),
        ({"X-Ünicode": "a"}, "Header keys cannot contain non-ASCII characters and empty spaces."),
        ({"X-Colon:": "a"}, "Header keys cannot contain non-ASCII characters and empty spaces."),
        ({"": "a"}, "Header keys cannot contain non-ASCII characters and empty spaces."),
    ],
)
def test_header_rules(headers: dict[str, Any], message: str) -> None:
    assert errors(body(headers=headers)) == [(message, "headers", f"{H}#message.headers")]
    assert errors(body(personalizations=one(headers=headers))) == [
        (message, "personalizations.0.headers", f"{H}#message.personalizations.headers")
    ]


@pytest.mark.parametrize(
    "name",
    ["x-sg-id", "X-SG-EID", "Received", "DKIM-Signature", "content-type", "Content-Transfer-Encoding",
     "to", "FROM", "Subject", "reply-to", "Cc", "bcc"],
)  # fmt: skip
def test_reserved_headers(name: str) -> None:
    assert errors(body(headers={name: "v"})) == [
        ("Header can not be one of the reserved keys.", "headers", f"{H}#message.headers")
    ]


def test_each_header_problem_is_reported_once() -> None:
    headers = {"To": "a", "From": "b", "X-A": 1, "X-B": 2, "X-Ok": "fine"}
    assert [m for m, _, _ in errors(body(headers=headers))] == [wording.HEADER_RESERVED, wording.HEADER_VALUES]


def test_content_rules() -> None:
    payload = body(
        content=[
            {"value": "no type"},
            {"type": "", "value": "x"},
            {"type": "text/plain; charset=x", "value": "x"},
            {"type": "text/html"},
        ]
    )
    type_help, value_help = f"{H}#message.content.type", f"{H}#message.content.value"
    assert errors(payload) == [
        (wording.CONTENT_TYPE_REQUIRED, "content.0.type", type_help),
        (wording.CONTENT_TYPE_EMPTY, "content.1.type", type_help),
        (wording.CONTENT_TYPE_CHARS, "content.2.type", type_help),
        (wording.CONTENT_VALUE_REQUIRED, "content.3.value", value_help),
    ]


@pytest.mark.parametrize(
    "types",
    [["text/html", "text/plain"], ["text/x-amp-html", "text/plain"], ["text/plain", "text/calendar", "text/html"]],
)
def test_content_order(types: list[str]) -> None:
    payload = body(content=[{"type": t, "value": "v"} for t in types])
    assert errors(payload) == [(wording.CONTENT_ORDER, "content", f"{H}#message.content")]


def test_content_order_accepts_plain_html_then_others() -> None:
    types = ["text/plain", "TEXT/HTML", "text/x-amp-html", "text/calendar"]
    assert [c.type for c in parse(body(content=[{"type": t, "value": "v"} for t in types])).content] == types


def test_attachment_rules() -> None:
    payload = body(
        attachments=[
            {"content": "QQ=="},
            {"content": "QQ==", "filename": "a,b.txt"},
            {"content": "QQ==", "filename": "a.txt", "type": ""},
            {"content": "QQ==", "filename": "a.txt", "type": "text/plain;x"},
            {"content": "QQ==", "filename": "a.txt", "disposition": "attached"},
            {"content": "QQ==", "filename": "a.txt", "disposition": "inline"},
            {"content": "QQ==", "filename": "a.txt", "disposition": "inline", "content_id": "a\r\nb"},
        ]
    )
    assert errors(payload) == [
        ("filename is required.", "attachments.0.filename", f"{H}#message.attachments.filename"),
        (wording.FILENAME_CHARS, "attachments.1.filename", f"{H}#message.attachments.filename"),
        (wording.ATTACHMENT_TYPE_EMPTY, "attachments.2.type", f"{H}#message.attachments.type"),
        (wording.ATTACHMENT_TYPE_CHARS, "attachments.3.type", f"{H}#message.attachments.type"),
        (
            'The disposition of your attachment can be either "inline" or "attachment". You provided [attached].',
            "attachments.4.disposition",
            f"{H}#message.attachments.disposition",
        ),
        (wording.CONTENT_ID_REQUIRED, "attachments.5.content_id", f"{H}#message.attachments.content_id"),
        (wording.CONTENT_ID_CHARS, "attachments.6.content_id", f"{H}#message.attachments.content_id"),
    ]


def test_inline_attachment() -> None:
    attachment = {"content": "QQ==", "filename": "a.png", "disposition": "inline", "content_id": "logo"}
    (parsed,) = parse(body(attachments=[attachment])).attachments
    assert (parsed.disposition, parsed.content_id, parsed.is_inline) == ("inline", "logo", True)


def test_substitutions() -> None:
    help_ = f"{H}#message.personalizations.substitutions"
    assert errors(body(personalizations=one(substitutions={"-a-": 1}))) == [
        (wording.SUBSTITUTIONS_NOT_STRINGS, "personalizations.0.substitutions", help_)
    ]
    assert errors(body(personalizations=one(substitutions={"-a-": "x" * 9_998}))) == [
        (wording.SUBSTITUTIONS_TOO_LARGE, "personalizations.0.substitutions", help_)
    ]
    subs = parse(body(personalizations=one(substitutions={"-a-": "x" * 9_997}))).personalizations[0].substitutions
    assert len(subs["-a-"]) == 9_997


def test_asm_rules() -> None:
    assert errors(body(asm={"groups_to_display": [1]})) == [
        (wording.ASM_GROUP_REQUIRED, "asm.group_id", f"{H}#message.asm.group_id")
    ]
    assert errors(body(asm={"group_id": 1, "groups_to_display": list(range(26))})) == [
        (wording.TOO_MANY_GROUPS, "asm.groups_to_display", f"{H}#message.asm.groups_to_display")
    ]
    asm = parse(body(asm={"group_id": 1, "groups_to_display": list(range(25))})).asm
    assert asm is not None
    assert len(asm.groups_to_display) == 25


@pytest.mark.parametrize(("name", "ok"), [("a", False), ("ab", True), ("p" * 64, True), ("p" * 65, False)])
def test_ip_pool_name_length(name: str, ok: bool) -> None:
    if ok:
        assert parse(body(ip_pool_name=name)).ip_pool_name == name
    else:
        assert errors(body(ip_pool_name=name)) == [
            (wording.IP_POOL_LENGTH, "ip_pool_name", f"{H}#message.ip_pool_name")
        ]


def test_all_errors_come_back_together() -> None:
    payload = {
        "personalizations": [{"to": [{"email": "bad"}], "cc": [{}]}, {"subject": ""}],
        "from": {"email": ""},
        "content": [{"type": "text/plain", "value": ""}],
        "categories": ["x"] * 11,
        "send_at": "tomorrow",
        "mail_settings": {"sandbox_mode": {"enable": "true"}},
    }
    assert [(field, message) for message, field, _ in errors(payload)] == [
        ("personalizations.0.to.0.email", wording.INVALID_ADDRESS),
        ("personalizations.0.cc.0.email", "The cc email parameter is required."),
        ("personalizations.1.to", wording.TO_REQUIRED),
        ("personalizations.1.subject", wording.SUBJECT_EMPTY),
        ("from.email", wording.FROM_INVALID),
        ("subject", wording.SUBJECT_REQUIRED),
        ("content.0.value", wording.CONTENT_VALUE_EMPTY),
        ("categories", wording.TOO_MANY_CATEGORIES.format(n=11)),
        ("categories", wording.CATEGORY_DUPLICATE.format(value="x")),
        ("send_at", "Invalid type. Expected: integer, given: string."),
        ("mail_settings.sandbox_mode.enable", wording.SANDBOX_ENABLE),
    ]


# --- robustness ---------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["a@example.com", "d-" + "0" * 32, "QUJD", "inline", "text/html", ""]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

RICH_BODY: dict[str, Any] = body(
    personalizations=[
        {
            "to": [{"email": "a@example.com", "name": "A"}],
            "cc": [{"email": "c@example.com"}],
            "bcc": [{"email": "b@example.com"}],
            "subject": "s -x-",
            "headers": {"X-P": "p"},
            "substitutions": {"-x-": "y"},
            "custom_args": {"k": "v"},
            "send_at": NOW,
            "dynamic_template_data": {"a": [1]},
            "from": {"email": "p@example.com"},
        }
    ],
    reply_to={"email": "r@example.com", "name": "R"},
    content=[{"type": "text/plain", "value": "p"}, {"type": "text/html", "value": "<p>h</p>"}],
    attachments=[
        {"content": "QUJD", "filename": "a.txt", "type": "text/plain"},
        {"content": "QUJD", "filename": "i.png", "disposition": "inline", "content_id": "i"},
    ],
    headers={"X-G": "g"},
    categories=["c"],
    custom_args={"g": "1"},
    send_at=NOW,
    batch_id="b",
    asm={"group_id": 1, "groups_to_display": [1]},
    ip_pool_name="pool",
    mail_settings={"sandbox_mode": {"enable": False}, "footer": {"enable": True, "text": "t"}},
    tracking_settings={"click_tracking": {"enable": True}, "ganalytics": {"utm_source": "s"}},
)


def _mutate(data: st.DataObject, root: dict[str, Any]) -> None:
    """Replace or delete one value somewhere in `root`, in place."""
    node: Any = root
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return
        key = data.draw(st.sampled_from(keys))
        action = data.draw(st.sampled_from(["descend", "replace", "delete"]))
        if action == "descend" and isinstance(node[key], dict | list) and node[key]:
            node = node[key]
        elif action == "delete":
            del node[key]
            return
        else:
            node[key] = data.draw(json_values)
            return


def _accepts_or_rejects(payload: object) -> None:
    try:
        message = mv.parse_mail_send(payload, now=NOW)
    except BadRequest as error:
        details = error.details
    else:
        details = ()
        for index in range(len(message.personalizations)):
            assert render_mime(message, index, message_id="id", date=DATE).startswith(b"From: ")
    assert all(d.message and d.field and d.help for d in details)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_yields_a_message_or_bad_request(payload: object) -> None:
    _accepts_or_rejects(payload)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(min_value=1, max_value=3))
def test_mutated_valid_bodies_yield_a_message_or_bad_request(data: st.DataObject, mutations: int) -> None:
    payload = copy.deepcopy(RICH_BODY)
    for _ in range(mutations):
        _mutate(data, payload)
    _accepts_or_rejects(payload)


def test_rich_body_is_valid() -> None:
    assert parse(copy.deepcopy(RICH_BODY)).recipient_count == 3
