"""How many images this host decodes at once, across all its worker processes and threads.

Decoding is the memory-hungry part of an upload (see batches/media.py for what one decode
may cost). Each slot is a lock file in the instance folder held with flock(2): the kernel
counts holders across processes and threads alike and frees a slot when its holder dies, so
the bound holds whatever the number of gunicorn workers or threads, without a server. The
memory budget of image work on a host is IMAGE_DECODE_SLOTS × the largest single decode.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

# How long a request waits for a free slot before it is told to try again. A decode takes
# well under a second once bounded, so a wait this long means the host is overloaded.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05


class NoFreeSlot(Exception):
    """Every slot stayed taken for the whole wait."""


class HostSlots:
    """At most `count` holders at once on this host."""

    def __init__(self, folder: str, count: int, wait_seconds: float = WAIT_SECONDS) -> None:
        if count < 1:
            raise ValueError("at least one slot is needed")
        self.folder = folder
        self.count = count
        self.wait_seconds = wait_seconds

    def __repr__(self) -> str:
        return f"HostSlots({self.folder!r}, {self.count})"

    def _try_each(self) -> int | None:
        """A held slot's open file descriptor, or None when all are taken."""
        for index in range(self.count):
            fd = os.open(os.path.join(self.folder, f"slot-{index}"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd
        return None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Run the block in a slot; NoFreeSlot when none frees up within the wait."""
        os.makedirs(self.folder, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        fd = self._try_each()
        while fd is None:
            if time.monotonic() >= deadline:
                raise NoFreeSlot()
            time.sleep(POLL_SECONDS)
            fd = self._try_each()
        try:
            yield
        finally:
            os.close(fd)  # closing the only descriptor releases the lock


def init_app(app: Flask) -> None:
    app.extensions["image_slots"] = HostSlots(os.path.join(app.instance_path, "image-slots"),
                                              int(app.config["IMAGE_DECODE_SLOTS"]))


def image_slots() -> HostSlots:
    return current_app.extensions["image_slots"]  # type: ignore[no-any-return]
