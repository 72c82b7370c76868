"""Command-line tools: demo data and sample codes for testers."""
from __future__ import annotations

import json

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
    found.update(_page_cases(base))
    return [(case, found[case]) for case in (*wanted, *PAGE_CASES) if case in found]


PAGE_CASES = ("forged", "copy-flagged", "unknown lot", "bad code")


def _page_cases(base: str) -> dict[str, str]:
    """The demo's possibly copied unit, a lot that does not exist under a known GTIN, and a
    GTIN with a wrong check digit."""
    from .codes.services import run_label_url
    from .resolver.demo import copied_unit

    copied = copied_unit()
    if copied is None:
        return {}
    run, index = copied
    gtin = run.batch.product.gtin
    cases = {"copy-flagged": run_label_url(run, index)}
    if gtin:
        wrong = str((int(gtin[-1]) + 1) % 10)
        cases["unknown lot"] = f"{base}/01/{gtin}/10/KHONGCO"
        cases["bad code"] = f"{base}/01/{gtin[:-1]}{wrong}"
    return cases


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
