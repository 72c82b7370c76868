"""`flask diary verify`: check production diaries' hash chains from the command line."""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from ..extensions import db
from .models import Batch
from .services import chain_report


def register_diary_cli(app: Flask) -> None:
    diary = AppGroup("diary", help="Production diary tools.")

    @diary.command("verify")
    @click.argument("batch_id", type=int, required=False)
    @click.option("--all", "check_all", is_flag=True, help="Check every batch.")
    def verify(batch_id: int | None, check_all: bool) -> None:
        """Verify a batch's hash chain (or every batch's): OK, or the first broken link."""
        if (batch_id is None) == (not check_all):
            raise click.UsageError("Give a BATCH_ID or --all.")
        if check_all:
            ids = list(db.session.scalars(sa.select(Batch.id).order_by(Batch.id)))
        else:
            ids = [batch_id]
        broken = 0
        for bid in ids:
            batch = db.session.get(Batch, bid)
            if batch is None:
                raise click.ClickException(f"No batch {bid}.")
            report = chain_report(batch)
            if report["intact"]:
                click.echo(f"batch {bid} (lot {batch.lot}): OK, {report['events']} events")
            else:
                broken += 1
                link = report["first_broken"]
                click.echo(f"batch {bid} (lot {batch.lot}): BROKEN at seq {link['seq']} "
                           f"(event id {link['id']})")
        if broken:
            raise SystemExit(1)

    app.cli.add_command(diary)
