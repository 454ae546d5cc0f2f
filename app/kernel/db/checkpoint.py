"""SQLite WAL checkpoints on a thread of their own, so that no COMMIT a sender waits for pays for one.

By default SQLite copies the WAL back into the database file inside whichever COMMIT takes the WAL past
1,000 pages, fsyncing both files: under load every few hundred sends one group commit, and every sender
in it, waits milliseconds longer. The serving database's write connections turn that off; after commits
this thread runs PASSIVE checkpoints (they never block the writer or readers) on its own connection, a
pause after the commit that asked, and a last one when the database is closed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Final

from app.kernel.db import storage
from app.kernel.db.threads import OnDemandThread

log = logging.getLogger("sgmirror.checkpoint")

PAUSE_SECONDS: Final = 0.05


class Checkpointer:
    """Checkpoints the WAL of the SQLite file at `path` after commits, off the committing thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._stopping = False
        self._failing = False
        self._thread = OnDemandThread(self._run, "sgmirror-checkpoint")

    def after_commit(self) -> None:
        """Note that the WAL has grown (from any thread; cheap enough for every commit)."""
        self._thread.ensure_started()
        self._wanted.set()

    def close(self) -> None:
        """Stop the thread after a last checkpoint."""
        if self._thread.running:
            self._stopping = True
            self._wanted.set()
            self._thread.join()
            self._stopping = False

    def _note(self, succeeded: bool) -> None:
        """While the disk is full or the file read-only every commit asks again: say so once, not each time."""
        if not succeeded and not self._failing:
            log.warning("WAL checkpoints fail: the database's storage cannot be written; retrying after commits")
        self._failing = not succeeded

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping:
                self._wanted.wait()
                # Told as a commit starts: the pause lets it finish, and the commits meanwhile share the checkpoint.
                time.sleep(PAUSE_SECONDS)
                self._wanted.clear()
                self._note(checkpoint(connection))
            checkpoint(connection)  # the last one: the loop may have ended with commits after its checkpoint
        finally:
            connection.close()


def checkpoint(connection: sqlite3.Connection) -> bool:
    """One PASSIVE checkpoint: copy what no reader still needs, wait for nobody. False when it failed."""
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as error:
        if storage.classify(error) is None:
            log.warning("WAL checkpoint failed; the next commit will try again", exc_info=True)
        return False
    return True
