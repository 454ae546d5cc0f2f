"""Daily caps come from the package offering; add-ons and unknown packages change nothing."""

from __future__ import annotations

from app.quotas import plans


def test_the_free_plan_allows_100_a_day() -> None:
    assert plans.daily_cap([{"name": "org.ei.free.v1", "type": "package", "quantity": 1}]) == 100


def test_paid_packages_allow_their_volume_a_day() -> None:
    assert (
        plans.daily_cap(
            [{"name": "org.ei.addon.ip.v1", "type": "addon"}, {"name": "org.ei.pro100k.v1", "type": "package"}]
        )
        == 100_000
    )


def test_no_package_means_no_cap() -> None:
    assert plans.daily_cap([]) is None
    assert plans.daily_cap([{"name": "org.ei.addon.ease.v1", "type": "addon"}]) is None
    assert plans.daily_cap([{"name": "org.ei.unknown.v1", "type": "package"}]) is None
