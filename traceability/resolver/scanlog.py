"""The scan log's write-behind buffer.

Every resolution of a label is logged, and the trace page is the hottest path of the
service: a transaction per scan would cost more than the rest of the page. Scans are
therefore appended to a per-process buffer and written every SCAN_LOG_FLUSH_SECONDS, many
rows in one statement and one transaction.

The write is made by a request, after its response has been sent (`flush_if_due` from
Response.call_on_close): a writer thread running beside the request thread made each
page wait for the GIL behind it, which on PostgreSQL halved the throughput and tripled
p99. A background thread only writes what no request has written one interval late (an
idle worker), and at shutdown.

What this trades, on purpose:
- A crashed worker (SIGKILL, power loss) loses at most the last flush interval of scans;
  a normal shutdown flushes (atexit). A failed write keeps its rows and retries with
  backoff; past MAX_PENDING rows the oldest are dropped and logged.
- Another worker's scans show in counts after at most one interval. This process's own
  unwritten scans are counted at once (see pending_for), so a reader who scans twice in a
  row sees the count go up.

SCAN_LOG_FLUSH_SECONDS = 0 writes each scan before the request returns (development and
the tests, where a scan must be in the table as soon as the page is served).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa


log = logging.getLogger(__name__)

APPLICATION_NAME = "ocop-trace scan log"   # how its connections show in pg_stat_activity
MAX_PENDING = 50_000          # rows kept while the database is unreachable
COLUMNS = ("at", "code", "product_id", "batch_id", "serial_index", "verdict", "network_hash",
           "language", "device")
# PostgreSQL: the whole batch as one JSON parameter of one statement, on an autocommit
# connection: a single round trip (COPY took four with its transaction, and the worker
# waits for each of them on a busy machine), and json.dumps is the cheapest encoder.
_PG_INSERT_SQL = (f"INSERT INTO scans ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} "
                  "FROM json_populate_recordset(NULL::scans, %s::json)")
_INSERT_SQL = f"INSERT INTO scans ({', '.join(COLUMNS)}) VALUES "
_ROW_PLACEHOLDERS = f"({', '.join('?' * len(COLUMNS))})"
SQLITE_ROWS_PER_INSERT = 500


def _iso(value: datetime) -> str:
    return value.isoformat()


def _sqlite_time(value: datetime) -> str:
    """An aware datetime as models_base.TZDateTime stores it on SQLite: naive UTC text."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")

MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Pending:
    """This process's unwritten scans of one unit."""
    count: int
    networks: frozenset[str]
    first_at: datetime | None


NO_PENDING = Pending(0, frozenset(), None)


class ScanLog:
    def __init__(self, database_url: str | sa.URL, flush_seconds: float) -> None:
        self._url = database_url
        self.flush_seconds = flush_seconds
        self._rows: list[dict[str, Any]] = []
        # Unwritten genuine scans by unit, so that counting them costs a lookup, not a scan.
        self._units: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._engine: sa.Engine | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._failures = 0
        self._due_at: float | None = None  # time.monotonic() of the next write
        atexit.register(self.close)

    # -- the request side -------------------------------------------------------------

    def add(self, row: dict[str, Any]) -> None:
        """Queue one scan row (the columns of the scans table, `at` an aware datetime)."""
        self._after_fork()
        if self.flush_seconds <= 0:
            self._write([row])
            return
        with self._lock:
            self._rows.append(row)
            if self._due_at is None:
                self._due_at = time.monotonic() + self.flush_seconds
            if row["verdict"] == "genuine":
                self._units.setdefault((row["batch_id"], row["serial_index"]), []).append(row)
            if len(self._rows) > MAX_PENDING:
                dropped = len(self._rows) - MAX_PENDING
                del self._rows[:dropped]
                self._reindex()
                log.error("scan log: database unreachable, dropped the %d oldest scans", dropped)
        if self._thread is None or not self._thread.is_alive():
            self._start()

    def pending_for(self, batch_id: int, serial_index: int) -> Pending:
        """This process's unwritten scans of a unit, for counts that include them."""
        self._after_fork()
        with self._lock:
            mine = self._units.get((batch_id, serial_index))
            if not mine:
                return NO_PENDING
            mine = list(mine)
        return Pending(len(mine), frozenset(r["network_hash"] for r in mine if r["network_hash"]),
                       min(r["at"] for r in mine))

    def due(self) -> bool:
        due_at = self._due_at
        return due_at is not None and time.monotonic() >= due_at

    def flush_if_due(self) -> None:
        """Write the buffer if its interval has passed; never raises (it runs after the
        response, where an error has nobody to go to but the log)."""
        if self.due():
            self._attempt()

    # -- the writer side --------------------------------------------------------------

    def _attempt(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: BLE001  (a database outage must not fail requests)
            self._failures += 1
            backoff = min(MAX_BACKOFF_SECONDS, self.flush_seconds * 2 ** self._failures)
            self._due_at = time.monotonic() + backoff
            log.exception("scan log: write failed (%d in a row); retrying in %.1f s",
                          self._failures, backoff)
        else:
            self._failures = 0

    def flush(self) -> int:
        """Write every queued row now; the number written. Rows stay queued on failure."""
        self._after_fork()
        with self._lock:
            rows = self._rows
        if not rows:
            return 0
        # The rows stay queued (and counted) while they are written: a page served
        # meanwhile counts them once, from the buffer; they leave it once committed.
        with self._write_lock:
            with self._lock:
                rows = list(self._rows)
            self._write(rows)
            written = {id(row) for row in rows}
            with self._lock:
                self._rows = [row for row in self._rows if id(row) not in written]
                self._reindex()
                self._due_at = time.monotonic() + self.flush_seconds if self._rows else None
        return len(rows)

    def _reindex(self) -> None:
        self._units = {}
        for row in self._rows:
            if row["verdict"] == "genuine":
                self._units.setdefault((row["batch_id"], row["serial_index"]), []).append(row)

    def close(self) -> None:
        """Stop the thread and write what is left (atexit, and the tests)."""
        thread, self._thread = self._thread, None
        if thread is not None and os.getpid() == self._pid:
            self._wake.set()
            thread.join(timeout=10)
        try:
            self.flush()
        except Exception:  # noqa: BLE001  (exit must not fail; the loss is logged)
            log.exception("scan log: %d scans could not be written at exit", len(self._rows))
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """All rows in one statement on PostgreSQL, one transaction on SQLite, through
        the driver (no per-row SQLAlchemy processing: this runs while requests wait for the
        GIL). A row the database refuses (its product or batch deleted meanwhile) must not
        hold back the others forever: the batch is then retried row by row, and refused
        rows are dropped and logged."""
        engine = self._get_engine()
        integrity_error = engine.dialect.loaded_dbapi.IntegrityError
        try:
            self._insert(engine, rows)
        except integrity_error:
            if len(rows) == 1:
                log.error("scan log: dropped a scan the database refuses: %r", rows[0])
                return
            for row in rows:
                self._write([row])

    @staticmethod
    def _insert(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if engine.dialect.name == "postgresql":
                cursor.execute(_PG_INSERT_SQL, (json.dumps(rows, default=_iso),))
            else:
                # Multi-row VALUES, a chunk at a time (SQLite caps bound variables).
                for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
                    chunk = rows[start:start + SQLITE_ROWS_PER_INSERT]
                    values: list[Any] = []
                    for row in chunk:
                        values.append(_sqlite_time(row["at"]))
                        values.extend(row[column] for column in COLUMNS[1:])
                    cursor.execute(_INSERT_SQL + ", ".join([_ROW_PLACEHOLDERS] * len(chunk)), values)
            cursor.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def _get_engine(self) -> sa.Engine:
        if self._engine is None:
            url = sa.make_url(self._url)
            options: dict[str, Any] = {"pool_size": 1}
            if url.get_backend_name() == "postgresql":
                # The scan log only: losing the last fraction of a second of scans in a
                # server crash is acceptable, waiting for the WAL flush on each write is not.
                # A write runs after a response, on the request's thread: an unreachable
                # server must not hold the worker for the system's TCP timeout. No pre-ping
                # (a round trip per write): a dropped connection fails one write, which keeps
                # its rows, and the pool replaces the connection for the next.
                options["isolation_level"] = "AUTOCOMMIT"
                options["connect_args"] = {"options": "-c synchronous_commit=off",
                                           "connect_timeout": 5,
                                           "application_name": APPLICATION_NAME}
            elif url.get_backend_name() == "sqlite":
                options = {"connect_args": {"check_same_thread": False}}
            self._engine = sa.create_engine(url, **options)
        return self._engine

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._wake.clear()
            self._thread = threading.Thread(target=self._run, name="scan-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        me = threading.current_thread()
        while self._thread is me:
            self._wake.wait(self.flush_seconds)
            due_at = self._due_at
            # Only what is a whole interval overdue: a busy worker's requests write the rest.
            if due_at is not None and time.monotonic() >= due_at + self.flush_seconds:
                self._attempt()

    def _after_fork(self) -> None:
        """A forked worker starts with an empty buffer, no thread and no connections (the
        log is made at start-up, and `gunicorn --preload` forks the workers after that)."""
        pid = os.getpid()
        if pid != self._pid:
            self._pid = pid
            self._rows = []
            self._units = {}
            self._lock = threading.Lock()
            self._write_lock = threading.Lock()
            self._thread = None
            self._due_at = None
            if self._engine is not None:
                self._engine.dispose(close=False)  # the parent's connections stay the parent's
                self._engine = None
            self._failures = 0
