"""The dynamic-template renderer against SendGrid's "Using Handlebars" examples and Handlebars' own rules.

Single-line examples must match the docs byte for byte. The docs print multi-line results with their
indentation trimmed; those are checked against what Handlebars itself produces (standalone block lines
disappear, indentation inside blocks stays), and against the docs' lines once stripped.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.templates.handlebars import HandlebarsError, check, render

STORY = {
    "user": {
        "story": [
            {"male": True, "date": "2/1/2018", "item": "shoes"},
            {"male": True, "date": "1/4/2017", "item": "hat"},
            {"female": True, "date": "1/1/2016", "item": "shirt"},
        ]
    }
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- substitution ---------------------------------------------------------------------------------------


def test_basic_replacement() -> None:
    assert render("<p>Hello {{firstName}}</p>", {"firstName": "Ben"}) == "<p>Hello Ben</p>"


def test_deep_object_replacement() -> None:
    data = {"user": {"profile": {"firstName": "Ben"}}}
    assert render("<p>Hello {{user.profile.firstName}}</p>", data) == "<p>Hello Ben</p>"


def test_object_failure_prints_nothing() -> None:
    data = {"user": {"orderHistory": [{"date": "2/1/2018", "item": "shoes"}]}}
    assert render("<p>Hello {{user.profile.firstName}}</p>", data) == "<p>Hello </p>"


def test_triple_stash_is_not_escaped() -> None:
    data = {"firstName": "<strong>Ben</strong>"}
    assert render("<p>Hello {{{firstName}}}</p>", data) == "<p>Hello <strong>Ben</strong></p>"
    assert render("<p>Hello {{& firstName}}</p>", data) == "<p>Hello <strong>Ben</strong></p>"


def test_double_stash_escapes_like_sendgrid() -> None:
    # Subjects rendered by SendGrid show &apos; and &quot; (sendgrid-nodejs#708, #954; sendgrid-python#602).
    data = {"s": 'C&A\'s "<deal>" `=`'}
    assert render("{{s}}", data) == "C&amp;A&apos;s &quot;&lt;deal&gt;&quot; `=`"


def test_values_print_as_sendgrid_prints_them() -> None:
    data = {"int": 3, "whole": 3.0, "real": 1.5, "yes": True, "no": False, "list": [1, "a"], "none": None}
    assert render("{{int}}|{{whole}}|{{real}}|{{yes}}|{{no}}|{{list}}|{{none}}", data) == "3|3|1.5|true|false|1a|"
    assert render("{{obj}}", {"obj": {"b": 1, "a": "x"}}) == "map[a:x b:1]"


def test_paths_this_index_segments_and_escapes() -> None:
    data = {"items": ["a", "b"], "odd key": "k", "x": "X"}
    assert render("{{items.1}} {{[odd key]}} {{this.x}} {{./x}}", data) == "b k X X"
    assert render("\\{{x}} {{x}}", data) == "{{x}} X"


# --- conditionals ---------------------------------------------------------------------------------------

IF_ELSE = """{{#if user.profile.male}}
  <p>Dear Sir</p>
{{else if user.profile.female}}
  <p>Dear Madame</p>
{{else}}
  <p>Dear Customer</p>
{{/if}}
"""


@pytest.mark.parametrize(
    ("profile", "expected"),
    [({"male": True}, "<p>Dear Sir</p>"), ({"female": True}, "<p>Dear Madame</p>"), ({}, "<p>Dear Customer</p>")],
)
def test_basic_if_else_else_if(profile: dict[str, Any], expected: str) -> None:
    assert render(IF_ELSE, {"user": {"profile": profile}}) == f"  {expected}\n"


def test_if_with_a_root() -> None:
    warning = "<p>Warning! Your account is suspended, please call: {{@root.supportPhone}}</p>"
    source = f"{{{{#if user.suspended}}}}\n\t{warning}\n{{{{/if}}}}\n"
    data = {"user": {"suspended": True}, "supportPhone": "1-800-1234567"}
    assert render(source, data) == "\t<p>Warning! Your account is suspended, please call: 1-800-1234567</p>\n"


def test_unless() -> None:
    warning = "<p>Warning! Your account is suspended, please call: {{@root.supportPhone}}</p>"
    source = f"{{{{#unless user.active}}}}\n\t{warning}\n{{{{/unless}}}}\n"
    suspended = {"user": {"active": False}, "supportPhone": "1-800-1234567"}
    assert _lines(render(source, suspended)) == [
        "<p>Warning! Your account is suspended, please call: 1-800-1234567</p>"
    ]
    assert render(source, {"user": {"active": True}}) == ""


def test_truthiness_follows_sendgrids_renderer() -> None:
    source = "{{#if v}}T{{else}}F{{/if}}"
    falsy = [None, False, 0, 0.0, "", [], {}]
    truthy = [True, 1, -1, "0", "false", [0], {"a": None}]
    assert [render(source, {"v": v}) for v in falsy] == ["F"] * len(falsy)
    assert [render(source, {"v": v}) for v in truthy] == ["T"] * len(truthy)
    assert render("{{#if v includeZero=true}}T{{/if}}", {"v": 0}) == "T"


def test_with_changes_the_context() -> None:
    source = "{{#with user}}{{name}} of {{../team}}{{else}}nobody{{/with}}"
    assert render(source, {"user": {"name": "Ann"}, "team": "red"}) == "Ann of red"
    assert render(source, {"team": "red"}) == "nobody"


def test_equals_and_not_equals() -> None:
    source = (
        "{{#equals customerCode winningCode}}You have a winning code.{{else}}You do not have a winning code.{{/equals}}"
    )
    assert render(source, {"customerCode": "123", "winningCode": "123"}) == "You have a winning code."
    assert render(source, {"customerCode": "123", "winningCode": "456"}) == "You do not have a winning code."
    assert render("{{#equals code 123}}yes{{/equals}}", {"code": "123"}) == "yes"
    assert render("{{#notEquals a b}}differ{{else}}same{{/notEquals}}", {"a": 1, "b": 2}) == "differ"
    assert render("{{#notEquals a b}}differ{{else}}same{{/notEquals}}", {"a": 2, "b": 2.0}) == "same"


def test_greater_than_and_less_than() -> None:
    greater = (
        "{{#greaterThan scoreOne scoreTwo}}Congratulations, you have the high score today!"
        "{{else}}You were close{{/greaterThan}}"
    )
    assert render(greater, {"scoreOne": 100, "scoreTwo": 78}) == "Congratulations, you have the high score today!"
    assert render(greater, {"scoreOne": 78, "scoreTwo": 100}) == "You were close"
    lower = "{{#lessThan scoreOne scoreTwo}}lower{{else}}not lower{{/lessThan}}"
    assert render(lower, {"scoreOne": "5", "scoreTwo": 10}) == "lower"
    assert render(lower, {"scoreOne": "five", "scoreTwo": 10}) == "not lower"


def test_and_or() -> None:
    both = "{{#and favoriteFood favoriteDrink}}Thank you{{else}}Please finish the survey{{/and}}"
    assert render(both, {"favoriteFood": "pizza", "favoriteDrink": "water"}) == "Thank you"
    assert render(both, {"favoriteFood": "pizza", "favoriteDrink": ""}) == "Please finish the survey"
    either = "{{#or isRunner isCyclist}}We think you'll like{{else}}Try something{{/or}}"
    assert render(either, {"isRunner": False, "isCyclist": True}) == "We think you'll like"
    assert render(either, {"isRunner": False, "isCyclist": False}) == "Try something"


def test_length_in_a_sub_expression() -> None:
    source = "{{#greaterThan (length cartItems) 0}}Items wait in your cart.{{else}}Thanks for browsing.{{/greaterThan}}"
    assert render(source, {"cartItems": ["raft", "water bottle", "sleeping bag"]}) == "Items wait in your cart."
    assert render(source, {"cartItems": []}) == "Thanks for browsing."
    assert (
        render("{{length cartItems}} {{length name}} {{length missing}}", {"cartItems": [1, 2], "name": "abc"})
        == "2 3 0"
    )


def test_insert_with_default() -> None:
    source = (
        '<p>Hello {{insert name "default=Customer"}}! Thank you for contacting us about '
        '{{insert businessName "default=your business"}}.</p>'
    )
    assert render(source, {"name": "Ben", "businessName": "Twilio SendGrid"}) == (
        "<p>Hello Ben! Thank you for contacting us about Twilio SendGrid.</p>"
    )
    assert render(source, {}) == "<p>Hello Customer! Thank you for contacting us about your business.</p>"
    assert render('{{insert name default="friend"}}', {"name": ""}) == "friend"


def test_format_date_with_and_without_a_timezone_offset() -> None:
    data = {"timeStamp": "2020-01-01T23:00:00.000Z", "dateFormat": "MMMM DD, YYYY h:mm:ss A", "timezoneOffset": "-0800"}
    assert (
        render("<p>Join us {{formatDate timeStamp dateFormat}}</p>", data)
        == "<p>Join us January 01, 2020 11:00:00 PM</p>"
    )
    assert render("<p>Join us {{formatDate timeStamp dateFormat timezoneOffset}}</p>", data) == (
        "<p>Join us January 01, 2020 3:00:00 PM</p>"
    )


def test_format_date_tokens_and_epochs() -> None:
    pattern = "YYYY YY MMMM MMM MM M DD D dddd ddd HH H hh h mm m ss s A a ZZ Z [at] x"
    assert render('{{formatDate t p "+05:30"}}', {"t": 1577919600, "p": pattern}) == (
        "2020 20 January Jan 01 1 02 2 Thursday Thu 04 4 04 4 30 30 00 0 AM am +0530 +05:30 at x"
    )
    assert render('{{formatDate t "YYYY-MM-DD HH:mm"}}', {"t": 1577919600000}) == "2020-01-01 23:00"
    assert render('{{formatDate t "YYYY"}}', {"t": "not a date"}) == "not a date"


def test_format_date_at_the_edges_of_the_calendar_and_impossible_offsets() -> None:
    last = "9999-12-31T23:59:59Z"
    assert render('{{formatDate t "YYYY"}}', {"t": "9999-12-31T23:59:59-05:00"}) == "9999-12-31T23:59:59-05:00"
    assert render('{{formatDate t "YYYY" "+0100"}}', {"t": last}) == last
    assert render('{{formatDate t "YYYY" "-0100"}}', {"t": "0001-01-01T00:00:00Z"}) == "0001-01-01T00:00:00Z"
    assert render('{{formatDate t "HH:mm Z" "+99:99"}}', {"t": "2020-01-01T12:00:00Z"}) == "12:00 +00:00"
    assert render('{{formatDate t "HH:mm"}}', {"t": "2020-01-01T12:00:00+24:00"}) == "12:00"


# --- iterations -----------------------------------------------------------------------------------------


def test_basic_iterator() -> None:
    source = (
        "<ol>\n{{#each user.orderHistory}}\n\t<li>You ordered: {{this.item}} on: {{this.date}}</li>\n{{/each}}\n</ol>"
    )
    data = {"user": {"orderHistory": [{"date": "2/1/2018", "item": "shoes"}, {"date": "1/4/2017", "item": "hat"}]}}
    assert render(source, data) == (
        "<ol>\n\t<li>You ordered: shoes on: 2/1/2018</li>\n\t<li>You ordered: hat on: 1/4/2017</li>\n</ol>"
    )


def test_each_data_variables_and_parent_context() -> None:
    source = "{{#each items}}{{@index}}{{#if @first}}^{{/if}}{{this}}{{#if @last}}${{/if}} {{../sep}}{{/each}}"
    assert render(source, {"items": ["a", "b", "c"], "sep": "|"}) == "0^a |1b |2c$ |"
    assert render("{{#each o}}{{@key}}={{this}};{{/each}}", {"o": {"x": 1, "y": 2}}) == "x=1;y=2;"
    assert render("{{#each none}}x{{else}}empty{{/each}}", {"none": []}) == "empty"


def test_dynamic_content_creation() -> None:
    source = (
        "{{#each user.story}}\n  {{#if this.male}}\n    <p>{{this.date}}</p>\n"
        "  {{else if this.female}}\n    <p>{{this.item}}</p>\n  {{/if}}\n{{/each}}"
    )
    assert _lines(render(source, STORY)) == ["<p>2/1/2018</p>", "<p>1/4/2017</p>", "<p>shirt</p>"]
    assert render(source, STORY) == "    <p>2/1/2018</p>\n    <p>1/4/2017</p>\n    <p>shirt</p>\n"


def test_dynamic_content_with_dynamic_parts() -> None:
    source = "{{#if people}}\n  <p>People:</p>\n  {{#each people}}\n    <p>{{this.name}}</p>\n  {{/each}}\n{{/if}}"
    assert render(source, {"people": [{"name": "Bob"}, {"name": "Sally"}]}) == (
        "  <p>People:</p>\n    <p>Bob</p>\n    <p>Sally</p>\n"
    )


def test_sections_named_after_values() -> None:
    assert render("{{#user}}{{name}}{{/user}}", {"user": {"name": "Ann"}}) == "Ann"
    assert render("{{#list}}[{{this}}]{{/list}}", {"list": [1, 2]}) == "[1][2]"
    assert render("{{^list}}none{{/list}}", {"list": []}) == "none"


# --- whitespace and comments ----------------------------------------------------------------------------


def test_comments_and_tilde_whitespace_control() -> None:
    assert render("{{!-- a }} comment --}}\n{{! short }}\nx {{~ y ~}} z", {"y": "Y"}) == "xYz"


def test_tags_that_share_a_line_keep_it() -> None:
    assert render("a {{#if x}}b{{/if}} c\n", {"x": True}) == "a b c\n"


# --- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["{{#if x}}open", "{{/if}}", "{{#if x}}{{/each}}", "{{unknown a b}}", "{{> partial}}", "{{x", "{{{x}}", "{{else}}"],
)
def test_broken_templates_raise(source: str) -> None:
    with pytest.raises(HandlebarsError):
        check(source) if "unknown" not in source else render(source, {})
