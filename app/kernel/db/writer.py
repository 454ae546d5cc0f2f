"""Group commit: the writes that arrive while the previous COMMIT runs share the next transaction.

The event loop turns each job's rows into parameter tuples and queues the job. Each job waits for the
COMMIT that contains it: an acknowledgement always means "stored". Where the batch is committed depends on
the database:

- PostgreSQL: one writer thread takes everything queued, executes it as one transaction and commits, then
  at once takes what queued meanwhile. The COMMIT waits on the server, with the GIL released, so the loop
  keeps serving requests meanwhile and is handed the batch's outcomes in one callback.
- SQLite: the loop that queued the jobs commits them itself, in a callback run once everything it had
  ready has queued. SQLite's work is CPU in this process, and a second thread needs the GIL back after
  every SQLite call while the loop holds it: the hand-offs cost more than they overlap (a send at 32
  connections went from about 2,400 to 3,500 per second when the thread went away).
  The loop never waits for SQLite's write lock, though: a request served in the threadpool may hold it
  until the loop schedules that request's COMMIT, so waiting would stall both until the busy timeout.
  When the lock is taken (or the thread still has work, which must commit first), the batch goes to the
  writer thread, whose connection waits as long as it takes: past its busy timeout too, so that no job,
  background passes' included, fails with "database is locked" because another connection (a long
  transaction, another process, a RESTART checkpoint) held the write lock for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, RootTransaction, Table
from sqlalchemy.exc import OperationalError

from app.kernel.db import bulk, storage
from app.kernel.db.threads import OnDemandThread
from app.kernel.errors import SendGridError

Job = Callable[[Connection], Any]

_MEMO = "sgmirror.transaction_memo"

log = logging.getLogger("sgmirror.writer")


@dataclass
class BulkInsert:
    """A job that only inserts rows, after an optional check; the writer merges such jobs' rows per table.

    `check` runs first in the shared transaction and may refuse with a SendGridError (only this job fails);
    it must not write anything before it has decided to accept. It may return replacement rows for the job
    (the delivery simulator drops suppressed recipients so), which are then prepared anew.
    """

    rows: dict[Table, list[dict[str, Any]]]
    check: Callable[[Connection], dict[Table, list[dict[str, Any]]] | None] | None = None


@dataclass
class _Pending:
    """A queued job and who waits for it: an asyncio future on `loop`, a thread's future, or nobody."""

    job: Job | BulkInsert
    future: asyncio.Future[Any] | Future[Any] | None
    loop: asyncio.AbstractEventLoop | None = None
    prepared: list[bulk.Prepared] = field(default_factory=list)


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


_STOP = None


class GroupCommitWriter:
    """The group commit of one database in one process, fed by every event loop (and by code outside any
    loop)."""

    def __init__(self, engine: Engine, health: storage.StorageHealth | None = None) -> None:
        self._engine = engine
        self._health = health or storage.StorageHealth()
        self._dialect = engine.dialect.name
        self._jobs: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = OnDemandThread(self._serve, "sgmirror-writer")
        self._listeners: list[Callable[[], None]] = []
        self._connection: Connection | None = None  # the writer thread's
        self._inline = self._dialect == "sqlite"
        self._loop_connection: Connection | None = None  # the event loops', one at a time
        self._loop_lock = threading.Lock()
        self._waiting: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._on_thread = 0  # jobs queued for the writer thread and not yet handed out
        self._on_thread_lock = threading.Lock()

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the committing thread) after every successful commit."""
        self._listeners.append(listener)

    async def run(self, job: Job | BulkInsert) -> Any:
        """Queue `job` for the next transaction and wait for its COMMIT."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._submit(self._pending(job, future, loop))
        return await future

    def run_later(self, job: Job | BulkInsert) -> None:
        """Queue `job` without waiting for it (bookkeeping no reply depends on); outside a loop, run it now."""
        loop = _running_loop()
        if loop is None:
            self._run_here(job)
        else:
            self._submit(self._pending(job, None, loop))

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread (if any) and close the connections."""
        while self._waiting:  # a loop that stopped before its commit callback ran
            _, left = self._waiting.popitem()
            self._hand_to_thread(left)
        if self._thread.running:
            self._jobs.put(_STOP)
            self._thread.join()
        with self._loop_lock:
            _close(self._loop_connection)
            self._loop_connection = None

    def _pending(
        self,
        job: Job | BulkInsert,
        future: asyncio.Future[Any] | Future[Any] | None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> _Pending:
        prepared = []
        if isinstance(job, BulkInsert):
            prepared = [bulk.prepare(table, rows, self._dialect) for table, rows in job.rows.items() if rows]
        return _Pending(job, future, loop, prepared)

    def _submit(self, pending: _Pending) -> None:
        """Queue a job from an event loop: on SQLite for that loop's next commit, else for the thread."""
        loop = pending.loop
        if not self._inline or loop is None:
            self._hand_to_thread([pending])
            return
        waiting = self._waiting.get(loop)
        if waiting is None:
            self._waiting[loop] = waiting = []
            # Runs after every callback already ready on this loop, so their jobs share the commit.
            loop.call_soon(self._flush, loop)
        waiting.append(pending)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit what this loop queued during its turn, here if that needs no waiting, else on the thread."""
        batch = [p for p in self._waiting.pop(loop, []) if not _abandoned(p)]
        if not batch:
            return
        outcomes = self._commit_without_waiting(batch)
        if outcomes is None:
            self._hand_to_thread(batch)
        else:
            _deliver(batch, outcomes)

    def _commit_without_waiting(self, batch: list[_Pending]) -> list[_Outcome] | None:
        """The batch's outcomes, committed on this thread; None, with nothing written, when that would mean
        waiting (the write lock is taken, the thread has older work) or when a job failed (the thread then
        sorts out which one)."""
        if self._on_thread or not self._loop_lock.acquire(blocking=False):
            return None
        try:
            conn = self._loop_connection = self._usable(self._loop_connection, wait=False)
            try:
                transaction = conn.begin()
            except OperationalError:  # SQLITE_BUSY at once: another connection is writing
                return None
            with transaction:
                outcomes = _run_batch(conn, batch)
        except Exception as error:
            if not isinstance(error, (SendGridError, OperationalError)) and storage.classify(error) is None:
                log.warning("group commit on the event loop failed; the writer thread retries", exc_info=True)
            return None
        finally:
            self._loop_lock.release()
        self._notify()
        return outcomes

    def _run_here(self, job: Job | BulkInsert) -> None:
        """Outside any event loop: have the writer thread commit `job`, and wait for it."""
        done: Future[Any] = Future()
        self._hand_to_thread([self._pending(job, done)])
        try:
            done.result()
        except Exception as error:
            log.warning("background write failed: %s", error)

    def _hand_to_thread(self, batch: list[_Pending]) -> None:
        with self._on_thread_lock:
            self._on_thread += len(batch)
        self._thread.ensure_started()
        for pending in batch:
            self._jobs.put(pending)

    def _serve(self) -> None:
        """Writer thread: take everything queued, commit it as one batch, hand out the outcomes; repeat."""
        stopping = False
        while not stopping:
            taken = [self._jobs.get()]
            while True:
                try:
                    taken.append(self._jobs.get_nowait())
                except queue.Empty:
                    break
            stopping = _STOP in taken
            batch = [p for p in taken if p is not None and not _abandoned(p)]
            if batch:
                _deliver(batch, self._commit(batch))
            with self._on_thread_lock:
                self._on_thread -= len(taken) - stopping
        _close(self._connection)
        self._connection = None

    def _commit(self, batch: list[_Pending]) -> list[_Outcome]:
        """One transaction for the batch; if it fails, each job alone."""
        if len(batch) == 1:
            return [self._commit_alone(batch[0])]
        try:
            with self._transaction() as conn:
                outcomes = _run_batch(conn, batch)
        except Exception as error:
            # A job refused, or the COMMIT failed: the shared transaction is gone, so every job runs again
            # on its own and only the guilty one fails.
            if not isinstance(error, SendGridError) and storage.classify(error) is None:
                log.warning("group commit of %d jobs failed; retrying them one by one", len(batch), exc_info=True)
            return [self._commit_alone(pending) for pending in batch]
        self._notify()
        return outcomes

    def _commit_alone(self, pending: _Pending) -> _Outcome:
        try:
            with self._transaction() as conn:
                [outcome] = _run_batch(conn, [pending])
        except Exception as error:
            return _Outcome(error=self._storage_error(error))
        self._notify()
        return outcome

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on the writer thread's own connection, kept across batches (checking one out
        of the pool per batch cost more than the batch's INSERTs); a broken one is replaced."""
        conn = self._connection = self._usable(self._connection, wait=True)
        with _begin_waiting(conn):
            yield conn

    def _usable(self, conn: Connection | None, *, wait: bool) -> Connection:
        """`conn`, or a new connection of the writer's own (out of the pool) if it is missing or broken; on
        SQLite without `wait`, one that answers SQLITE_BUSY at once instead of waiting for the write lock."""
        if conn is not None and not conn.invalidated and not conn.closed:
            return conn
        _close(conn)
        conn = self._engine.connect()
        conn.detach()
        if not wait:
            # On the DBAPI connection: through SQLAlchemy the PRAGMA would begin a transaction.
            conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        return conn

    def _storage_error(self, error: Exception) -> Exception:
        """A full disk or read-only database as the error clients retry on (remembered); others unchanged."""
        translated = storage.translate(error)
        if translated is None:
            return error
        self._health.failed(translated)
        return translated

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()


def _begin_waiting(conn: Connection) -> RootTransaction:
    """BEGIN, however many busy timeouts another connection holds SQLite's write lock for."""
    while True:
        try:
            return conn.begin()
        except OperationalError as error:
            if not _busy(error):
                raise
            log.warning("SQLite's write lock is held by another connection past the busy timeout; still waiting")


def _busy(error: OperationalError) -> bool:
    """SQLITE_BUSY ("database is locked"): the lock is still taken, nothing went wrong."""
    cause = error.orig
    return isinstance(cause, sqlite3.OperationalError) and cause.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _close(conn: Connection | None) -> None:
    if conn is not None:
        conn.close()


def _abandoned(pending: _Pending) -> bool:
    """Nobody will read the outcome (the request was cancelled): the job is not run."""
    return isinstance(pending.future, asyncio.Future) and pending.future.cancelled()


def _deliver(batch: list[_Pending], outcomes: list[_Outcome]) -> None:
    """Outcomes to their waiters: directly on this thread's own loop and for thread futures, in one callback
    per other event loop."""
    here = _running_loop()
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending, _Outcome]]] = {}
    for pending, outcome in zip(batch, outcomes, strict=True):
        if pending.loop is None or pending.loop is here:
            _settle(pending, outcome)
        else:
            by_loop.setdefault(pending.loop, []).append((pending, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_all, settled)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _settle_all(settled: list[tuple[_Pending, _Outcome]]) -> None:
    for pending, outcome in settled:
        _settle(pending, outcome)


def _settle(pending: _Pending, outcome: _Outcome) -> None:
    if pending.future is None:
        if outcome.error is not None:
            log.warning("background write failed: %s", outcome.error)
        return
    if pending.future.cancelled():
        return
    if outcome.error is not None:
        pending.future.set_exception(outcome.error)
    else:
        pending.future.set_result(outcome.value)


def transaction_memo(conn: Connection) -> dict[Any, Any] | None:
    """A dict that lives as long as the writer's current transaction (None elsewhere), so that the checks of
    the many jobs in one group commit can share what they looked up."""
    memo: dict[Any, Any] | None = conn.info.get(_MEMO)
    return memo


def _run_batch(conn: Connection, batch: list[_Pending]) -> list[_Outcome]:
    conn.info[_MEMO] = {}
    try:
        return _run_jobs(conn, batch)
    finally:
        del conn.info[_MEMO]


def _run_jobs(conn: Connection, batch: list[_Pending]) -> list[_Outcome]:
    """Run every job; bulk jobs' rows go in with one executemany per table, parents before children."""
    outcomes: list[_Outcome] = []
    merged: dict[Table, tuple[bulk.Prepared, list[tuple[Any, ...]]]] = {}
    for pending in batch:
        job = pending.job
        if not isinstance(job, BulkInsert):
            outcomes.append(_Outcome(value=job(conn)))
            continue
        try:
            replaced = job.check(conn) if job.check is not None else None
        except SendGridError as error:
            outcomes.append(_Outcome(error=error))
            continue
        if replaced is not None:
            dialect = conn.dialect.name
            pending.prepared = [bulk.prepare(table, rows, dialect) for table, rows in replaced.items() if rows]
        for prepared in pending.prepared:
            merged.setdefault(prepared.table, (prepared, []))[1].extend(prepared.values)
        outcomes.append(_Outcome())
    for table in sorted(merged, key=_insert_rank):
        prepared, values = merged[table]
        bulk.execute(conn, prepared, values)
    return outcomes


@cache
def _insert_rank(table: Table) -> int:
    return table.metadata.sorted_tables.index(table)
