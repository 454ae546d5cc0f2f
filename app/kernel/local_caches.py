"""In-process caches of rarely changing rows (mirror clock, sending profiles), forgotten on local writes.

Any ORM session that writes and commits in this process empties them at once; other processes' writes
reach them when their short time-to-live runs out (as `app.api_keys.auth` does for keys).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_forgetters: list[Callable[[], None]] = []
_STALE = "sgmirror_local_caches_stale"


def register(forget: Callable[[], None]) -> None:
    """Call `forget` after every commit of a session that wrote something."""
    _forgetters.append(forget)


def forget_all() -> None:
    for forget in _forgetters:
        forget()


@event.listens_for(Session, "after_flush")
def _note_changed_rows(session: Session, _context: object) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_STALE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        state.session.info[_STALE] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop(_STALE, False):
        forget_all()
