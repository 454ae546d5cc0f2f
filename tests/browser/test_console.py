"""The web console in headless Chromium: sign-up to inbox, refusals by state, password reset."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import httpx
import pytest
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Category,
    ContentId,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Mail,
)

from app.kernel.db.session import Database
from tests.browser.conftest import PHONE
from tests.support.console import PASSWORD, give_password

pytestmark = pytest.mark.browser

NOT_AUTHORIZED = "You are not authorized to access SendGrid, please contact Support."
RECEIPT = b"%PDF-1.4\n% a receipt for order 1001\n"


def png(width: int = 96, height: int = 48) -> bytes:
    """A small striped PNG (blue and white), made without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(b"\x1a\x82\xe2" if (x // 12) % 2 == 0 else b"\xff\xff\xff" for x in range(width))
        for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def order_mail() -> Mail:
    html = (
        "<h1 style='font-family:sans-serif;color:#294661'>Thanks for your order, Ann!</h1>"
        "<p style='font-family:sans-serif'>Order <b>#1001</b> ships tomorrow. Your receipt is attached.</p>"
        '<p><img src="cid:logo" alt="Shop logo" width="96" height="48"></p>'
        '<p><img src="https://tracker.example/open.gif" alt="" width="1" height="1"></p>'
        '<p><a href="https://shop.example/orders/1001">Track your order</a></p>'
    )
    message = Mail(
        from_email=("shop@example.com", "Example Shop"),
        to_emails="ann@example.com",
        subject="Your order #1001",
        plain_text_content="Thanks for your order, Ann! Order #1001 ships tomorrow.",
        html_content=html,
    )
    message.add_attachment(
        Attachment(
            FileContent(base64.b64encode(RECEIPT).decode()), FileName("receipt.pdf"), FileType("application/pdf")
        )
    )
    message.add_attachment(
        Attachment(
            FileContent(base64.b64encode(png()).decode()), FileName("logo.png"), FileType("image/png"),
            Disposition("inline"), ContentId("logo"),
        )
    )  # fmt: skip
    message.add_category(Category("receipts"))
    return message


def sign_in(page: Any, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def open_captured(page: Any, subject: str, to: str) -> None:
    """Open the mirror's own email (All mail: loopback visitors are admins) and follow its link."""
    page.goto(f"/console/all-mail?to={to}")
    page.get_by_role("link", name=subject).click()
    page.get_by_role("heading", name="Links in this message").wait_for()


def test_sign_up_confirm_sign_in_and_read_mail_sent_with_the_sdk(
    page: Any, base_url: str, shoot: Any, keys: Any
) -> None:
    page.goto("/")
    assert page.url.endswith("/console/login")
    assert page.evaluate("document.activeElement.id") == "username"
    shoot(page, "login")

    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill("ann-dev")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    shoot(page, "signup")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    page.get_by_role("link", name="All mail").first.click()
    page.get_by_role("link", name="Please confirm your email address").click()
    frame = page.frame_locator("iframe[title='HTML body of the message']")
    frame.get_by_role("link", name="Confirm email address").wait_for()
    page.locator(".links a", has_text="/console/signup/confirm?token=").click()
    page.get_by_text("Your email address is confirmed").wait_for()
    assert page.get_by_label("Username").input_value() == "ann-dev"
    # The keyboard alone: the password field has the focus, Enter submits.
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Inbox").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.get_by_role("link", name="Please confirm your email address").is_visible()

    page.get_by_role("link", name="API Keys").click()
    page.get_by_label("API key name").fill("sdk")
    page.get_by_role("button", name="Create & View").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("SG.")
    shoot(page, "api-keys")

    sdk = SendGridAPIClient(api_key=key, host=base_url)
    for to, subject, category in (
        ("ben@example.com", "Welcome to Example Shop", "onboarding"),
        ("cy@example.org", "Your sign-in code is 482913", "security"),
    ):
        earlier = Mail(("shop@example.com", "Example Shop"), to, subject, html_content=f"<p>{subject}</p>")
        earlier.add_category(Category(category))
        assert sdk.send(earlier).status_code == 202
    page.get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="Welcome to Example Shop").wait_for()
    response = sdk.send(order_mail())
    assert response.status_code == 202
    # No reload: the inbox polls and swaps the new message in.
    page.get_by_role("link", name="Your order #1001").wait_for(timeout=10_000)
    assert page.locator("#live").inner_text() == "1 new message"
    shoot(page, "inbox")

    page.get_by_role("link", name="Your order #1001").click()
    iframe = page.locator("iframe[title='HTML body of the message']")
    assert iframe.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    body = page.frame_locator("iframe[title='HTML body of the message']")
    body.get_by_role("heading", name="Thanks for your order, Ann!").wait_for()
    logo = body.get_by_role("img", name="Shop logo")
    logo.wait_for()
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 96
    assert page.get_by_text("Remote images and styles are blocked.").is_visible()
    shoot(page, "message")

    with page.expect_download() as download:
        page.get_by_role("link", name="receipt.pdf").click()
    assert download.value.suggested_filename == "receipt.pdf"
    with open(download.value.path(), "rb") as saved:
        assert saved.read() == RECEIPT

    page.get_by_role("link", name="Raw source").click()
    assert 'Content-Disposition: attachment; filename="receipt.pdf"' in page.locator("pre.source").inner_text()
    page.get_by_role("link", name="Plain text").click()
    assert "Order #1001 ships tomorrow." in page.locator("pre.source").inner_text()
    page.get_by_role("link", name="Account", exact=True).click()
    page.get_by_role("heading", name="Account state: activated").wait_for()
    shoot(page, "account")

    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="Inbox").click()
    shoot(page, "inbox-phone")
    page.get_by_role("link", name="Your order #1001").click()
    shoot(page, "message-phone")


def test_a_banned_account_is_refused_with_sendgrids_wording(
    page: Any, base_url: str, shoot: Any, keys: Any, db: Database
) -> None:
    give_password(db, "default")
    assert httpx.put(f"{base_url}/_mirror/accounts/default/state", json={"state": "banned"}).status_code == 200
    page.goto("/console/login")
    sign_in(page, "default", PASSWORD)
    page.get_by_text(NOT_AUTHORIZED).wait_for()
    assert page.url.endswith("/console/login")
    shoot(page, "login-banned")
    page.goto("/console/mail")
    assert page.url.endswith("/console/login")


def test_a_suspended_account_signs_in_under_a_banner(
    page: Any, base_url: str, shoot: Any, keys: Any, db: Database
) -> None:
    give_password(db, "default")
    assert httpx.put(f"{base_url}/_mirror/accounts/default/state", json={"state": "suspended"}).status_code == 200
    page.goto("/console/login")
    sign_in(page, "default", PASSWORD)
    page.get_by_text("Sending is suspended.").wait_for()
    shoot(page, "inbox-suspended")


def test_password_reset_end_to_end(page: Any, base_url: str, shoot: Any, keys: Any, db: Database) -> None:
    give_password(db, "default", email="dev@example.com")
    page.goto("/console/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Username").fill("default")
    page.get_by_role("button", name="Email me a reset link").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    open_captured(page, "Reset your password", "dev@example.com")
    page.locator(".links a", has_text="/console/reset-password?token=").click()
    page.get_by_label("New password", exact=True).fill("a-brand-new-password")
    page.get_by_label("Confirm new password").fill("a-brand-new-password")
    shoot(page, "reset-password")
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Your password was changed").wait_for()

    sign_in(page, "default", PASSWORD)
    page.get_by_text("Your username or password is invalid.").wait_for()
    sign_in(page, "default", "a-brand-new-password")
    page.get_by_role("heading", name="Inbox").wait_for()
    response = httpx.get(f"{base_url}/v3/scopes", headers={"Authorization": f"Bearer {keys.default}"})
    assert response.status_code == 200
