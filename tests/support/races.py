"""Two requests at once, made deterministic: the second starts while the first's transaction is open."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from app.kernel.db.session import Database

# Long enough for the second transaction to reach the point where it waits for the first.
OVERLAP_SECONDS = 0.3


def second_while_first_open(db: Database, first: Callable[[Session], Any], second: Callable[[Session], Any]) -> Any:
    """Run `first` in one session and, before it commits, `second` in another on a thread; what `second`
    returned, or the exception it raised."""
    outcome: list[Any] = []

    def run_second() -> None:
        try:
            with db.session() as session:
                outcome.append(second(session))
        except Exception as raised:
            outcome.append(raised)

    with db.session() as session:
        first(session)
        racer = threading.Thread(target=run_second)
        racer.start()
        time.sleep(OVERLAP_SECONDS)
    racer.join(timeout=30)
    [result] = outcome
    return result
