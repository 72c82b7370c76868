"""Command-line tools: demo data and sample codes for testers."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask, current_app

from .extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("demo-load")
    def demo_load() -> None:
        """Load the Quảng Ngãi demo data (idempotent: loading twice changes nothing)."""
        from .demo import load_demo

        created = load_demo()
        db.session.commit()
        click.echo("demo data: " + ", ".join(f"{k} +{v}" for k, v in created.items()))
        click.echo("demo sign-ins: flask --app traceability demo-accounts")

    from .codes.cli import register_labels_cli

    register_labels_cli(app)
    from .batches.cli import register_diary_cli; register_diary_cli(app)  # noqa: E702
    from .oversight.cli import notices

    app.cli.add_command(notices)

    @app.cli.command("demo-samples")
    def demo_samples() -> None:
        """Print one JSON line per test case with the public URL of a demo label."""
        for case, url in sample_urls():
            click.echo(json.dumps({"case": case, "url": url}, ensure_ascii=False))

    _database_failures_in_one_line(app.cli)


def _database_failures_in_one_line(group: click.Group) -> None:
    """Every command of the app (its blueprints' included) ends with one line naming the
    database when that database is missing, not migrated or unreachable, not a traceback."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _database_failures_in_one_line(command)
        elif command.callback is not None and not hasattr(command.callback, "database_failures"):
            command.callback = _database_failure_as_message(command.callback)


def _database_failure_as_message(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            url = db.engine.url.render_as_string(hide_password=True)
            reason = (str(exc.orig) or type(exc.orig).__name__).strip().splitlines()[0]
            raise click.ClickException(
                f"the database {url} cannot be used ({reason}); is it reachable, and migrated"
                " (`flask --app traceability db upgrade`)?") from None

    # Groups shared by every app made in one process (the tests make many) are wrapped once.
    run.database_failures = True  # type: ignore[attr-defined]
    return run


def sample_urls() -> list[tuple[str, str]]:
    from .batches.models import Batch
    from .clock import local_today
    from .gs1 import DigitalLink, build_uri
    from .registry.models import Product
    from .registry.services import current_certificate

    base = current_app.config["PUBLIC_BASE_URL"]
    today = local_today()
    wanted = ("valid", "expiring", "expired", "revoked")
    found: dict[str, str] = {}
    products = db.session.scalars(sa.select(Product).order_by(Product.id))
    for product in products:
        cert = current_certificate(product)
        status = cert.status_on(today).value if cert else None
        if status not in wanted or status in found:
            continue
        batch = db.session.scalars(sa.select(Batch).where(Batch.product_id == product.id)
                                   .order_by(Batch.id).limit(1)).first()
        if batch is None:
            continue
        found[status] = _unit_url(batch.id) or build_uri(base, DigitalLink(gtin=product.gtin,
                                                                          lot=batch.lot))
    forged = _forged_url(found["valid"]) if "valid" in found else None
    if forged is not None:
        found["forged"] = forged
    return [(case, found[case]) for case in (*wanted, "forged") if case in found]


def _unit_url(batch_id: int) -> str | None:
    """The first unit label of the batch's first unit-level run, if it has one."""
    from .codes.models import LabelLevel, LabelRun
    from .codes.services import run_label_url

    run = db.session.scalars(sa.select(LabelRun).where(
        LabelRun.batch_id == batch_id, LabelRun.level == LabelLevel.UNIT)
        .order_by(LabelRun.id).limit(1)).first()
    return run_label_url(run, run.first_index) if run is not None else None


def _forged_url(url: str) -> str | None:
    """`url` with the last character of its serial's tag changed: a copy that must not verify."""
    head, marker, serial = url.rpartition("/21/")
    if not marker:
        return None
    return f"{head}/21/{serial[:-1]}{'B' if serial.endswith('A') else 'A'}"
