"""Print jobs: label runs too large to stream, written to a file in the background, with
progress while they run, a download when done, and the file deleted after PRINT_JOB_KEEP_DAYS.

Who runs them: a PrintJobRunner, built for every app at start-up and started in a thread of
each gunicorn worker after the fork (gunicorn.conf.py), or in the foreground by
`flask print-jobs run`. Nothing is shared between processes but the database and the
`generated` file store, so any number of workers and hosts may run them.

Exactly once: a runner claims a job with one conditional UPDATE (queued → running, or a
running job whose heartbeat is older than PRINT_JOB_STALE_SECONDS → running again) that stores
a fresh claim token, and commits it before rendering. Every later write — progress with the
heartbeat, done, failed — is conditional on that token, so a runner that lost its claim (it
stalled and another re-claimed the job) changes nothing and throws its file away. A job whose
runner was killed is re-claimed when its heartbeat goes stale, MAX_ATTEMPTS times in all; then
it is marked failed, since it is likely what kills the runner.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from .. import storage
from ..accounts.models import User
from ..accounts.permissions import Action, require
from ..batches.models import Batch
from ..errors import Conflict, DomainError, Gone, InvalidState
from ..extensions import db
from ..formats import current_locale, number
from ..models_base import utcnow
from ..registry.models import Product
from ..render import Label
from ..services_common import get_or_404
from .models import LabelRun, PrintFormat, PrintJob, PrintJobState
from .services import iter_run_labels, write_labels

MAX_ATTEMPTS = 3
# Jobs a producer may have waiting or running at once: each one keeps a worker busy.
MAX_ACTIVE_PER_PRODUCER = 5
# The runner looks at the clock (stop requested? progress due?) every this many labels:
# one A4 sheet of the default preset.
_CHECK_EVERY = 24
# Expired files are looked for at most this often, per runner.
_SWEEP_SECONDS = 600.0

ACTIVE_STATES = (PrintJobState.QUEUED, PrintJobState.RUNNING)
STATE_LABELS = {
    PrintJobState.QUEUED: _l("Đang chờ"),
    PrintJobState.RUNNING: _l("Đang tạo"),
    PrintJobState.DONE: _l("Đã xong"),
    PrintJobState.FAILED: _l("Không tạo được"),
    PrintJobState.EXPIRED: _l("Đã xoá"),
}


def N_(message: str) -> str:  # noqa: N802  (the gettext convention for "mark, do not translate")
    """Mark a reason for extraction; it is stored in Vietnamese and translated when shown."""
    return message


ABANDONED_ERROR = N_("Tiến trình tạo tệp đã dừng giữa chừng nhiều lần; hãy tạo lại tệp in "
                     "hoặc dùng lệnh `flask labels print`.")


class PrintJobRequired(DomainError):
    """A label download too large to stream within a request: make a print job instead."""

    status = 409
    code = "print_job_required"


class _LostClaim(Exception):
    """Another runner holds the job now; this one stops and changes nothing."""


class _StopRequested(Exception):
    """The runner is stopping (worker shutdown): the job goes back to the queue."""


# --- the download limit ------------------------------------------------------------------


def download_limit() -> int:
    return int(current_app.config["LABEL_DOWNLOAD_MAX_LABELS"])


def needs_print_job(run: LabelRun) -> bool:
    return run.count > download_limit()


def check_downloadable(run: LabelRun) -> None:
    """Refuse to stream a run above the download limit: it would outlast the worker timeout
    and reach the client cut off, with a 200."""
    if needs_print_job(run):
        message = _("Đợt tem có %(count)s tem, nhiều hơn %(limit)s tem tải trực tiếp được. Hãy "
                    "tạo tệp in (POST /api/v1/label-runs/%(id)s/print-jobs) rồi tải tệp khi xong.",
                    count=number(run.count, current_locale()),
                    limit=number(download_limit(), current_locale()),
                    id=run.id)
        raise PrintJobRequired(message, {"count": [message]})


# --- creating and reading jobs -----------------------------------------------------------


def create_print_job(user: User, run: LabelRun, *, fmt: PrintFormat, preset: str | None,
                     ec: str | None) -> PrintJob:
    """Queue a print job for `run`, or return the same job already queued, running or done
    (a second click must not render a million labels twice)."""
    require(user, Action.VIEW, run.batch.product.producer)
    fmt = PrintFormat(fmt)
    preset = preset if fmt is PrintFormat.PDF else None
    ec = (ec or "M").upper() if fmt is not PrintFormat.CSV else None
    same = db.session.scalar(
        sa.select(PrintJob).where(
            PrintJob.label_run_id == run.id, PrintJob.format == fmt, PrintJob.preset == preset,
            PrintJob.ec == ec, PrintJob.state.in_((*ACTIVE_STATES, PrintJobState.DONE)))
        .order_by(PrintJob.id.desc()).limit(1))
    if same is not None:
        return same
    active = db.session.scalar(
        sa.select(sa.func.count(PrintJob.id))
        .join(LabelRun, PrintJob.label_run_id == LabelRun.id)
        .join(Batch, LabelRun.batch_id == Batch.id)
        .join(Product, Batch.product_id == Product.id)
        .where(Product.producer_id == run.batch.product.producer_id,
               PrintJob.state.in_(ACTIVE_STATES)))
    if active >= MAX_ACTIVE_PER_PRODUCER:
        raise Conflict(_("Đã có %(count)s tệp in đang chờ hoặc đang tạo cho chủ thể này. Hãy đợi "
                         "một tệp xong rồi tạo tiếp.", count=active))
    job = PrintJob(label_run=run, format=fmt, preset=preset, ec=ec, total=run.count,
                   created_by_id=user.id, state=PrintJobState.QUEUED, done=0, attempts=0)
    db.session.add(job)
    db.session.flush()
    return job


def viewable_print_job(user: User, job_id: int) -> PrintJob:
    """A print job whose run `user` may see, or NotFound / Forbidden."""
    job: PrintJob = get_or_404(PrintJob, job_id, _("tệp in"))
    require(user, Action.VIEW, job.label_run.batch.product.producer)
    return job


def jobs_of_runs(run_ids: list[int], per_run: int = 5) -> dict[int, list[PrintJob]]:
    """The latest print jobs of each run, newest first (for the labels page)."""
    found: dict[int, list[PrintJob]] = {}
    if not run_ids:
        return found
    for job in db.session.scalars(sa.select(PrintJob).where(PrintJob.label_run_id.in_(run_ids))
                                  .order_by(PrintJob.id.desc())):
        jobs = found.setdefault(job.label_run_id, [])
        if len(jobs) < per_run:
            jobs.append(job)
    return found


def finished_file(job: PrintJob) -> str:
    """The stored name of a finished job's file; InvalidState while it runs, Gone after."""
    if job.state is PrintJobState.EXPIRED:
        raise Gone(_("Tệp in đã bị xoá sau %(days)s ngày. Hãy tạo lại.",
                     days=current_app.config["PRINT_JOB_KEEP_DAYS"]))
    if job.state is not PrintJobState.DONE or job.file_name is None:
        raise InvalidState(_("Tệp in chưa tạo xong (%(state)s).",
                             state=STATE_LABELS[job.state]))
    return job.file_name


def error_text(job: PrintJob) -> str | None:
    """Why a job failed, in the reader's language (a renderer's own message stays as it is)."""
    return _(job.error) if job.error else None


# --- claiming ----------------------------------------------------------------------------


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=float(current_app.config["PRINT_JOB_STALE_SECONDS"]))


def _waiting(now: datetime) -> sa.ColumnElement[bool]:
    """Queued, or running under a runner whose heartbeat stopped (killed with its worker)."""
    return sa.or_(PrintJob.state == PrintJobState.QUEUED,
                  sa.and_(PrintJob.state == PrintJobState.RUNNING,
                          PrintJob.heartbeat_at < _stale_before(now)))


def claim_next(now: datetime | None = None) -> tuple[int, str] | None:
    """Take the oldest waiting job for this runner: (job id, claim token), or None when there
    is none; a job abandoned MAX_ATTEMPTS times is marked failed on the way. Commits.
    Polling costs one SELECT: nothing is written unless a job is waiting."""
    now = now or utcnow()
    candidates = db.session.execute(
        sa.select(PrintJob.id, PrintJob.attempts, PrintJob.claim_token, PrintJob.format)
        .where(_waiting(now)).order_by(PrintJob.id).limit(10)).all()
    for job_id, attempts, dead_token, fmt in candidates:
        # Conditional on the claim read above: of several runners, one wins each row.
        still_waiting = sa.and_(PrintJob.id == job_id, _waiting(now),
                                PrintJob.claim_token.is_(None) if dead_token is None
                                else PrintJob.claim_token == dead_token)
        if attempts >= MAX_ATTEMPTS:
            result = db.session.execute(
                sa.update(PrintJob).where(still_waiting)
                .values(state=PrintJobState.FAILED, error=ABANDONED_ERROR, finished_at=now,
                        claim_token=None)
                .execution_options(synchronize_session=False))
            token = None
        else:
            token = uuid.uuid4().hex
            result = db.session.execute(
                sa.update(PrintJob).where(still_waiting)
                .values(state=PrintJobState.RUNNING, claim_token=token,
                        attempts=PrintJob.attempts + 1, started_at=now, heartbeat_at=now,
                        done=0, error=None)
                .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            db.session.rollback()  # another runner was quicker
            continue
        db.session.commit()
        if dead_token is not None:
            # The dead runner's file, finished or not: the job never pointed at it. A runner
            # that was only paused, not dead, finds it gone and its claim taken, and changes
            # nothing.
            dead_file = _file_name(job_id, dead_token, fmt)
            storage.generated().delete(dead_file)
            storage.generated().delete_unfinished(dead_file)
        if token is not None:
            return job_id, token
    db.session.rollback()
    return None


def _file_name(job_id: int, token: str, fmt: PrintFormat) -> str:
    """Where an attempt writes its file: its own name, so a late runner clobbers nothing."""
    return f"{job_id}/{token}.{fmt.value}"


def _update_claimed(job_id: int, token: str, **values: Any) -> bool:
    """Write `values` if this runner still holds the job; commits. False when it does not."""
    result = db.session.execute(
        sa.update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.claim_token == token,
               PrintJob.state == PrintJobState.RUNNING)
        .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def write_progress(job_id: int, token: str, done: int) -> bool:
    return _update_claimed(job_id, token, done=done, heartbeat_at=utcnow())


class _Progress:
    """Counts the labels as the renderer takes them; writes progress and the heartbeat at
    most every PRINT_JOB_PROGRESS_SECONDS, and stops the render when asked to."""

    def __init__(self, job_id: int, token: str, stop: threading.Event | None) -> None:
        self.job_id, self.token, self.stop = job_id, token, stop
        self.interval = float(current_app.config["PRINT_JOB_PROGRESS_SECONDS"])
        self.last = time.monotonic()

    def counted(self, labels: Iterable[Label]) -> Iterator[Label]:
        done = 0
        for label in labels:
            yield label
            done += 1
            if done % _CHECK_EVERY == 0:
                self._checkpoint(done)

    def _checkpoint(self, done: int) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _StopRequested()
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        try:
            still_ours = write_progress(self.job_id, self.token, done)
        except SQLAlchemyError:
            # A database restart costs one heartbeat, not the render.
            db.session.rollback()
            current_app.logger.warning("print job %s: progress not written", self.job_id,
                                       exc_info=True)
            return
        if not still_ours:
            raise _LostClaim()


# --- running -----------------------------------------------------------------------------


def run_job(job_id: int, token: str, stop: threading.Event | None = None) -> PrintJobState | None:
    """Render a claimed job into the `generated` store and mark it done or failed; returns the
    state it left, or None when another runner took the job over meanwhile. Commits."""
    files = storage.generated()
    try:
        job = db.session.get(PrintJob, job_id)
        assert job is not None
        labels = iter_run_labels(job.label_run)  # reads what it needs now; pure afterwards
        fmt, preset, ec = job.format, job.preset, job.ec
        name = _file_name(job.id, token, fmt)
        # No transaction stays open over a render that may take minutes.
        db.session.rollback()
        progress = _Progress(job_id, token, stop)
        with files.writer(name) as out:
            write_labels(fmt, progress.counted(labels), out, preset=preset, ec=ec)
            size = out.tell()
    except _LostClaim:
        db.session.rollback()
        return None
    except _StopRequested:
        db.session.rollback()
        # Back to the queue, this attempt not counted: the job did nothing wrong.
        _update_claimed(job_id, token, state=PrintJobState.QUEUED, claim_token=None, done=0,
                        attempts=PrintJob.attempts - 1)
        return PrintJobState.QUEUED
    except Exception as exc:  # noqa: BLE001  (any failure of the render is the job's result)
        db.session.rollback()
        current_app.logger.exception("print job %s failed", job_id)
        # A file error's own words, without the server's paths.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        failed = _update_claimed(job_id, token, state=PrintJobState.FAILED, claim_token=None,
                                 finished_at=utcnow(),
                                 error=f"{type(exc).__name__}: {reason}"[:500])
        return PrintJobState.FAILED if failed else None
    now = utcnow()
    keep = timedelta(days=int(current_app.config["PRINT_JOB_KEEP_DAYS"]))
    if not _update_claimed(job_id, token, state=PrintJobState.DONE, done=PrintJob.total,
                           file_name=name, file_size=size, finished_at=now,
                           expires_at=now + keep, claim_token=None):
        files.delete(name)
        return None
    return PrintJobState.DONE


def delete_expired_files(now: datetime | None = None) -> int:
    """Mark finished jobs past their keeping period expired, and delete their files (each
    exactly once, by whichever runner marks it). Commits; returns how many."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(PrintJob.id, PrintJob.file_name)
        .where(PrintJob.state == PrintJobState.DONE, PrintJob.expires_at <= now)).all()
    deleted = 0
    for job_id, name in rows:
        result = db.session.execute(
            sa.update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.state == PrintJobState.DONE)
            .values(state=PrintJobState.EXPIRED).execution_options(synchronize_session=False))
        db.session.commit()
        if result.rowcount == 1 and name:  # type: ignore[attr-defined]
            storage.generated().delete(name)
            deleted += 1
    db.session.rollback()
    return deleted


class PrintJobRunner:
    """Claims and runs print jobs, one at a time, in a thread of this process (`start`) or in
    the caller (`run_forever`, `run_once`). Built at start-up; threads do not survive a fork,
    so it is started after it (gunicorn's post_worker_init)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sweep = 0.0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.stopping.clear()
        self._thread = threading.Thread(target=self.run_forever, name="print-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current label; a job in progress goes back to the queue."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        poll = float(self.app.config["PRINT_JOB_POLL_SECONDS"])
        while not self.stopping.is_set():
            try:
                worked = self.run_once()
            except Exception:  # noqa: BLE001  (a database outage must not end the thread)
                self.app.logger.exception("print job runner")
                worked = False
            if not worked:
                self.stopping.wait(poll)

    def run_once(self) -> bool:
        """Delete expired files when due, then run one waiting job; False when none waited."""
        with self.app.app_context():
            if time.monotonic() >= self._next_sweep:
                delete_expired_files()
                self._next_sweep = time.monotonic() + _SWEEP_SECONDS
            claimed = claim_next()
            if claimed is None:
                return False
            run_job(*claimed, stop=self.stopping)
            return True


def init_app(app: Flask) -> None:
    app.extensions["print_jobs"] = PrintJobRunner(app)


def runner() -> PrintJobRunner:
    return current_app.extensions["print_jobs"]  # type: ignore[no-any-return]
