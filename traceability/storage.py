"""Where uploaded files live: one small interface, built at start-up, and a local folder behind it.

Four stores. `media` (UPLOAD_FOLDER) holds the producers' photos and documents and is public:
/media/… serves anything in it. Two live in PRIVATE_FOLDER, which nothing serves as it is:
`private` (inspection photos, shown only through a permission-checked page) and `staging`
(import files kept between the dry run and the import, found by their token from any worker;
PRIVATE_FOLDER/imports). `generated` (GENERATED_FOLDER) holds the files the service makes,
such as print-job label files, read only by their permission-checked endpoints. Several hosts
need folders they all mount, or another implementation of `FileStorage`; nothing keeps a file
in a process's memory or in a per-process temporary path.
"""
from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO, Protocol

from flask import Flask, current_app

from .config import ConfigError


class FileStorage(Protocol):
    """Files by name: relative, "/"-separated, no part empty or starting with "."."""

    def put(self, name: str, data: bytes) -> None:
        """Store `data` under `name` in one step: a reader sees the whole file or none."""

    def writer(self, name: str) -> AbstractContextManager[BinaryIO]:
        """A file to write `name` in pieces; it appears, whole, only when the block ends
        without an error (an error leaves nothing behind)."""

    def open(self, name: str) -> BinaryIO:
        """The file for reading; FileNotFoundError when there is none (or the name is invalid)."""

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove the file; a missing file is not an error."""

    def delete_unfinished(self, name: str) -> None:
        """Remove what a writer of `name` left when its process died before finishing; call it
        only when no live writer of that name can exist."""

    def local_path(self, name: str) -> str | None:
        """The file's path on this host, for the web server to send, or None when absent."""


class LocalFolderStorage:
    """Files under one folder of the local file system (shared between the workers of a host,
    and between hosts when the folder is a shared mount). The folder is made on first write."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def __repr__(self) -> str:
        return f"LocalFolderStorage({self.root!r})"

    def _path(self, name: str) -> str | None:
        parts = name.split("/")
        # No way out of the folder, and no way to the hidden files of a write in progress.
        if "\\" in name or "\x00" in name or any(not p or p.startswith(".") for p in parts):
            return None
        return os.path.join(self.root, *parts)

    def put(self, name: str, data: bytes) -> None:
        with self.writer(name) as handle:
            handle.write(data)

    @contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        path = self._path(name)
        if path is None:
            raise ValueError(f"not a storage name: {name!r}")
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        # Written beside its final place, then renamed: atomic on one file system.
        fd, partial = tempfile.mkstemp(dir=folder, prefix=self._partial_prefix(path))
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
            os.replace(partial, path)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise

    def open(self, name: str) -> BinaryIO:
        path = self._path(name)
        if path is None or not os.path.isfile(path):
            raise FileNotFoundError(name)
        return open(path, "rb")

    def exists(self, name: str) -> bool:
        path = self._path(name)
        return path is not None and os.path.isfile(path)

    def delete(self, name: str) -> None:
        path = self._path(name)
        if path is not None and os.path.isfile(path):
            os.remove(path)

    def delete_unfinished(self, name: str) -> None:
        path = self._path(name)
        if path is None:
            return
        folder, prefix = os.path.dirname(path), self._partial_prefix(path)
        for found in glob.glob(glob.escape(os.path.join(folder, prefix)) + "*"):
            os.remove(found)

    @staticmethod
    def _partial_prefix(path: str) -> str:
        return f".partial-{os.path.basename(path)}-"

    def local_path(self, name: str) -> str | None:
        path = self._path(name)
        return path if path is not None and os.path.isfile(path) else None


def local_stores(public_folder: str, private_folder: str) -> dict[str, FileStorage]:
    """The public store in one local folder; the private one and the staged imports (in its
    `imports` subfolder) in another, which must not be inside the first."""
    public, private = os.path.abspath(public_folder), os.path.abspath(private_folder)
    if os.path.commonpath([public, private]) in (public, private):
        raise ConfigError(f"PRIVATE_FOLDER ({private}) and UPLOAD_FOLDER ({public}) must not "
                          "contain one another: everything in UPLOAD_FOLDER is public")
    return {"media": LocalFolderStorage(public), "private": LocalFolderStorage(private),
            "staging": LocalFolderStorage(os.path.join(private, "imports"))}


def init_app(app: Flask) -> None:
    stores = local_stores(app.config["UPLOAD_FOLDER"], app.config["PRIVATE_FOLDER"])
    stores["generated"] = LocalFolderStorage(app.config["GENERATED_FOLDER"])
    app.extensions["storage"] = stores


def media() -> FileStorage:
    """The producers' photos and documents: public, served at /media/…."""
    return current_app.extensions["storage"]["media"]  # type: ignore[no-any-return]


def private() -> FileStorage:
    """Files that only some signed-in users may see (inspection photos)."""
    return current_app.extensions["storage"]["private"]  # type: ignore[no-any-return]


def staging() -> FileStorage:
    """Import files between their dry run and their import."""
    return current_app.extensions["storage"]["staging"]  # type: ignore[no-any-return]


def generated() -> FileStorage:
    """Files the service makes for later download (print jobs); never served as they are."""
    return current_app.extensions["storage"]["generated"]  # type: ignore[no-any-return]
