"""Preparing a message's HTML for the console's sandboxed iframe."""

from __future__ import annotations

from app.mail import html as mail_html


def test_cid_images_become_data_urls_and_links_open_in_a_new_tab() -> None:
    document = '<html><head><title>x</title></head><body><img src="cid:logo"><img src="cid:missing"></body></html>'
    prepared = mail_html.inline_document(document, {"logo": ("image/png", b"\x89PNG")})
    assert '<img src="data:image/png;base64,iVBORw==">' in prepared
    assert '<img src="cid:missing">' in prepared
    assert prepared.startswith('<html><head><base target="_blank"><title>')


def test_a_fragment_gets_the_base_first_and_meta_refresh_is_dropped() -> None:
    prepared = mail_html.inline_document('<meta http-equiv="refresh" content="0;url=https://x.example"><p>hi</p>', {})
    assert prepared == '<base target="_blank"><p>hi</p>'


def test_remote_content_is_spotted() -> None:
    assert mail_html.has_remote_content('<img src="https://t.example/p.gif">')
    assert mail_html.has_remote_content("<div style=\"background: url('//cdn.example/a.png')\">")
    assert mail_html.has_remote_content('<img srcset="http://a.example/1x.png 1x">')
    assert not mail_html.has_remote_content('<img src="data:image/png;base64,AA=="><a href="https://x.example">x</a>')


def test_links_come_from_html_then_text_once_each() -> None:
    html = '<a href="https://a.example/x?y=1&amp;z=2">a</a><a href=\'http://b.example\'>b</a><a href="mailto:m@x">m</a>'
    text = "See https://a.example/x?y=1&z=2, then https://c.example/path."
    assert mail_html.links(html, text) == ["https://a.example/x?y=1&z=2", "http://b.example", "https://c.example/path"]
    assert mail_html.links(None, None) == []
