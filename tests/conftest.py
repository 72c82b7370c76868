"""Fixtures: one app and one migrated database per test process, emptied after every test.

TEST_DATABASE_URL picks the server: unset means a SQLite file; a PostgreSQL URL means a
fresh database is created on that server for this process (and dropped at the end), so
parallel workers and concurrent runs never share state.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from traceability import create_app
from traceability.config import normalize_database_url
from traceability.extensions import db as _db
from traceability.resolver.infra import trace_infra

SERIAL_KEYS = "1:dGVzdC1zZXJpYWwta2V5LW9uZS0xMjM0NTY3OA==,2:dGVzdC1zZXJpYWwta2V5LXR3by0xMjM0NTY3ODk="


def _server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalize_database_url(url) if url else None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = _server_url()
    if server is None or server.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        return
    name = f"ocop_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class FreshRequestClient(FlaskClient):
    """A test client whose requests start without the per-request caches that Flask-Babel
    (locale) and Flask-Login (user) keep on `g`: the tests' app context is shared with the
    requests, so without this one request's language or identity would leak into the next."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from flask import g

        if g:
            for name in ("_flask_babel", "_login_user"):
                g.pop(name, None)
        return super().open(*args, **kwargs)


def make_test_app(database_url: str, **overrides) -> Flask:
    """An app on `database_url`; an override set to None leaves that setting to its default.
    The file stores are in this process's temporary folder, never the project's instance
    folder (loading the demo stores photos and lab reports); `upload_folder` gives a test
    fresh ones."""
    files = _files_folder()
    config = {
        "UPLOAD_FOLDER": os.path.join(files, "uploads"),
        "PRIVATE_FOLDER": os.path.join(files, "private"),
        "GENERATED_FOLDER": os.path.join(files, "generated"),
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "SERIAL_KEYS": SERIAL_KEYS,
        "SERIAL_KEY_VERSION": 2,
        "PUBLIC_BASE_URL": "https://trace.example.vn",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Each scan written before the response returns; tests/resolver/test_scan_log.py
        # covers the batched writer.
        "SCAN_LOG_FLUSH_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app({key: value for key, value in config.items() if value is not None})
    app.test_client_class = FreshRequestClient
    _APPS.append(app)
    return app


_APPS: list[Flask] = []
_FILES: list[str] = []


def _files_folder() -> str:
    if not _FILES:
        _FILES.append(tempfile.mkdtemp(prefix="ocop-test-files-"))
    return _FILES[0]


@pytest.fixture(scope="session", autouse=True)
def _dispose_app_engines() -> Iterator[None]:
    yield
    for app in _APPS:
        trace_infra(app).close()  # the trace path's read engine and scan log have their own pools
    for folder in _FILES:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    application = make_test_app(database_url)
    with application.app_context():
        upgrade(revision="heads")
    yield application
    with application.app_context():
        _db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        _db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture(autouse=True)
def db(app: Flask) -> Iterator:
    """A clean database for every test, inside an app context."""
    with app.app_context():
        yield _db
        _db.session.rollback()
        _empty_all_tables()
        trace_infra(app).reset()  # cached page parts, connections and the scan log
        _db.session.remove()
    from traceability.extensions import limiter

    limiter.reset()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def upload_folder(app: Flask, tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app's file stores in temporary folders for one test: the public one (returned) and
    the private one (inspection photos, staged imports) beside it, in `private`."""
    from traceability import storage

    folder, private = str(tmp_path / "uploads"), str(tmp_path / "private")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", folder)
    monkeypatch.setitem(app.config, "PRIVATE_FOLDER", private)
    monkeypatch.setitem(app.extensions, "storage", storage.local_stores(folder, private))
    return folder
