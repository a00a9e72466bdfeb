"""The census import pipeline: checked rows from the engine, classified against the register,
written in bulk. `CensusWriter(user, …).run(census_file)` → ImportOutcome.

Each batch of rows (CENSUS_BATCH_ROWS) goes through four steps, each in a module of its own:
1. lookups.Lookups.chunk — what the register holds for the batch's ID numbers;
2. classify.classify — new / updated / unchanged / rejected, and the changes (pure Python);
3. bulk.Writes.prepare — ids drawn, COPY data built (skipped by a dry run, i.e. the preview);
4. bulk.Writes.write — the statements, inside the caller's ONE transaction (services.execute),
   after the outcome (counts, preview rows, rejected-rows workbook) has taken the batch. When
   the writes fall behind the classifying (a big first import: PostgreSQL is the slower side),
   the batches waiting are written together (bulk.Prepared.extend): fewer statements, each a
   wait for PostgreSQL (a 200,000-row import: 27.8 → 25.1 s with 5,000-row batches, which the
   re-import paid for in memory and time; this keeps the batches at 2,000).

Threads (only with `parallel`, which services sets for files of CENSUS_PARALLEL_BYTES and more;
tests/census/test_parallel.py runs every case both ways). The contract:
- The caller's thread runs step 4 and the outcome, and owns the transaction; nothing else writes.
- One thread ("census-classify") runs the engine's checks and steps 2–3, up to two batches ahead
  of the writes (_run_ahead); one more ("census-lookup") runs step 1 for the next batch while
  the current one is classified. Each has its own database connection, so they read only what
  was committed before the import began: enough, since an ID number appears once per file (the
  engine's rule, see classify) and the guardians this import creates are kept in
  classify.ImportState, which only the classifying thread touches. Ids come from sequences,
  which are not transactional, so that thread may draw them.
- Data passes between threads only through queues and futures (each batch is handed over once
  and never touched by its producer again). An exception in any thread is raised in the caller's;
  when the caller stops (failure, cancel) the others stop at their next step and close their
  connections, and the transaction rolls back.
Without `parallel` the same steps run one after the other in the caller's thread, which is what
the in-request preview of small files does.

Rows are never all kept in memory: rejected ones go to the rejected-rows workbook as they are
found, and only the first few are kept for the preview.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Empty, Full, Queue

from django.db import connection, connections
from django.utils import timezone

from .bulk import RANDOM_PAGE_COST, Writes
from .classify import Batch, ImportState, classify
from .engine import CellIssue, CensusFile, CensusRow
from .lookups import Lookups, Register
from .preview import Details
from .rejected import RejectedBook
from .scope import Jurisdiction

__all__ = ["CensusWriter", "ImportOutcome"]


@dataclass
class ImportOutcome:
    """What an import did (or, for the preview, would do)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: int = 0
    rows: int = 0
    rejected_rows: list = field(default_factory=list)  # first N: {"row", "issues": [{header, value, message}]}
    warning_rows: list = field(default_factory=list)  # first N warnings, same shape
    unknown_columns: list = field(default_factory=list)
    file_warnings: list = field(default_factory=list)
    sheet: str = ""
    details: dict = field(default_factory=dict)  # the preview's lists of new and updated rows (preview.Details)

    def counts(self) -> dict:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "warnings": self.warnings, "rows": self.rows}

    def as_preview(self) -> dict:
        return {**self.counts(), "rejected_rows": self.rejected_rows, "warning_rows": self.warning_rows,
                "unknown_columns": self.unknown_columns, "file_warnings": self.file_warnings,
                "sheet": self.sheet, "details": self.details}


def _issues(issues: Iterable[CellIssue]) -> list[dict]:
    return [{"header": i.header, "value": i.value[:100], "message": i.message} for i in issues]


ProgressCallback = Callable[[int, ImportOutcome], None]
# An import adding this many elders ends by analysing the tables it filled (bulk.Writes.analyze).
ANALYZE_AFTER_NEW = 10_000


class CensusWriter:
    """Classify and (unless `dry_run`) write a census file's rows for `user`; see the module doc."""

    def __init__(self, user, *, dry_run: bool, job_id: int | None = None, rejected_path: str | None = None,
                 details_base: str | None = None, preview_limit: int = 50, batch_rows: int = 2000,
                 progress: ProgressCallback | None = None, parallel: bool = False):
        self.dry_run = dry_run
        self.rejected_path = rejected_path
        self.details_base = details_base  # a storage name: the preview's lists are written beside it
        self.preview_limit = preview_limit
        self.batch_rows = batch_rows
        self.progress = progress
        self.parallel = parallel
        self.scope = Jurisdiction(user)
        self.lookups = Lookups(self.scope)
        self.state = ImportState()
        self.writes = Writes(job_id, user.pk, timezone.now())
        # Test hook for the kill-the-worker and database-restart tests: sleep once, after this
        # many batches (for CENSUS_TEST_PAUSE_SECONDS, default 600).
        self._pause_after = int(os.environ.get("CENSUS_TEST_PAUSE_AFTER_BATCHES", "0") or 0)

    def run(self, census: CensusFile) -> ImportOutcome:
        outcome = ImportOutcome(unknown_columns=list(census.unknown_columns), file_warnings=list(census.file_warnings),
                                sheet=census.sheet_name or "")
        self.headers = {"id_header": census.column_header("id_number") or "身份证号",
                        "village_header": census.column_header("village") or "村"}
        book = RejectedBook(self.rejected_path, census.headers) if self.rejected_path else None
        details = Details(self.details_base, self.scope.by_code) if self.details_base else None
        if not self.dry_run:
            self.writes.begin()
        batches = self._classified(census.chunks(self.batch_rows))
        # Lists of the batches ready: when the writes fall behind (a big first import), the
        # batches waiting are written together, with one set of statements (Prepared.extend).
        ready = _run_ahead(batches, "census-classify") if self.parallel else _singly(batches)
        count = 0
        try:
            for group in ready:
                writing = None
                for batch, prepared in group:
                    self._count(batch, outcome, book)
                    if details is not None:
                        details.add(batch.details)
                    if prepared is not None and writing is None:
                        writing = prepared
                    elif prepared is not None:
                        writing.extend(prepared)
                if writing is not None:
                    self.writes.write(writing)
                count += len(group)
                self._after_batch(outcome, count)
        except BaseException:
            if details is not None:
                details.discard()
            raise
        finally:
            _close(ready)  # stops the threads now, not when the exception's traceback is freed
        if not self.dry_run:
            self.writes.end(analyze=outcome.new >= ANALYZE_AFTER_NEW)
        if details is not None:
            outcome.details = details.close()
        if book is not None:
            book.save()
        return outcome

    def _after_batch(self, outcome: ImportOutcome, batches: int) -> None:
        if self.progress is not None:
            self.progress(outcome.rows, outcome)
        if self._pause_after and batches >= self._pause_after:
            self._pause_after = 0  # once
            time.sleep(float(os.environ.get("CENSUS_TEST_PAUSE_SECONDS", "600")))

    def _classified(self, chunks: Iterator[list[CensusRow]]) -> Iterator[tuple]:
        """(Batch, Prepared or None) per chunk: looked up, classified, prepared."""
        def step(chunk: list[CensusRow], register: Register) -> tuple:
            batch = classify(chunk, register, self.scope, self.state, self.lookups.guardians, **self.headers)
            if self.dry_run:
                for key in batch.guardian_refs:
                    self.state.created_guardians[key] = -1  # no ids in a dry run: later rows link to it
                return batch, None
            return batch, self.writes.prepare(batch, self.state)

        try:
            if not self.parallel:
                for chunk in chunks:
                    yield step(chunk, self._lookup(chunk))
                return
            with ThreadPoolExecutor(1, thread_name_prefix="census-lookup") as lookups:
                try:
                    lookups.submit(_without_parallel_plans).result()  # its failure is the import's
                    previous = None
                    for chunk in chunks:
                        looked_up = lookups.submit(self._lookup, chunk)
                        if previous is not None:
                            yield step(previous[0], previous[1].result())
                        previous = (chunk, looked_up)
                    if previous is not None:
                        yield step(previous[0], previous[1].result())
                finally:
                    lookups.submit(connections.close_all)  # that thread's own connection
        finally:
            _close(chunks)

    def _lookup(self, rows: list[CensusRow]) -> Register:
        return self.lookups.chunk([row.values["id_number"] for row in rows if row.ok and "id_number" in row.values])

    def _count(self, batch: Batch, outcome: ImportOutcome, book: RejectedBook | None) -> None:
        outcome.rows += batch.rows
        outcome.new += batch.new
        outcome.updated += batch.updated
        outcome.unchanged += batch.unchanged
        outcome.rejected += len(batch.rejected)
        for row in batch.warned:
            outcome.warnings += len(row.warnings)
            if len(outcome.warning_rows) < self.preview_limit:
                outcome.warning_rows.append({"row": row.row_number, "issues": _issues(row.warnings)})
        for row in batch.rejected:
            if len(outcome.rejected_rows) < self.preview_limit:
                outcome.rejected_rows.append({"row": row.row_number, "issues": _issues(row.errors)})
            if book is not None:
                book.add(row)


def _without_parallel_plans() -> None:
    """For the lookup thread's own connection (session settings, nothing process-wide): the
    lookups fetch 2,000 keys by index, yet once the tables have statistics PostgreSQL gives the
    links query a parallel worker — a process started per query, on a core the import needs.
    And it prices each of those 2,000 index probes as a read from disk (random_page_cost 4), so
    after a county-size import it scans the whole of registry_elder, registry_elderguardian and
    registry_guardian instead, though the import has just written them and they are in memory:
    at 1.1 (a cached or SSD-backed database) the same queries take the indexes (a batch of the
    re-import right after a 100,000-row import: elders 23 → 9 ms, links 47 → 6 ms)."""
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")


_END = object()


def _singly(items: Iterator) -> Iterator[list]:
    """`items` one by one, each in a list of its own (as _run_ahead hands them over)."""
    try:
        for item in items:
            yield [item]
    finally:
        _close(items)


def _run_ahead(items: Iterator, name: str, depth: int = 2) -> Iterator[list]:
    """Iterate `items` in a thread of its own, up to `depth` items ahead of the caller (see the
    module doc for the contract), handing them over in order, in lists of those ready (at least
    one). An exception in the thread is raised here; when the caller stops early the thread, and
    the stages before it, stop too."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # noqa: B036 — handed to the caller, raised there
            put(error)
        finally:
            _close(items)  # the stages before this one stop too
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        item = queue.get()
        while item is not _END:
            ready = []
            while item is not _END:
                if isinstance(item, BaseException):
                    raise item
                ready.append(item)
                try:
                    item = queue.get_nowait()
                except Empty:
                    item = None
                    break
            yield ready
            if item is None:
                item = queue.get()
    finally:
        stop.set()
        thread.join()


def _close(iterator: Iterator) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()
