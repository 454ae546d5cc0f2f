"""SQLite WAL checkpoints on a thread of their own: no COMMIT a sender waits for pays for one, and the WAL
stays near its bound under any load.

By default SQLite copies the WAL back into the database file inside whichever COMMIT takes the WAL past
1,000 pages, fsyncing both files: under load every few hundred sends one group commit, and every sender
in it, waits milliseconds longer. The serving database's write connections turn that off; after commits
this thread runs PASSIVE checkpoints (they never block the writer or readers) on its own connection, a
pause after the commit that asked, and a last one when the database is closed.

PASSIVE checkpoints alone let the WAL grow without end under steady load (16 GB in five minutes of mail
send): SQLite writes the WAL from its beginning again only when a write transaction begins while every
frame has been copied back and no reader still reads the old ones, and with commits landing during every
checkpoint that moment never comes. So when a PASSIVE checkpoint finds more than the bound in the WAL, a
RESTART checkpoint follows it at once: it takes the write lock between two group commits, copies the few
frames committed since, waits for the readers of older frames to finish, and has the next writer start
the WAL from its beginning (which also cuts the file back to journal_size_limit). Senders hardly notice:
the event loop's committer never waits for the lock (its batch goes to the writer thread, which does),
little is left to copy, and the checkpoint connection's busy timeout is short, because the RESTART holds
the write lock while it waits for readers: one that readers hold up gives up after BUSY_TIMEOUT_MS and is
tried again later, after a pause that doubles while they keep holding it up. A reader that runs for seconds
still keeps the WAL growing that long: nothing may overwrite the frames it reads.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Final, Literal

from app.kernel.db import storage
from app.kernel.db.threads import OnDemandThread

log = logging.getLogger("sgmirror.checkpoint")

PAUSE_SECONDS: Final = 0.05
# How long a RESTART checkpoint waits for the write lock, and then, holding it, for readers of old frames.
BUSY_TIMEOUT_MS: Final = 20
# After a RESTART checkpoint that was held up, the next waits this long, twice as long after each further one.
FIRST_RETRY_SECONDS: Final = 0.1
LAST_RETRY_SECONDS: Final = 3.2
# Each frame of the WAL is a page behind a header of this size; the file starts with a header of its own.
FRAME_HEADER_BYTES: Final = 24
WAL_HEADER_BYTES: Final = 32

Mode = Literal["PASSIVE", "RESTART"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A checkpoint's result: whether something held it up, the frames in the WAL, those copied back."""

    held_up: bool
    frames: int
    copied: int


class Checkpointer:
    """Checkpoints the WAL of the SQLite file at `path` after commits, off the committing thread, and
    restarts it once it holds more than `bound_bytes`."""

    def __init__(self, path: str, bound_bytes: int) -> None:
        self._path = path
        self._bound_bytes = bound_bytes
        self._wanted = threading.Event()
        self._stopping = False
        self._failing = False
        self._restart_after = 0.0
        self._retry_seconds = 0.0
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
        connection = connect(self._path)
        try:
            while not self._stopping:
                self._wanted.wait()
                # Told as a commit starts: the pause lets it finish, and the commits meanwhile share the checkpoint.
                time.sleep(PAUSE_SECONDS)
                self._wanted.clear()
                self._checkpoint(connection)
            checkpoint(connection)  # the last one: the loop may have ended with commits after its checkpoint
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        """A PASSIVE checkpoint, then a RESTART if the WAL has outgrown its bound (not again at once if the
        last one was held up)."""
        outcome = checkpoint(connection)
        self._note(outcome is not None)
        if outcome is None or wal_bytes(connection, outcome) <= self._bound_bytes:
            return
        if time.monotonic() < self._restart_after:
            return
        restarted = checkpoint(connection, "RESTART")
        self._retry_later(restarted is None or restarted.held_up)

    def _retry_later(self, held_up: bool) -> None:
        """After a RESTART that readers (or writers) held up, wait before the next: each wait holds up sends."""
        if not held_up:
            self._retry_seconds = 0.0
            return
        self._retry_seconds = min(2 * self._retry_seconds or FIRST_RETRY_SECONDS, LAST_RETRY_SECONDS)
        self._restart_after = time.monotonic() + self._retry_seconds


def connect(path: str) -> sqlite3.Connection:
    """The checkpoint thread's connection, with the short busy timeout a RESTART checkpoint needs."""
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)


def checkpoint(connection: sqlite3.Connection, mode: Mode = "PASSIVE") -> Outcome | None:
    """One checkpoint: PASSIVE copies what no reader still needs and waits for nobody; RESTART also has
    the WAL written from its beginning again. None when it failed."""
    try:
        held_up, frames, copied = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    except sqlite3.Error as error:
        if storage.classify(error) is None:
            log.warning("WAL checkpoint failed; the next commit will try again", exc_info=True)
        return None
    return Outcome(held_up=bool(held_up), frames=frames, copied=copied)


def wal_bytes(connection: sqlite3.Connection, outcome: Outcome) -> int:
    """The part of the WAL file in use when the checkpoint began (0 when it could not tell)."""
    if outcome.frames <= 0:
        return 0
    page_bytes: int = connection.execute("PRAGMA page_size").fetchone()[0]
    return WAL_HEADER_BYTES + outcome.frames * (FRAME_HEADER_BYTES + page_bytes)
