"""A rate-limit store in a small SQLite file, so that limits hold across the workers of one
host without a Redis server (the embedded default of `make run`).

`limits` keeps counters in process memory by default: with two gunicorn workers each worker
counted on its own, and a client got twice the allowed requests. Registered under the
`sqlite://` scheme (`RATELIMIT_STORAGE_URI=sqlite:////path/to/ratelimits.sqlite3`); it
supports the fixed-window strategy that Flask-Limiter uses by default. Several hosts need a
shared store: Redis (`redis://…`), as the README says.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.parse import urlparse

from limits.storage import Storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""
# One statement per hit, atomic under SQLite's write lock: a counter whose window ended
# starts again at `amount`, otherwise it grows.
_INCR = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires_at <= :now THEN :amount ELSE counters.count + :amount END,
    expires_at = CASE WHEN counters.expires_at <= :now THEN :expires_at ELSE counters.expires_at END
RETURNING count
"""


PURGE_EVERY = 1000


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: object) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        # As SQLAlchemy spells it: sqlite:////abs/path is absolute, sqlite:///rel/path relative.
        self.path = urlparse(uri or "").path[1:]
        if not self.path:
            raise ValueError("a sqlite:// rate-limit store needs a file path")
        self._local = threading.local()
        self._hits = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread and process (never carried over a fork)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        conn = self._connection()
        row = conn.execute(
            _INCR, {"key": key, "amount": amount, "now": now, "expires_at": now + expiry}).fetchone()
        self._hits += 1
        if self._hits % PURGE_EVERY == 0:  # ended windows would otherwise pile up
            conn.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return int(row[0])

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
            (key, time.time())).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        conn = self._connection()
        count = conn.execute("SELECT count(*) FROM counters").fetchone()[0]
        conn.execute("DELETE FROM counters")
        return int(count)

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
