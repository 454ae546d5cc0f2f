"""Where the official OpenAPI files are wrong, and what the mirror sends instead (docs/deviations.md).

Each override names an operation (as the official file spells it), a status, and a JSON pointer into the
response body (`""` is the whole body); all three are shell patterns (`*` matches anything, `/` included).
A recorded problem that matches an override is accepted; an override that matches nothing fails the
suite, so this list only ever holds errors that still show.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from tests.conformance.official import Problem


@dataclass(frozen=True, slots=True)
class Override:
    operation: str
    status: str
    pointer: str
    spec_says: str
    we_send: str
    why: str

    def matches(self, problem: Problem) -> bool:
        return (
            fnmatchcase(problem.operation, self.operation)
            and fnmatchcase(problem.status, self.status)
            and fnmatchcase(problem.pointer, self.pointer)
        )


OVERRIDES: tuple[Override, ...] = (
    Override(
        "POST /v3/mail/send", "*", "/errors/*/help",
        spec_says="`help` is an object",
        we_send="a help URL string, or null",
        why="CONTRACT §5.3: real mail-send errors carry a URL string or null (SDK error printers show it as text)",
    ),
    Override(
        "POST /v3/mail/send", "200", "",
        spec_says="only 202 is a success",
        we_send="200 with an empty body when mail_settings.sandbox_mode.enable is true",
        why="CONTRACT §2.1 and §3 #20: SendGrid's sandbox mode answers 200 and sends nothing",
    ),
    Override(
        "* /v3/whitelabel/domains*", "20?", "*/dns/*",
        spec_says="`dns` requires mail_cname, dkim1 and dkim2",
        we_send="mail_server, subdomain_spf and dkim for a domain with automatic_security false",
        why="CONTRACT §2.10: those are the records of manual security; the required list fits automatic security only",
    ),
    Override(
        "PATCH /v3/whitelabel/domains/{domain_id}", "200", "",
        spec_says="an array of domains",
        we_send="the one domain object",
        why="CONTRACT §5.6: one domain is changed and returned; real clients decode a single object",
    ),
    Override(
        "GET /v3/whitelabel/domains/default", "200", "",
        spec_says="an array of domains",
        we_send="the default domain object",
        why="CONTRACT §5.6: there is one default domain; real clients decode a single object",
    ),
    Override(
        "GET /v3/ips/assigned", "200", "/*/start_date",
        spec_says="`start_date` is an integer",
        we_send="null for an IP that is not warming up",
        why="the same file declares start_date nullable on GET /v3/ips (CONTRACT §2.7: int|null); no warmup, no date",
    ),
    Override(
        "GET /v3/messages/{msg_id}", "200", "/events/*/bounce_type",
        spec_says="every event requires bounce_type (soft|hard)",
        we_send="bounce_type on bounce events only",
        why="a processed or delivered event has no bounce type, and the enum admits no empty value",
    ),
    Override(
        "GET /v3/messages/{msg_id}", "200", "/events/*/http_user_agent",
        spec_says="every event requires http_user_agent",
        we_send="http_user_agent on open and click events only",
        why="only opens and clicks come from a recipient's client; the field describes that client",
    ),
    Override(
        "GET /v3/messages/{msg_id}", "200", "/events/*/mx_server",
        spec_says="every event requires mx_server",
        we_send="no mx_server: the mirror delivers to no MX",
        why="the mirror keeps mail instead of relaying it, so there is no receiving MX server to name",
    ),
    Override(
        "GET /v3/asm/suppressions/global/{email}", "200", "/recipient_email",
        spec_says="recipient_email is required",
        we_send="{} for an address that is not globally suppressed",
        why="the operation's own description: an address not suppressed gets an empty JSON object",
    ),
    Override(
        "GET /v3/suppression/bounces/classifications", "200", "",
        spec_says="only application/json",
        we_send="text/csv when the request asks for it with Accept: text/csv",
        why="the operation's own description and its Accept parameter offer CSV",
    ),
    Override(
        "GET /v3/messages/{msg_id}", "200", "/asm_group_id",
        spec_says="asm_group_id (an integer of at least 1) is required",
        we_send="no asm_group_id for a message sent without an unsubscribe group",
        why="there is no group to name; 0 or null would break the same schema",
    ),
)  # fmt: skip


def unexplained(found: list[Problem]) -> tuple[list[Problem], set[Override]]:
    """The problems no override explains, and the overrides that explained at least one."""
    left, used = [], set()
    for problem in found:
        matching = [override for override in OVERRIDES if override.matches(problem)]
        used.update(matching)
        if not matching:
            left.append(problem)
    return left, used
