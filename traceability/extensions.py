"""Unbound Flask extensions; create_app() binds them."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from . import ratelimit_storage  # noqa: F401  (registers the sqlite:// rate-limit store)
from .openapi import Api

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _text_parser() -> None:
    """Every API argument goes through traceability.text's parser (NFC, no control
    characters); flask-smorest reads the parser from this class attribute."""
    from flask_smorest import Blueprint as ApiBlueprint

    from .text import TextParser

    ApiBlueprint.ARGUMENTS_PARSER = TextParser()


_text_parser()
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # type: ignore[no-untyped-def]
    """SQLite: enforce foreign keys, let readers run beside the writer (WAL), and wait on
    a busy lock instead of failing at once; fsync at checkpoints only (NORMAL is safe in WAL)."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


def _bound_page_numbers() -> None:
    """flask-smorest's `page` argument has no upper bound, and page × page_size beyond a
    64-bit OFFSET overflows the database driver (a 500). Cap it so it is a 422 naming `page`.
    flask-smorest builds the schema in this module-level factory and offers no hook."""
    import flask_smorest.pagination as pagination
    from marshmallow import fields, validate

    original = pagination._pagination_parameters_schema_factory

    def bounded_factory(def_page: int, def_page_size: int, def_max_page_size: int) -> type:
        class BoundedPaginationParametersSchema(original(def_page, def_page_size, def_max_page_size)):
            page = fields.Integer(load_default=def_page, validate=validate.Range(min=1, max=MAX_PAGE))

        return BoundedPaginationParametersSchema

    pagination._pagination_parameters_schema_factory = bounded_factory


MAX_PAGE = 1_000_000
_bound_page_numbers()
