"""`flask notices ...`: the daily cron job that sends expiry notices exactly once."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

notices = AppGroup("notices", help="Expiry notices to producers (the outbox).")


@notices.command("send-due")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD); for catching up after downtime.")
def send_due_command(today: object) -> None:
    """Create the notices due today and send each pending one exactly once (safe to run twice)."""
    from .mail import send_due

    day: date | None = today.date() if today is not None else None  # type: ignore[attr-defined]
    result = send_due(day)
    click.echo(" ".join(f"{k}={v}" for k, v in result.as_dict().items()))
