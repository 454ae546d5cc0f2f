"""pytest-sendgrid-mirror: a session's sendgrid-mirror as the `sendgrid_mirror` fixture."""

from pytest_sendgrid_mirror.client import Mirror, MirrorError

__all__ = ["Mirror", "MirrorError"]
