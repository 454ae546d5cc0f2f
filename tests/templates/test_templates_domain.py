"""Pure rules of transactional templates (app.templates.rules)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.templates import rules as templates


def test_timestamps_are_written_in_utc_whatever_zone_the_database_hands_back() -> None:
    # PostgreSQL returns timestamptz values in its session's time zone, which need not be UTC.
    berlin_summer = timezone(timedelta(hours=2))
    assert templates.timestamp(datetime(2021, 4, 28, 15, 12, 46, tzinfo=berlin_summer)) == "2021-04-28 13:12:46"
    assert templates.timestamp(datetime(2021, 4, 28, 13, 12, 46)) == "2021-04-28 13:12:46"


def test_generated_plain_text_keeps_legacy_body_and_subject_tags() -> None:
    html = "<h1>Shop: <%subject%></h1><%body%><p>Bye <b>{{name}}</b> &amp; co</p>"
    assert templates.plain_from_html(html) == "Shop: <%subject%>\n<%body%>Bye {{name}} & co"
