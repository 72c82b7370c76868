"""A small per-process cache of rendered trace-page shells (trace.Shell).

Entries are keyed by the version stamps of everything a shell shows (product, producer,
certificates, batch and its diary, the day, the language), read fresh from the database on
every request; a changed row changes the key, so a stale shell is never served and workers
share nothing. Only the shell is cached: serial verdicts, scan counts and the scan log are
computed per request.
"""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any

MAX_ENTRIES = 512


class ShellCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._max = max_entries
        self._lock = Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            shell = self._entries.get(key)
            if shell is not None:
                self._entries.move_to_end(key)
            return shell

    def put(self, key: str, shell: Any) -> None:
        with self._lock:
            self._entries[key] = shell
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
