"""Group commit: the writes that arrive while the previous COMMIT runs share the next transaction.

The event loop gathers jobs and turns their rows into parameter tuples; one writer thread executes
each batch and commits it (SQLite and psycopg release the GIL there), so the loop keeps serving requests
meanwhile and hands work over once per batch rather than once per request. Each job still waits for the
COMMIT that contains it: an acknowledgement always means "stored".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, Table

from app.db import bulk
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
    job: Job | BulkInsert
    future: asyncio.Future[Any] | None
    prepared: list[bulk.Prepared] = field(default_factory=list)


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None


@dataclass
class _LoopQueue:
    pending: list[_Pending] = field(default_factory=list)
    scheduled: bool = False
    in_flight: bool = False


class GroupCommitWriter:
    """One writer thread; each event loop feeds it one batch at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sgmirror-writer")
        self._queues: dict[asyncio.AbstractEventLoop, _LoopQueue] = {}
        self._listeners: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from the writer thread) after every successful commit."""
        self._listeners.append(listener)

    async def run(self, job: Job | BulkInsert) -> Any:
        """Queue `job` for the next transaction and wait for its COMMIT."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._enqueue(self._pending(job, future))
        return await future

    def run_later(self, job: Job | BulkInsert) -> None:
        """Queue `job` without waiting for it (bookkeeping no reply depends on); outside a loop, run it now."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            _settle(_Pending(job, None), self._executor.submit(self._commit_alone, self._pending(job, None)).result())
            return
        self._enqueue(self._pending(job, None))

    def run_now(self, job: Job | BulkInsert) -> Any:
        """Run `job` in its own transaction on the writer thread, from code outside an event loop."""
        outcome = self._executor.submit(self._commit_alone, self._pending(job, None)).result()
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._queues.clear()

    def _pending(self, job: Job | BulkInsert, future: asyncio.Future[Any] | None) -> _Pending:
        prepared = []
        if isinstance(job, BulkInsert):
            prepared = [bulk.prepare(table, rows, self._dialect) for table, rows in job.rows.items() if rows]
        return _Pending(job, future, prepared)

    def _enqueue(self, pending: _Pending) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _LoopQueue())
        queue.pending.append(pending)
        if not queue.scheduled and not queue.in_flight:
            queue.scheduled = True
            loop.call_soon(self._flush, loop, queue)

    def _flush(self, loop: asyncio.AbstractEventLoop, queue: _LoopQueue) -> None:
        queue.scheduled = False
        batch = [p for p in queue.pending if p.future is None or not p.future.cancelled()]
        queue.pending = []
        if not batch:
            return
        queue.in_flight = True
        done = loop.run_in_executor(self._executor, self._commit, batch)
        done.add_done_callback(lambda result: self._finished(loop, queue, batch, result))

    def _finished(
        self, loop: asyncio.AbstractEventLoop, queue: _LoopQueue, batch: list[_Pending], result: asyncio.Future[Any]
    ) -> None:
        queue.in_flight = False
        error = result.exception()
        outcomes = [_Outcome(error=error)] * len(batch) if error is not None else result.result()
        for pending, outcome in zip(batch, outcomes, strict=True):
            _settle(pending, outcome)
        if queue.pending and not queue.scheduled:
            queue.scheduled = True
            loop.call_soon(self._flush, loop, queue)

    def _commit(self, batch: list[_Pending]) -> list[_Outcome]:
        """Writer thread: one transaction for the batch; if it fails, each job alone."""
        if len(batch) == 1:
            return [self._commit_alone(batch[0])]
        try:
            with self._engine.begin() as conn:
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
            with self._engine.begin() as conn:
                [outcome] = _run_batch(conn, [pending])
        except Exception as error:
            return _Outcome(error=error)
        self._notify()
        return outcome

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()


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
