"""The trace path's infrastructure, made once at start-up by init_app: its read engine and
per-thread pinned connection, the scan log, and the caches of rendered page parts."""
from __future__ import annotations

import os
import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask
from jinja2 import Environment, StrictUndefined

from ..extensions import db
from .cache import ShellCache
from .scanlog import ScanLog

EXTENSION = "trace"


class _Pinned(threading.local):
    """The trace read's connection, checked out once per thread and kept: a pool checkout
    and return on every scan cost more than the query. Dropped (and invalidated) after a
    driver error, and never carried over a fork."""
    raw: Any = None
    pid: int = 0

    def drop(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.invalidate()

    def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            raw.close()


def _read_engine(url: sa.URL) -> sa.Engine:
    """An engine of the same database whose connections are in autocommit mode from the
    start (its own small pool: switching a pooled connection's isolation level on every
    checkout costs two extra statements, and with nothing written there is nothing to
    reset on return). No pre-ping: a dropped connection fails the first query, and the
    caller reads again through a fresh one. It only reads."""
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
    if url.get_backend_name() == "postgresql":
        # The head query is prepared once per connection, and its right plan is index
        # lookups whatever the parameters and the table sizes. PostgreSQL's default
        # re-plans it for each of the first five runs and then may settle on a
        # generic plan (planning costs five times the execution: 0.35 vs 0.55 ms per
        # query in pgbench), so the generic plan is forced; and sequential scans are
        # ruled out on this connection, because a generic plan made while the scans
        # table was empty (just created, or analyzed empty) scanned the whole table on
        # every scan ever after, 1 ms more per page for each 20,000 scans logged.
        options.update(pool_size=2, max_overflow=4, connect_args={
            "options": "-c plan_cache_mode=force_generic_plan -c enable_seqscan=off"})
    return sa.create_engine(url, **options)


class TraceInfra:
    """One app's trace infrastructure. Nothing here connects or starts a thread when made:
    connections are opened on first use in each worker thread, and the scan log starts its
    writer thread with its first row, in each (forked) worker process."""

    def __init__(self, url: sa.URL, config: Any, jinja_env: Environment) -> None:
        self.url = url
        self.config = config
        self.engine = _read_engine(url)
        self.dialect = self.engine.dialect.name
        self.driver_error = self.engine.dialect.loaded_dbapi.Error
        self.pinned = _Pinned()
        self._pid = os.getpid()
        self.scan_log = ScanLog(url, config["SCAN_LOG_FLUSH_SECONDS"])
        # Page shells by version stamps, day and language (see cache.py), and the unit
        # fragments that vary only in a few values, by language and kind (see trace.py).
        self.shells = ShellCache()
        self.fragments: dict[tuple, Any] = {}
        # Unit fragments are cached as templates with markers where their values go; made
        # where an undefined name raises, so that a field a fragment gains cannot be cached
        # blank (or worse, with one page's value) and served for every other page.
        self.strict_jinja = jinja_env.overlay(undefined=StrictUndefined, cache_size=50)

    def connection(self) -> Any:
        """This thread's pinned DBAPI connection, opened on first use."""
        pinned = self.pinned
        pid = os.getpid()
        if pinned.raw is None or pinned.pid != pid:
            if pid != self._pid:  # a forked worker: the parent's pooled connections stay its own
                self.engine.dispose(close=False)
                self._pid = pid
            pinned.raw, pinned.pid = self.engine.raw_connection(), pid
        return pinned.raw

    def drop_connection(self) -> None:
        """After a driver error: this thread's connection is not trusted again."""
        self.pinned.drop()

    def close(self) -> None:
        """Close this thread's connection and the read pool, and write and stop the scan
        log (it is written at exit anyway); everything opens again on next use."""
        self.pinned.close()
        self.engine.dispose()
        self.scan_log.close()

    def reset(self) -> None:
        """close(), forget the cached page parts, and make a new scan log from the current
        SCAN_LOG_FLUSH_SECONDS (the tests change it between requests)."""
        self.close()
        self.shells.clear()
        self.fragments.clear()
        self.scan_log = ScanLog(self.url, self.config["SCAN_LOG_FLUSH_SECONDS"])


def init_app(app: Flask) -> None:
    with app.app_context():
        url = db.engine.url
    app.extensions[EXTENSION] = TraceInfra(url, app.config, app.jinja_env)


def trace_infra(app: Flask) -> TraceInfra:
    return app.extensions[EXTENSION]
