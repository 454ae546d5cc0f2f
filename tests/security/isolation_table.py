"""Every served route, classified for tenant isolation: what another account gets when it reaches for a victim's data.

A route with no entry here fails `test_every_served_route_is_classified`, so a new route cannot slip through.
Kinds of entry:
- `Owned`: the path names the victim's resource. The attacker gets exactly what it gets for a resource that
  does not exist (no existence oracle); for a customer of the same partner that answer is `status`/`body`.
- `Refers`: the body names the victim's resource (a batch id, an IP, a subuser): refused the same way.
- `Own`: answers from, or writes to, the caller's own account: nothing of the victim's may appear in it.
- `PartnerOwned`: the partner API naming a customer account: another partner gets 404, customers 403.
- `Admin`: `/_mirror/*` behind `SGMIRROR_ADMIN_TOKEN`; `Console*`: the same rules for console sessions.
- `Public`: not account-scoped, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.security.world import Tenant

Build = Callable[[Tenant, Tenant], Any]


def _none(attacker: Tenant, victim: Tenant) -> Any:
    return None


@dataclass(frozen=True)
class Owned:
    params: Mapping[str, str]
    status: int
    body: Any
    json: Build = _none
    query: Build = _none


@dataclass(frozen=True)
class Refers:
    needs: str
    status: int
    body: Any
    json: Build
    params: Build = _none


@dataclass(frozen=True)
class Own:
    status: int = 200
    json: Build = _none
    query: Build = _none
    params: Build = _none


@dataclass(frozen=True)
class PartnerOwned:
    json: Build = _none


@dataclass(frozen=True)
class Admin:
    pass


@dataclass(frozen=True)
class ConsoleOwned:
    params: Mapping[str, str]
    form: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsoleOwn:
    form: dict[str, str] | None = None


@dataclass(frozen=True)
class ConsoleAdmin:
    pass


@dataclass(frozen=True)
class Public:
    reason: str


Probe = Owned | Refers | Own | PartnerOwned | Admin | ConsoleOwned | ConsoleOwn | ConsoleAdmin | Public


def classic(message: str, field: str | None = None) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message}]}


def senders_404(field: str, message: str, error_id: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message, "error_id": error_id}]}


NOT_FOUND = classic("not found")
DOMAIN_NOT_FOUND = classic("authenticated domain not found")
SENDER_NOT_FOUND = senders_404("id", "resource not found", "not_found")
TOKEN_NOT_FOUND = senders_404("token", "invalid or expired verification token", "invalid_token")
BATCH_NOT_FOUND = classic("batch id not found")
SENDER = {"nickname": "x", "from_email": "x@attacker.example", "from_name": "x", "reply_to": "x@attacker.example",
          "address": "1 Road", "city": "Town", "country": "USA"}  # fmt: skip
MAIL = {
    "personalizations": [{"to": [{"email": "someone@attacker.example"}]}],
    "from": {"email": "me@attacker.example"},
    "subject": "mine",
    "content": [{"type": "text/plain", "value": "mine"}],
}
KEY = {"api_key_id": "api_key_id"}
SUBUSER = {"subuser_name": "subuser"}
DOMAIN = {"domain_id": "domain_id"}
CONSOLE_MESSAGE = {"message_id": "message_id"}
GROUP = {"group_id": "group_id"}
WEBHOOK = {"id": "webhook_id"}
WEBHOOK_NOT_FOUND = {"errors": [{"message": "Invalid id provided."}]}
TEMPLATE = {"template_id": "template_id"}
VERSION = {"template_id": "template_id", "version_id": "version_id"}

TABLE: dict[tuple[str, str], tuple[Probe, ...]] = {
    # Mail send and batches
    ("POST", "/v3/mail/send"): (
        Own(202, json=lambda a, v: MAIL),
        Refers(
            "batch_id",
            400,
            {
                "errors": [
                    {
                        "message": "The batch_id is not valid. Create one with POST /v3/mail/batch before using it.",
                        "field": "batch_id",
                        "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.batch_id",
                    }
                ]
            },
            json=lambda a, v: {**MAIL, "batch_id": v.batch_id},
        ),
    ),  # fmt: skip
    ("POST", "/v3/mail/batch"): (Own(201),),
    ("GET", "/v3/mail/batch/{batch_id}"): (Owned({"batch_id": "batch_id"}, 400, classic("invalid batch id")),),
    # Scheduled sends
    ("POST", "/v3/user/scheduled_sends"): (
        Refers(
            "batch_id",
            400,
            classic("invalid batch id", "batch_id"),
            json=lambda a, v: {"batch_id": v.batch_id, "status": "cancel"},
        ),
    ),  # fmt: skip
    ("GET", "/v3/user/scheduled_sends"): (Own(),),
    ("GET", "/v3/user/scheduled_sends/{batch_id}"): (Owned({"batch_id": "batch_id"}, 404, BATCH_NOT_FOUND),),
    ("PATCH", "/v3/user/scheduled_sends/{batch_id}"): (
        Owned({"batch_id": "batch_id"}, 404, BATCH_NOT_FOUND, json=lambda a, v: {"status": "cancel"}),
    ),
    ("DELETE", "/v3/user/scheduled_sends/{batch_id}"): (Owned({"batch_id": "batch_id"}, 404, BATCH_NOT_FOUND),),
    # API keys and scopes
    ("POST", "/v3/api_keys"): (Own(201, json=lambda a, v: {"name": "attacker's own"}),),
    ("GET", "/v3/api_keys"): (Own(),),
    ("GET", "/v3/api_keys/{api_key_id}"): (Owned(KEY, 404, NOT_FOUND),),
    ("PATCH", "/v3/api_keys/{api_key_id}"): (Owned(KEY, 404, NOT_FOUND, json=lambda a, v: {"name": "taken"}),),
    ("PUT", "/v3/api_keys/{api_key_id}"): (
        Owned(KEY, 404, NOT_FOUND, json=lambda a, v: {"name": "taken", "scopes": ["mail.send"]}),
    ),
    ("DELETE", "/v3/api_keys/{api_key_id}"): (Owned(KEY, 404, NOT_FOUND),),
    ("GET", "/v3/scopes"): (Own(),),
    # Email Activity
    ("GET", "/v3/messages"): (Own(query=lambda a, v: {"query": f'to_email="{v.recipient}"'}),),
    ("GET", "/v3/messages/{msg_id}"): (
        Owned({"msg_id": "msg_id"}, 404, {"errors": [{"message": "not found", "field": "message_id"}]}),
    ),
    # Subusers
    ("GET", "/v3/subusers"): (Own(query=lambda a, v: {"username": v.subuser} if v.subuser else None),),
    ("POST", "/v3/subusers"): (
        Refers(
            "ip",
            400,
            {"errors": [{"field": "ips", "message": "unable to validate IPs at this time"}]},
            json=lambda a, v: {
                "username": f"{a.username}-new",
                "email": "n@attacker.example",
                "password": "a long password 1",
                "ips": [v.ip],
            },
        ),
    ),  # fmt: skip
    ("PATCH", "/v3/subusers/{subuser_name}"): (
        Owned(SUBUSER, 400, classic("invalid username"), json=lambda a, v: {"disabled": True}),
    ),
    ("DELETE", "/v3/subusers/{subuser_name}"): (Owned(SUBUSER, 404, NOT_FOUND),),
    ("PUT", "/v3/subusers/{subuser_name}/ips"): (
        Owned(SUBUSER, 404, NOT_FOUND, json=lambda a, v: []),
        Refers(
            "ip",
            400,
            {"errors": [{"field": "ips", "message": "unable to validate IPs at this time"}]},
            params=lambda a, v: {"subuser_name": a.subuser or "no-subuser"},
            json=lambda a, v: [v.ip],
        ),
    ),  # fmt: skip
    # IPs
    ("GET", "/v3/ips"): (Own(query=lambda a, v: {"ip": v.ip} if v.ip else None),),
    ("POST", "/v3/ips"): (
        Refers(
            "subuser",
            400,
            classic("one or more subusers do not belong to this user"),
            json=lambda a, v: {"count": 1, "subusers": [v.subuser]},
        ),
    ),
    ("GET", "/v3/ips/assigned"): (Own(),),
    ("GET", "/v3/ips/{ip_address}"): (Owned({"ip_address": "ip"}, 404, NOT_FOUND),),
    # Verified senders
    ("POST", "/v3/verified_senders"): (Own(201, json=lambda a, v: SENDER),),
    ("GET", "/v3/verified_senders"): (Own(query=lambda a, v: {"id": v.sender_id}),),
    ("GET", "/v3/verified_senders/domains"): (Public("the DMARC failure lists are the same for everyone"),),
    ("GET", "/v3/verified_senders/steps_completed"): (Own(),),
    ("GET", "/v3/verified_senders/verify/{token}"): (Owned({"token": "sender_token"}, 404, TOKEN_NOT_FOUND),),
    ("POST", "/v3/verified_senders/resend/{id}"): (Owned({"id": "sender_id"}, 404, SENDER_NOT_FOUND),),
    ("PATCH", "/v3/verified_senders/{id}"): (
        Owned({"id": "sender_id"}, 404, SENDER_NOT_FOUND, json=lambda a, v: {"nickname": "taken"}),
    ),
    ("DELETE", "/v3/verified_senders/{id}"): (Owned({"id": "sender_id"}, 404, SENDER_NOT_FOUND),),
    # Domain authentication
    ("POST", "/v3/whitelabel/domains"): (
        Own(201, json=lambda a, v: {"domain": f"{a.username}-{v.username}.example"}),
        Refers(
            "subuser",
            400,
            classic("username must be your own or one of your subusers'", "username"),
            json=lambda a, v: {"domain": "x-attacker.example", "username": v.subuser},
        ),
    ),  # fmt: skip
    ("GET", "/v3/whitelabel/domains"): (Own(query=lambda a, v: {"domain": v.domain}),),
    ("GET", "/v3/whitelabel/domains/default"): (Own(query=lambda a, v: {"domain": v.domain}),),
    ("GET", "/v3/whitelabel/domains/{domain_id}"): (Owned(DOMAIN, 404, DOMAIN_NOT_FOUND),),
    ("PATCH", "/v3/whitelabel/domains/{domain_id}"): (
        Owned(DOMAIN, 404, DOMAIN_NOT_FOUND, json=lambda a, v: {"default": True}),
    ),
    ("DELETE", "/v3/whitelabel/domains/{domain_id}"): (Owned(DOMAIN, 404, DOMAIN_NOT_FOUND),),
    ("POST", "/v3/whitelabel/domains/{id}/validate"): (Owned({"id": "domain_id"}, 404, DOMAIN_NOT_FOUND),),
    # Partner API (Account Provisioning, IP Provisioning)
    ("GET", "/v3/partners/accounts"): (Own(403),),
    ("POST", "/v3/partners/accounts"): (Public("creates a customer of the calling partner; customers get 403"),),
    ("GET", "/v3/partners/offerings"): (Public("the offerings catalog is the same for everyone"),),
    ("DELETE", "/v3/partners/accounts/{accountID}"): (PartnerOwned(),),
    ("GET", "/v3/partners/accounts/{accountID}/state"): (PartnerOwned(),),
    ("PUT", "/v3/partners/accounts/{accountID}/state"): (PartnerOwned(json=lambda a, v: {"state": "deactivated"}),),
    ("GET", "/v3/partners/accounts/{accountID}/offerings"): (PartnerOwned(),),
    ("PUT", "/v3/partners/accounts/{accountID}/offerings"): (PartnerOwned(json=lambda a, v: {"offerings": []}),),
    ("POST", "/v3/partners/accounts/{accountID}/sso"): (PartnerOwned(),),
    ("GET", "/v3/partners/accounts/{accountID}/ips"): (PartnerOwned(),),
    ("POST", "/v3/partners/accounts/{accountID}/ips"): (PartnerOwned(json=lambda a, v: {"count": 1}),),
    ("DELETE", "/v3/partners/accounts/{accountID}/ips"): (PartnerOwned(json=lambda a, v: {"ips": [v.ip]}),),
    # Suppressions (lists filled by the delivery simulator): addresses are looked up in the caller's own lists
    **{
        route: probes
        for kind, attribute in (
            ("bounces", "bounce"),
            ("blocks", "block"),
            ("invalid_emails", "invalid"),
            ("spam_reports", "spam"),
        )
        for route, probes in {
            ("GET", f"/v3/suppression/{kind}"): (Own(query=lambda a, v, at=attribute: {"email": getattr(v, at)}),),
            ("DELETE", f"/v3/suppression/{kind}"): (
                Own(204, json=lambda a, v, at=attribute: {"emails": [getattr(v, at)]}),
                Own(204, json=lambda a, v: {"delete_all": True}),
            ),
            ("GET", f"/v3/suppression/{kind}/{{email}}"): (Owned({"email": attribute}, 200, []),),
            ("DELETE", f"/v3/suppression/{kind}/{{email}}"): (Owned({"email": attribute}, 404, NOT_FOUND),),
        }.items()
    },  # fmt: skip
    ("GET", "/v3/suppression/unsubscribes"): (Own(query=lambda a, v: {"email": v.global_email}),),
    ("GET", "/v3/suppression/bounces/classifications"): (Own(),),
    ("GET", "/v3/suppression/bounces/classifications/{classification}"): (
        Own(params=lambda a, v: {"classification": "Invalid Address"}),
    ),
    # Unsubscribe groups and global unsubscribes
    ("POST", "/v3/asm/groups"): (
        Own(201, json=lambda a, v: {"name": f"{a.username} own group {v.username}", "description": "mine"}),
    ),
    ("GET", "/v3/asm/groups"): (Own(query=lambda a, v: {"id": v.group_id}),),
    ("GET", "/v3/asm/groups/{group_id}"): (Owned(GROUP, 404, NOT_FOUND),),
    ("PATCH", "/v3/asm/groups/{group_id}"): (Owned(GROUP, 404, NOT_FOUND, json=lambda a, v: {"name": "taken"}),),
    ("DELETE", "/v3/asm/groups/{group_id}"): (Owned(GROUP, 404, NOT_FOUND),),
    ("GET", "/v3/asm/groups/{group_id}/suppressions"): (Owned(GROUP, 404, NOT_FOUND),),
    ("POST", "/v3/asm/groups/{group_id}/suppressions"): (
        # The spec knows only 201: the entry is the caller's own and changes nothing for the group's owner.
        Owned(
            GROUP,
            201,
            {"recipient_emails": ["planted@attacker.example"]},
            json=lambda a, v: {"recipient_emails": ["planted@attacker.example"]},
        ),
    ),
    ("POST", "/v3/asm/groups/{group_id}/suppressions/search"): (
        Owned(GROUP, 404, NOT_FOUND, json=lambda a, v: {"recipient_emails": [v.group_email or "x@y.example"]}),
    ),
    ("DELETE", "/v3/asm/groups/{group_id}/suppressions/{email}"): (
        Owned({**GROUP, "email": "group_email"}, 404, NOT_FOUND),
    ),
    ("GET", "/v3/asm/suppressions"): (Own(),),
    ("GET", "/v3/asm/suppressions/{email}"): (Own(params=lambda a, v: {"email": v.group_email or "x@y.example"}),),
    ("POST", "/v3/asm/suppressions/global"): (Own(201, json=lambda a, v: {"recipient_emails": ["x@y.example"]}),),
    ("GET", "/v3/asm/suppressions/global/{email}"): (Owned({"email": "global_email"}, 200, {}),),
    ("DELETE", "/v3/asm/suppressions/global/{email}"): (Owned({"email": "global_email"}, 204, ""),),
    # Event Webhook settings
    ("GET", "/v3/user/webhooks/event/settings"): (Own(),),
    ("PATCH", "/v3/user/webhooks/event/settings"): (Own(json=lambda a, v: {"enabled": False}),),
    ("POST", "/v3/user/webhooks/event/settings"): (Own(201, json=lambda a, v: {"url": "https://a.example/e"}),),
    ("GET", "/v3/user/webhooks/event/settings/all"): (Own(),),
    ("GET", "/v3/user/webhooks/event/settings/signed"): (Own(),),
    ("PATCH", "/v3/user/webhooks/event/settings/signed"): (Own(json=lambda a, v: {"enabled": False}),),
    ("GET", "/v3/user/webhooks/event/settings/signed/{id}"): (Owned(WEBHOOK, 404, WEBHOOK_NOT_FOUND),),
    ("PATCH", "/v3/user/webhooks/event/settings/signed/{id}"): (
        Owned(WEBHOOK, 404, WEBHOOK_NOT_FOUND, json=lambda a, v: {"enabled": True}),
    ),
    ("GET", "/v3/user/webhooks/event/settings/{id}"): (Owned(WEBHOOK, 404, WEBHOOK_NOT_FOUND),),
    ("PATCH", "/v3/user/webhooks/event/settings/{id}"): (
        Owned(WEBHOOK, 404, WEBHOOK_NOT_FOUND, json=lambda a, v: {"url": "https://attacker.example/steal"}),
    ),
    ("DELETE", "/v3/user/webhooks/event/settings/{id}"): (Owned(WEBHOOK, 404, WEBHOOK_NOT_FOUND),),
    ("POST", "/v3/user/webhooks/event/test"): (Own(204, json=lambda a, v: {"url": "https://attacker.example/t"}),),
    # Templates and their versions
    ("GET", "/v3/templates"): (Own(query=lambda a, v: {"generations": "legacy,dynamic", "page_size": "200"}),),
    ("POST", "/v3/templates"): (Own(201, json=lambda a, v: {"name": "attacker's", "generation": "dynamic"}),),
    ("GET", "/v3/templates/{template_id}"): (Owned(TEMPLATE, 404, NOT_FOUND),),
    ("PATCH", "/v3/templates/{template_id}"): (Owned(TEMPLATE, 404, NOT_FOUND, json=lambda a, v: {"name": "taken"}),),
    ("POST", "/v3/templates/{template_id}"): (Owned(TEMPLATE, 404, NOT_FOUND, json=lambda a, v: {"name": "copied"}),),
    ("DELETE", "/v3/templates/{template_id}"): (Owned(TEMPLATE, 404, NOT_FOUND),),
    ("POST", "/v3/templates/{template_id}/versions"): (
        Owned(TEMPLATE, 404, NOT_FOUND, json=lambda a, v: {"name": "planted", "subject": "s", "html_content": "x"}),
    ),
    ("GET", "/v3/templates/{template_id}/versions/{version_id}"): (Owned(VERSION, 404, NOT_FOUND),),
    ("PATCH", "/v3/templates/{template_id}/versions/{version_id}"): (
        Owned(VERSION, 404, NOT_FOUND, json=lambda a, v: {"html_content": "defaced"}),
    ),
    ("DELETE", "/v3/templates/{template_id}/versions/{version_id}"): (Owned(VERSION, 404, NOT_FOUND),),
    ("POST", "/v3/templates/{template_id}/versions/{version_id}/activate"): (Owned(VERSION, 404, NOT_FOUND),),
    # The mirror's own API
    ("GET", "/_mirror/delivery-rules"): (Admin(),),
    ("PUT", "/_mirror/delivery-rules"): (Admin(),),
    ("DELETE", "/_mirror/delivery-rules"): (Admin(),),
    ("GET", "/_mirror/faults"): (Admin(),),
    ("POST", "/_mirror/faults"): (Admin(),),
    ("DELETE", "/_mirror/faults"): (Admin(),),
    ("DELETE", "/_mirror/faults/{rule_id}"): (Admin(),),
    ("GET", "/_mirror/webhooks/deliveries"): (Admin(),),
    ("GET", "/_mirror/webhooks/deliveries/{delivery_id}"): (Admin(),),
    ("POST", "/_mirror/webhooks/deliveries/{delivery_id}/replay"): (Admin(),),
    ("POST", "/_mirror/webhooks/run"): (Admin(),),
    ("GET", "/console/webhooks"): (ConsoleOwn(),),
    ("POST", "/console/webhooks/deliveries/{delivery_id}/replay"): (
        ConsoleOwned({"delivery_id": "webhook_delivery_id"}),
    ),
    ("GET", "/_mirror/health"): (Public("liveness probe; says nothing about any account"),),
    ("GET", "/_mirror/openapi.json"): (Public("the schema"),),
    ("GET", "/_mirror/docs"): (Public("the interactive docs page"),),
    ("GET", "/docs/oauth2-redirect"): (Public("FastAPI's docs helper page"),),
    ("GET", "/_mirror/senders/verify/{token}"): (
        Public("the emailed verification link: its 256-bit token is the credential"),
    ),
    ("GET", "/_mirror/clock"): (Admin(),),
    ("PUT", "/_mirror/clock"): (Admin(),),
    ("POST", "/_mirror/clock/advance"): (Admin(),),
    ("DELETE", "/_mirror/clock"): (Admin(),),
    ("POST", "/_mirror/scheduler/run"): (Admin(),),
    ("PUT", "/_mirror/domains/{domain_id}/dns"): (Admin(),),
    ("GET", "/_mirror/messages"): (Admin(),),
    ("GET", "/_mirror/messages/wait"): (Admin(),),
    ("GET", "/_mirror/messages/{message_id}"): (Admin(),),
    ("GET", "/_mirror/messages/{message_id}/raw"): (Admin(),),
    ("GET", "/_mirror/messages/{message_id}/text"): (Admin(),),
    ("GET", "/_mirror/messages/{message_id}/html"): (Admin(),),
    ("GET", "/_mirror/messages/{message_id}/attachments/{index}"): (Admin(),),
    ("DELETE", "/_mirror/messages/{message_id}"): (Admin(),),
    ("DELETE", "/_mirror/messages"): (Admin(),),
    ("GET", "/_mirror/accounts"): (Admin(),),
    ("GET", "/_mirror/accounts/{account}"): (Admin(),),
    ("PUT", "/_mirror/accounts/{account}/state"): (Admin(),),
    ("POST", "/_mirror/reset"): (Admin(),),
    # The web console (session cookie)
    ("GET", "/"): (Public("redirects to the console"),),
    ("GET", "/console/"): (ConsoleOwn(),),
    ("GET", "/console/static/{name}"): (Public("stylesheet and script"),),
    ("GET", "/console/login"): (Public("sign-in form"),),
    ("POST", "/console/login"): (Public("sign-in: credentials decide the account"),),
    ("POST", "/console/logout"): (Public("ends the caller's own session"),),
    ("GET", "/console/sso"): (Public("SSO code: the single-use code is the credential"),),
    ("GET", "/console/admin"): (Public("admin token form"),),
    ("POST", "/console/admin"): (Public("admin token check"),),
    ("POST", "/console/admin/logout"): (Public("forgets the caller's admin cookie"),),
    ("GET", "/console/signup"): (Public("sign-up form"),),
    ("POST", "/console/signup"): (Public("sign-up"),),
    ("GET", "/console/signup/confirm"): (Public("emailed confirmation link: its token is the credential"),),
    ("GET", "/console/forgot-password"): (Public("form"),),
    ("POST", "/console/forgot-password"): (Public("answers the same whether or not the address is known"),),
    ("GET", "/console/forgot-username"): (Public("form"),),
    ("POST", "/console/forgot-username"): (Public("answers the same whether or not the address is known"),),
    ("GET", "/console/reset-password"): (Public("emailed reset link: its token is the credential"),),
    ("POST", "/console/reset-password"): (Public("emailed reset link: its token is the credential"),),
    ("GET", "/console/{path}"): (Public("the console's 404 page"),),
    ("GET", "/console/mail"): (ConsoleOwn(),),
    ("GET", "/console/mail/poll"): (ConsoleOwn(),),
    ("POST", "/console/mail/clear"): (ConsoleOwn(form={}),),
    ("GET", "/console/mail/{message_id}"): (ConsoleOwned(CONSOLE_MESSAGE),),
    ("GET", "/console/mail/{message_id}/html"): (ConsoleOwned(CONSOLE_MESSAGE),),
    ("GET", "/console/mail/{message_id}/raw"): (ConsoleOwned(CONSOLE_MESSAGE),),
    ("GET", "/console/mail/{message_id}/attachments/{index}"): (ConsoleOwned({**CONSOLE_MESSAGE, "index": "0"}),),
    ("POST", "/console/mail/{message_id}/delete"): (ConsoleOwned(CONSOLE_MESSAGE),),
    ("GET", "/console/all-mail"): (ConsoleAdmin(),),
    ("GET", "/console/all-mail/poll"): (ConsoleAdmin(),),
    ("POST", "/console/all-mail/clear"): (ConsoleAdmin(),),
    ("GET", "/console/all-mail/{message_id}"): (ConsoleAdmin(),),
    ("GET", "/console/all-mail/{message_id}/html"): (ConsoleAdmin(),),
    ("GET", "/console/all-mail/{message_id}/raw"): (ConsoleAdmin(),),
    ("GET", "/console/all-mail/{message_id}/attachments/{index}"): (ConsoleAdmin(),),
    ("POST", "/console/all-mail/{message_id}/delete"): (ConsoleAdmin(),),
    ("GET", "/console/account"): (ConsoleOwn(),),
    ("POST", "/console/account/password"): (Public("changes the signed-in account's own password"),),
    ("GET", "/console/api-keys"): (ConsoleOwn(),),
    ("POST", "/console/api-keys"): (ConsoleOwn(form={"name": "console key"}),),
    ("POST", "/console/api-keys/{key_id}/delete"): (ConsoleOwned({"key_id": "api_key_id"}),),
    ("GET", "/console/senders"): (ConsoleOwn(),),
    ("GET", "/console/subusers"): (ConsoleOwn(),),
    ("GET", "/console/ips"): (ConsoleOwn(),),
    ("GET", "/console/customers"): (ConsoleOwn(),),
    ("POST", "/console/customers/{account_id}/state"): (
        ConsoleOwned({"account_id": "account_id"}, form={"state": "deactivated"}),
    ),
}
