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
        found[status] = build_uri(base, DigitalLink(gtin=product.gtin, lot=batch.lot))
    return [(case, found[case]) for case in wanted if case in found]
