"""Partner API validation rules: profile fields, offerings and their family-B error ids."""

from __future__ import annotations

import pytest

from app.accounts.partners import rules as provisioning


@pytest.mark.parametrize("phone", ["+14155552671", "+442071838750", "+12"])
def test_e164_phones_pass(phone: str) -> None:
    assert provisioning.validate_profile({"phone": phone}) == ({"phone": phone}, [])


@pytest.mark.parametrize("website", ["https://example.com", "http://example.com/path?q=1"])
def test_http_urls_pass(website: str) -> None:
    assert provisioning.validate_profile({"company_website": website})[1] == []


@pytest.mark.parametrize("website", ["example.com", "javascript:alert(1)", "https://", "https://exa mple.com"])
def test_other_urls_fail(website: str) -> None:
    errors = provisioning.validate_profile({"company_website": website})[1]
    assert [(e.field, e.error_id) for e in errors] == [("company_website", "10-40008")]


def test_unknown_profile_fields_are_ignored_and_types_checked() -> None:
    clean, errors = provisioning.validate_profile({"nickname": "x", "first_name": 7, "timezone": "Asia/Tokyo"})
    assert clean == {"timezone": "Asia/Tokyo"}
    assert [(e.message, e.field, e.error_id) for e in errors] == [("Field must be a string", "first_name", "10-40003")]


def test_a_profile_must_be_an_object() -> None:
    errors = provisioning.validate_profile(["x"])[1]
    assert [(e.message, e.field) for e in errors] == [("Field must be an object", "profile")]


def test_offerings_are_normalised_with_quantities() -> None:
    clean, errors = provisioning.validate_offerings(
        [{"name": "org.ei.free.v1", "type": "package"}, {"name": "org.ei.addon.ip.v1", "type": "addon", "quantity": 2}]
    )
    assert errors == []
    assert clean == [
        {"name": "org.ei.free.v1", "type": "package", "quantity": 1},
        {"name": "org.ei.addon.ip.v1", "type": "addon", "quantity": 2},
    ]


def test_an_offering_listed_twice_is_refused() -> None:
    addon = {"name": "org.ei.addon.ip.v1", "type": "addon"}
    errors = provisioning.validate_offerings([addon, addon])[1]
    assert [(e.message, e.field) for e in errors] == [("Each offering may be listed only once", "offerings")]


def test_every_catalog_package_has_quantity_one_semantics() -> None:
    names = [o.name for o in provisioning.CATALOG]
    assert len(names) == len(set(names))
    assert {o.type for o in provisioning.CATALOG} == {"package", "addon"}
