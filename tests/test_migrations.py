"""The migrations reach the models: `upgrade` on an empty database leaves nothing to autogenerate."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from traceability.extensions import db


def _diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_on_an_empty_database_matches_the_models(app: Flask):
    # The session's database was built by `flask db upgrade` from nothing (see conftest).
    assert _diff(db.engine) == []


def test_the_migrated_schema_has_every_table_of_the_models(app: Flask):
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_constraints_follow_the_naming_convention(app: Flask):
    inspector = sa.inspect(db.engine)
    for table in db.metadata.tables:
        for fk in inspector.get_foreign_keys(table):
            if fk.get("name"):
                assert fk["name"].startswith(f"fk_{table}_"), fk
        for uq in inspector.get_unique_constraints(table):
            if uq.get("name"):
                assert uq["name"].startswith(f"uq_{table}_"), uq
