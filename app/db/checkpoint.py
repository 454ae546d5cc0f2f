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

log = logging.getLogger("sgmirror.checkpoint")

PAUSE_SECONDS: Final = 0.05


class Checkpointer:
    """Checkpoints the WAL of the SQLite file at `path` after commits, off the committing thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def after_commit(self) -> None:
        """Note that the WAL has grown (from any thread; cheap enough for every commit)."""
        if self._thread is None or not self._thread.is_alive():
            self._start()
        self._wanted.set()

    def close(self) -> None:
        """Stop the thread after a last checkpoint."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._stopping = True
            self._wanted.set()
            thread.join()
        self._thread = None

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="sgmirror-checkpoint", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping:
                self._wanted.wait()
                # Told as a commit starts: the pause lets it finish, and the commits meanwhile share the checkpoint.
                time.sleep(PAUSE_SECONDS)
                self._wanted.clear()
                checkpoint(connection)
        finally:
            connection.close()


def checkpoint(connection: sqlite3.Connection) -> None:
    """One PASSIVE checkpoint: copy what no reader still needs, wait for nobody."""
    try:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error:
        log.warning("WAL checkpoint failed; the next commit will try again", exc_info=True)
