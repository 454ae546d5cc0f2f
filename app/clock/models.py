"""The mirror clock's one row: how far it runs ahead of real time."""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.kernel.db.base import Base


class MirrorClock(Base):
    """The one row holding how far the mirror's clock runs ahead of real time (set by tests)."""

    __tablename__ = "mirror_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset_seconds: Mapped[int] = mapped_column(Integer)
