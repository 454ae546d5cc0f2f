"""Group commit: the writes that arrive while the previous COMMIT runs share the next transaction.

The event loop turns each job's rows into parameter tuples and queues the job; one writer thread takes
everything queued, executes it as one transaction and commits (SQLite and psycopg release the GIL
there), then at once takes what queued meanwhile. The loop keeps serving requests throughout and is
handed the batch's outcomes in one callback. Each job still waits for the COMMIT that contains it: an
acknowledgement always means "stored".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Table

from app.db import bulk
from app.db.threads import OnDemandThread
from app.errors import SendGridError

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
    """One writer thread per process, fed by every event loop (and by code outside any loop)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._jobs: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = OnDemandThread(self._serve, "sgmirror-writer")
        self._listeners: list[Callable[[], None]] = []
        self._connection: Connection | None = None

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the writer thread) after every successful commit."""
        self._listeners.append(listener)

    async def run(self, job: Job | BulkInsert) -> Any:
        """Queue `job` for the next transaction and wait for its COMMIT."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(self._pending(job, future, loop))
        return await future

    def run_later(self, job: Job | BulkInsert) -> None:
        """Queue `job` without waiting for it (bookkeeping no reply depends on); outside a loop, run it now."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            done: Future[Any] = Future()
            self._put(self._pending(job, done))
            try:
                done.result()
            except Exception as error:
                log.warning("background write failed: %s", error)
            return
        self._put(self._pending(job, None))

    def close(self) -> None:
        """Let the writer finish what is queued, then stop it."""
        if self._thread.running:
            self._jobs.put(_STOP)
            self._thread.join()

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

    def _put(self, pending: _Pending) -> None:
        self._thread.ensure_started()
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
        self._close_connection()

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
            if not isinstance(error, SendGridError):
                log.warning("group commit of %d jobs failed; retrying them one by one", len(batch), exc_info=True)
            return [self._commit_alone(pending) for pending in batch]
        self._notify()
        return outcomes

    def _commit_alone(self, pending: _Pending) -> _Outcome:
        try:
            with self._transaction() as conn:
                [outcome] = _run_batch(conn, [pending])
        except Exception as error:
            return _Outcome(error=error)
        self._notify()
        return outcome

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on the writer thread's own connection, kept across batches (checking one out
        of the pool per batch cost more than the batch's INSERTs); a broken one is replaced."""
        if self._connection is None or self._connection.invalidated or self._connection.closed:
            self._connection = self._engine.connect()
        with self._connection.begin():
            yield self._connection

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()


def _abandoned(pending: _Pending) -> bool:
    """Nobody will read the outcome (the request was cancelled): the job is not run."""
    return isinstance(pending.future, asyncio.Future) and pending.future.cancelled()


def _deliver(batch: list[_Pending], outcomes: list[_Outcome]) -> None:
    """Outcomes to their waiters: one callback per event loop, thread futures directly."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Pending, _Outcome]]] = {}
    for pending, outcome in zip(batch, outcomes, strict=True):
        if pending.loop is None:
            _settle(pending, outcome)
        else:
            by_loop.setdefault(pending.loop, []).append((pending, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_all, settled)


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
