"""`flask labels ...`: issue label runs and print large runs from the command line;
`flask print-jobs run`: run the print jobs queued through the API and the web UI."""
from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..batches.models import Batch
from ..errors import DomainError
from ..extensions import db
from ..render import PRESETS, Label
from .models import LabelLevel, LabelRun, PrintFormat
from .print_jobs import runner
from .services import (
    DEFAULT_PRESET,
    MAX_RUN_COUNT,
    _,
    issue_label_run,
    iter_run_labels,
    run_label_url,
    write_labels,
)

labels_cli = AppGroup("labels", help="Label runs: issue them and print them to files.")
print_jobs_cli = AppGroup("print-jobs", help="Print jobs: large label files made in the background.")

FORMATS = tuple(fmt.value for fmt in PrintFormat)
_PROGRESS_STEP = 250


def register_labels_cli(app: Flask) -> None:
    app.cli.add_command(labels_cli)
    app.cli.add_command(print_jobs_cli)


def _counted(labels: Iterable[Label], bar: Any) -> Iterator[Label]:
    pending = 0
    for label in labels:
        yield label
        pending += 1
        if pending == _PROGRESS_STEP:
            bar.update(pending)
            pending = 0
    bar.update(pending)


@labels_cli.command("issue")
@click.argument("batch_id", type=int)
@click.option("--level", type=click.Choice([level.value for level in LabelLevel]),
              default=LabelLevel.UNIT.value, show_default=True)
@click.option("--count", type=click.IntRange(1, MAX_RUN_COUNT), default=1, show_default=True,
              help="Number of unit labels (a lot run has exactly one).")
def issue(batch_id: int, level: str, count: int) -> None:
    """Issue a label run for BATCH_ID as the server's operator (audited without a user)."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise click.ClickException(_("Không tìm thấy lô hàng #%(id)s.", id=batch_id))
    try:
        run = issue_label_run(batch, level=LabelLevel(level), count=count, actor=None)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"label run {run.id}: batch {batch.id} lot {batch.lot}, {run.level.value}, "
               f"indexes {run.first_index}–{run.last_index}, valid until {run.guaranteed_until}")
    click.echo(f"first label: {run_label_url(run, run.first_index)}")


@labels_cli.command("print")
@click.argument("run_id", type=int)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write (written whole, or not at all).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="pdf, csv or zip of SVGs; by default taken from the output's extension.")
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default=DEFAULT_PRESET,
              show_default=True)
@click.option("--ec", type=click.Choice(["M", "Q"], case_sensitive=False), default="M",
              show_default=True, help="QR error correction level.")
@click.option("--workers", type=click.IntRange(0, 64), default=None,
              help="PDF worker processes (default: one per CPU for large runs).")
def print_run(run_id: int, output: str, fmt: str | None, preset: str, ec: str,
              workers: int | None) -> None:
    """Write label run RUN_ID to a PDF, CSV or ZIP file, with a progress bar."""
    run = db.session.get(LabelRun, run_id)
    if run is None:
        raise click.ClickException(_("Không tìm thấy đợt tem #%(id)s.", id=run_id))
    if fmt is None:
        extension = os.path.splitext(output)[1].lower().lstrip(".")
        fmt = extension if extension in FORMATS else "pdf"
    labels = iter_run_labels(run)
    total = run.count
    directory = os.path.dirname(os.path.abspath(output))
    # Write beside the target and rename at the end: a failed run leaves no half file.
    handle, partial = tempfile.mkstemp(prefix=".labels-", suffix=f".{fmt}", dir=directory)
    try:
        with click.progressbar(length=total, label=f"run {run.id} → {fmt}",
                               show_pos=True) as bar:
            with open(handle, "wb") as binary:
                written = write_labels(PrintFormat(fmt), _counted(labels, bar), binary,
                                       preset=preset, ec=ec, workers=workers)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private; a print file is not
        os.replace(partial, output)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    click.echo(f"{written} labels written to {output}")


@print_jobs_cli.command("run")
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then exit.")
def run_print_jobs(once: bool) -> None:
    """Claim and run print jobs until stopped (Ctrl-C or SIGTERM put a job in progress back
    in the queue). `make run` and the image need no such process: each gunicorn worker runs
    jobs in a thread; run this on a host of its own with PRINT_JOBS_IN_WEB_WORKERS=0."""
    jobs = runner()
    if once:
        count = 0
        while jobs.run_once():
            count += 1
        click.echo(f"{count} print job(s) run")
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: jobs.stopping.set())
    click.echo(f"running print jobs (every {current_app.config['PRINT_JOB_POLL_SECONDS']} s)")
    jobs.run_forever()
