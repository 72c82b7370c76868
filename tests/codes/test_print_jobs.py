"""Print jobs: label runs above the download limit made in the background, followed, downloaded.

The download limit is lowered to 40 labels here, so every run stays small and fast.
"""
from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
import zxingcpp

from tests.factories import login, make_batch, make_certificate, make_producer, make_product, make_user
from traceability import storage
from traceability.codes import print_jobs
from traceability.codes.models import LabelLevel, LabelRun, PrintJob, PrintJobState
from traceability.codes.services import create_label_run, iter_run_labels
from traceability.gs1 import make_gtin13
from traceability.models_base import utcnow

LIMIT = 40


@pytest.fixture(autouse=True)
def small_limits(app, tmp_path, monkeypatch):
    """Runs over 40 labels need a job; progress written at every check; files in tmp_path."""
    monkeypatch.setitem(app.config, "LABEL_DOWNLOAD_MAX_LABELS", LIMIT)
    monkeypatch.setitem(app.config, "PRINT_JOB_PROGRESS_SECONDS", 0)
    folder = tmp_path / "generated"
    monkeypatch.setitem(app.extensions["storage"], "generated",
                        storage.LocalFolderStorage(str(folder)))
    return folder


@pytest.fixture
def gtin_product(producer):
    product = make_product(producer, gtin=make_gtin13("8934567", 5), name_vi="Tỏi cô đơn Lý Sơn")
    make_certificate(product, stars=4)
    return product


def _run(owner, gtin_product, count: int = 50, lot: str = "TOI-26") -> LabelRun:
    return create_label_run(owner, make_batch(gtin_product, lot=lot), level=LabelLevel.UNIT,
                            count=count)


@pytest.fixture
def large_run(owner, gtin_product) -> LabelRun:
    return _run(owner, gtin_product)


def _create(client, run_id: int, headers, **body):
    return client.post(f"/api/v1/label-runs/{run_id}/print-jobs", json=body, headers=headers)


def _run_waiting_jobs(app, db) -> int:
    """What a worker's thread does, here in the test's thread; then the test sees its writes."""
    db.session.commit()
    count = 0
    while app.extensions["print_jobs"].run_once():
        count += 1
    db.session.commit()  # expires what the test's session holds, so it reads the worker's writes
    return count


def _job(db, job_id: int) -> PrintJob:
    db.session.expire_all()
    return db.session.get(PrintJob, job_id)


# --- creating and reading jobs -----------------------------------------------------------


def test_creating_a_print_job_answers_202_with_the_queued_job(client, db, large_run, owner,
                                                              bearer):
    headers = bearer(owner)
    db.session.commit()
    response = _create(client, large_run.id, headers, format="pdf", preset="a4-4x10", ec="q")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/print-jobs/{body['id']}"
    assert body["state"] == "queued" and body["progress"] == {"done": 0, "total": 50}
    assert (body["format"], body["preset"], body["ec"]) == ("pdf", "a4-4x10", "Q")
    assert body["label_run_id"] == large_run.id and body["download_url"] is None
    again = _create(client, large_run.id, headers, format="pdf", preset="a4-4x10", ec="Q")
    assert again.status_code == 202 and again.get_json()["id"] == body["id"]
    other = _create(client, large_run.id, headers, format="csv")
    assert other.get_json()["id"] != body["id"]
    assert (other.get_json()["preset"], other.get_json()["ec"]) == (None, None)
    shown = client.get(body["url"], headers=headers)
    assert shown.status_code == 200 and shown.get_json()["state"] == "queued"


@pytest.mark.parametrize(("body", "field"), [({"format": "docx"}, "format"),
                                             ({"preset": "a3-1x1"}, "preset"),
                                             ({"ec": "H"}, "ec")])
def test_bad_print_job_options_are_422_naming_the_field(client, db, large_run, owner, bearer,
                                                        body, field):
    headers = bearer(owner)
    db.session.commit()
    response = _create(client, large_run.id, headers, **body)
    assert response.status_code == 422 and field in response.get_json()["errors"]


def test_another_producers_caller_can_neither_create_nor_see_nor_download_a_job(
        client, db, large_run, owner, bearer):
    job = print_jobs.create_print_job(owner, large_run, fmt="pdf", preset="a4-3x8", ec="M")
    stranger = make_user("producer", producer=make_producer())
    headers = bearer(stranger)
    db.session.commit()
    assert _create(client, large_run.id, headers).status_code == 403
    assert client.get(f"/api/v1/print-jobs/{job.id}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/print-jobs/{job.id}/file", headers=headers).status_code == 403
    assert client.get(f"/api/v1/print-jobs/{job.id}").status_code == 401
    assert client.get("/api/v1/print-jobs/999999", headers=bearer(owner)).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(PrintJob.id))) == 1


def test_a_producer_may_have_only_a_few_jobs_waiting(client, db, owner, gtin_product, bearer):
    runs = [_run(owner, gtin_product, lot=f"LOT-{n}") for n in range(print_jobs.MAX_ACTIVE_PER_PRODUCER + 1)]
    for run in runs[:-1]:
        print_jobs.create_print_job(owner, run, fmt="csv", preset=None, ec=None)
    headers = bearer(owner)
    db.session.commit()
    response = _create(client, runs[-1].id, headers, format="csv")
    assert response.status_code == 409 and response.get_json()["code"] == "conflict"


# --- the synchronous downloads refuse large runs -----------------------------------------


def test_downloads_above_the_limit_are_409_pointing_at_print_jobs(client, db, owner, gtin_product,
                                                                  bearer):
    large = _run(owner, gtin_product, count=LIMIT + 1, lot="BIG")
    at_limit = _run(owner, gtin_product, count=LIMIT, lot="SMALL")
    headers = bearer(owner)
    db.session.commit()
    for path in ("labels.pdf", "labels.csv", "labels-svg.zip"):
        response = client.get(f"/api/v1/label-runs/{large.id}/{path}", headers=headers)
        assert response.status_code == 409, path
        body = response.get_json()
        assert body["code"] == "print_job_required" and body["status"] == 409
        assert list(body["errors"]) == ["count"] and "41" in body["message"]
        assert f"/api/v1/label-runs/{large.id}/print-jobs" in body["message"]
        response = client.get(f"/api/v1/label-runs/{at_limit.id}/{path}", headers=headers)
        assert response.status_code == 200, path
        response.close()


# --- the worker ----------------------------------------------------------------------------


def test_the_worker_writes_a_pdf_whose_pages_and_first_qr_match_the_run(
        app, client, db, large_run, owner, bearer, small_limits):
    urls = [label.url for label in iter_run_labels(large_run)]
    headers = bearer(owner)
    db.session.commit()
    job_id = _create(client, large_run.id, headers, format="pdf", preset="a4-3x8").get_json()["id"]
    assert _run_waiting_jobs(app, db) == 1
    body = client.get(f"/api/v1/print-jobs/{job_id}", headers=headers).get_json()
    assert body["state"] == "done" and body["progress"] == {"done": 50, "total": 50}
    assert body["download_url"] == f"/api/v1/print-jobs/{job_id}/file"
    assert body["finished_at"] and body["expires_at"] and body["error"] is None

    response = client.get(body["download_url"], headers=headers, buffered=False)
    assert response.status_code == 200 and response.is_streamed
    data = response.get_data()
    response.close()
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="tem-{large_run.id}-TOI-26.pdf"'
    assert int(response.headers["Content-Length"]) == len(data) == body["file_size"]
    document = pdfium.PdfDocument(io.BytesIO(data))
    try:
        assert len(document) == 3  # 50 labels, 24 per A4 sheet
        page = document[0]
        image = page.render(scale=300 / 72).to_pil()
        page.close()
    finally:
        document.close()
    decoded = [b.text for b in zxingcpp.read_barcodes(image)
               if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert urls[0] in decoded and set(decoded) <= set(urls[:24])
    # Only the finished file is left in the store: no partial file beside it.
    assert [p.relative_to(small_limits).as_posix() for p in small_limits.rglob("*")
            if p.is_file()] == [_job(db, job_id).file_name]


def test_the_finished_csv_is_streamed_with_its_type_and_filename_and_resumes(
        app, client, db, large_run, owner, bearer):
    urls = [label.url for label in iter_run_labels(large_run)]
    headers = bearer(owner)
    db.session.commit()
    job_id = _create(client, large_run.id, headers, format="csv").get_json()["id"]
    assert client.get(f"/api/v1/print-jobs/{job_id}/file", headers=headers).status_code == 409
    _run_waiting_jobs(app, db)
    response = client.get(f"/api/v1/print-jobs/{job_id}/file", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="tem-{large_run.id}-TOI-26.csv"'
    assert response.headers["Accept-Ranges"] == "bytes"
    whole = response.data
    response.close()
    rows = list(csv.DictReader(io.StringIO(whole.decode("utf-8-sig"))))
    assert [row["url"] for row in rows] == urls
    rest = client.get(f"/api/v1/print-jobs/{job_id}/file", headers={**headers, "Range": "bytes=100-"})
    assert rest.status_code == 206 and rest.data == whole[100:]
    rest.close()


def test_progress_grows_while_the_worker_renders(app, client, db, owner, gtin_product, bearer,
                                                 monkeypatch):
    run = _run(owner, gtin_product, count=100)
    job = print_jobs.create_print_job(owner, run, fmt="zip", preset=None, ec="M")
    seen: list[int] = []
    write = print_jobs.write_progress

    def recording(job_id: int, token: str, done: int) -> bool:
        still_ours = write(job_id, token, done)
        seen.append(db.session.scalar(sa.select(PrintJob.done).where(PrintJob.id == job_id)))
        return still_ours

    monkeypatch.setattr(print_jobs, "write_progress", recording)
    _run_waiting_jobs(app, db)
    assert seen == [24, 48, 72, 96]  # written to the row as the labels are taken
    finished = _job(db, job.id)
    assert (finished.state, finished.done, finished.total) == (PrintJobState.DONE, 100, 100)


def test_a_failed_render_is_marked_failed_with_its_reason(app, client, db, large_run, owner,
                                                          bearer, monkeypatch, small_limits):
    def broken(*args, **kwargs):
        raise ValueError("font file missing")

    monkeypatch.setattr(print_jobs, "write_labels", broken)
    headers = bearer(owner)
    db.session.commit()
    job_id = _create(client, large_run.id, headers).get_json()["id"]
    _run_waiting_jobs(app, db)
    body = client.get(f"/api/v1/print-jobs/{job_id}", headers=headers).get_json()
    assert body["state"] == "failed" and body["error"] == "ValueError: font file missing"
    assert body["download_url"] is None
    response = client.get(f"/api/v1/print-jobs/{job_id}/file", headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "invalid_state"
    assert not [p for p in small_limits.rglob("*") if p.is_file()]
    # A failed job is not the "same job" a new request gets back: it makes a new one.
    assert _create(client, large_run.id, headers).get_json()["id"] != job_id


def test_a_stale_job_is_reclaimed_once_and_its_old_runner_can_change_nothing(
        app, db, large_run, owner, small_limits):
    job = print_jobs.create_print_job(owner, large_run, fmt="csv", preset=None, ec=None)
    db.session.commit()
    job_id, first_token = print_jobs.claim_next()
    assert job_id == job.id and print_jobs.claim_next() is None  # running, heartbeat fresh
    # The first runner's worker is killed mid-file: its heartbeat stops, its partial file stays.
    killed = storage.generated().writer(f"{job.id}/{first_token}.csv")
    killed.__enter__().write(b"url,product_name\n")
    assert len(list((small_limits / str(job.id)).iterdir())) == 1
    db.session.execute(sa.update(PrintJob).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    claims = [print_jobs.claim_next(), print_jobs.claim_next()]
    assert not list((small_limits / str(job.id)).iterdir())  # the dead writer's file is gone
    with pytest.raises(FileNotFoundError):  # the killed writer could not have finished it
        killed.__exit__(None, None, None)
    assert claims[0] is not None and claims[0][0] == job.id and claims[1] is None
    second_token = claims[0][1]
    assert second_token != first_token and _job(db, job.id).attempts == 2
    assert print_jobs.write_progress(job.id, first_token, 10) is False
    assert print_jobs.run_job(job.id, first_token) is None  # stops at its first progress write
    assert print_jobs.run_job(job.id, second_token) is PrintJobState.DONE
    finished = _job(db, job.id)
    assert finished.state is PrintJobState.DONE and second_token in finished.file_name


def test_a_job_abandoned_too_often_is_failed_instead_of_claimed_again(app, db, large_run, owner):
    job = print_jobs.create_print_job(owner, large_run, fmt="csv", preset=None, ec=None)
    job.state, job.attempts = PrintJobState.RUNNING, print_jobs.MAX_ATTEMPTS
    job.heartbeat_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert print_jobs.claim_next() is None
    failed = _job(db, job.id)
    assert failed.state is PrintJobState.FAILED and failed.error == print_jobs.ABANDONED_ERROR


def test_a_stopping_worker_puts_its_job_back_in_the_queue(app, db, large_run, owner):
    job = print_jobs.create_print_job(owner, large_run, fmt="csv", preset=None, ec=None)
    db.session.commit()
    claimed = print_jobs.claim_next()
    assert claimed is not None
    stopping = threading.Event()
    stopping.set()
    assert print_jobs.run_job(*claimed, stop=stopping) is PrintJobState.QUEUED
    back = _job(db, job.id)
    assert (back.state, back.attempts, back.claim_token) == (PrintJobState.QUEUED, 0, None)


def test_finished_files_expire_and_are_deleted_once(app, client, db, large_run, owner, bearer,
                                                   small_limits):
    headers = bearer(owner)
    db.session.commit()
    job_id = _create(client, large_run.id, headers, format="csv").get_json()["id"]
    _run_waiting_jobs(app, db)
    assert print_jobs.delete_expired_files() == 0
    stored = small_limits / _job(db, job_id).file_name
    assert stored.is_file()
    assert print_jobs.delete_expired_files(utcnow() + timedelta(days=7, seconds=1)) == 1
    assert print_jobs.delete_expired_files(utcnow() + timedelta(days=8)) == 0
    assert not stored.exists()
    body = client.get(f"/api/v1/print-jobs/{job_id}", headers=headers).get_json()
    assert body["state"] == "expired" and body["download_url"] is None
    response = client.get(f"/api/v1/print-jobs/{job_id}/file", headers=headers)
    assert response.status_code == 410 and response.get_json()["code"] == "gone"


def test_flask_print_jobs_run_once_runs_the_waiting_jobs(app, db, large_run, owner):
    job = print_jobs.create_print_job(owner, large_run, fmt="csv", preset=None, ec=None)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["print-jobs", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 print job(s) run" in result.output
    assert _job(db, job.id).state is PrintJobState.DONE


# --- the producer's pages ------------------------------------------------------------------


def test_the_labels_page_offers_a_print_job_for_a_large_run_and_follows_it(
        app, client, db, owner, gtin_product):
    small = _run(owner, gtin_product, count=LIMIT, lot="SMALL")
    large = _run(owner, gtin_product, count=LIMIT + 10, lot="BIG")
    login(client, owner)
    page = client.get(f"/producer/batches/{large.batch_id}/labels").get_data(as_text=True)
    assert "Tạo tệp in" in page and f"/producer/label-runs/{large.id}/print-jobs" in page
    assert f"/api/v1/label-runs/{large.id}/labels.pdf" not in page
    small_page = client.get(f"/producer/batches/{small.batch_id}/labels").get_data(as_text=True)
    assert f"/api/v1/label-runs/{small.id}/labels.pdf" in small_page
    assert "Tạo tệp in" not in small_page

    response = client.post(f"/producer/label-runs/{large.id}/print-jobs",
                           data={"format": "pdf", "preset": "a4-4x10"})
    assert response.status_code == 302
    job_url = response.headers["Location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    assert job_url == f"/producer/print-jobs/{job_id}"
    waiting = client.get(job_url).get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in waiting and "Đang chờ" in waiting
    assert "0 / 50 tem" in waiting and "<script" not in waiting

    _run_waiting_jobs(app, db)
    done = client.get(job_url).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done and "Đã xong" in done
    assert f'href="/api/v1/print-jobs/{job_id}/file"' in done
    download = client.get(f"/api/v1/print-jobs/{job_id}/file")  # the web session is enough
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    download.close()
    listed = client.get(f"/producer/batches/{large.batch_id}/labels").get_data(as_text=True)
    assert f"/producer/print-jobs/{job_id}" in listed

    english = client.get(job_url + "?lang=en").get_data(as_text=True)
    assert "Print file" in english and "Download the print file" in english


def test_a_print_job_page_of_another_producer_is_refused(app, client, db, large_run, owner):
    job = print_jobs.create_print_job(owner, large_run, fmt="csv", preset=None, ec=None)
    stranger = make_user("producer", producer=make_producer())
    login(client, stranger)
    assert client.get(f"/producer/print-jobs/{job.id}").status_code == 403
    response = client.post(f"/producer/label-runs/{large_run.id}/print-jobs",
                           data={"format": "csv"})
    assert response.status_code == 403


def test_a_failed_job_page_says_why_and_offers_to_try_again(app, client, db, large_run, owner,
                                                            monkeypatch):
    monkeypatch.setattr(print_jobs, "write_labels",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    job = print_jobs.create_print_job(owner, large_run, fmt="zip", preset=None, ec="Q")
    login(client, owner)
    _run_waiting_jobs(app, db)
    page = client.get(f"/producer/print-jobs/{job.id}").get_data(as_text=True)
    assert "Không tạo được tệp in: OSError: disk full" in page
    assert 'http-equiv="refresh"' not in page and "Tạo lại tệp in" in page
    assert 'name="ec" value="Q"' in page


# --- the OpenAPI document ----------------------------------------------------------------


def test_openapi_documents_print_jobs_and_the_refusal(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    create = paths["/api/v1/label-runs/{run_id}/print-jobs"]["post"]
    assert "202" in create["responses"] and "Location" in create["responses"]["202"]["headers"]
    assert create["responses"]["202"]["content"]["application/json"]["schema"]["$ref"] \
        .endswith("/PrintJob")
    assert paths["/api/v1/print-jobs/{job_id}"]["get"]["summary"]
    file_responses = paths["/api/v1/print-jobs/{job_id}/file"]["get"]["responses"]
    assert set(file_responses["200"]["content"]) == {"application/pdf", "text/csv",
                                                     "application/zip"}
    assert {"206", "409", "410"} <= set(file_responses)
    for path in ("labels.pdf", "labels.csv", "labels-svg.zip"):
        refusal = paths[f"/api/v1/label-runs/{{run_id}}/{path}"]["get"]["responses"]["409"]
        assert "print_job_required" in refusal["description"]


# --- under gunicorn, as `make run` and the image serve --------------------------------------


def test_gunicorn_workers_run_print_jobs_without_another_process(app, db, database_url, tmp_path,
                                                                 large_run, owner):
    """gunicorn.conf.py starts a runner in each worker after the fork: a queued job gets done
    and its file downloads from the workers, with no `flask print-jobs run` beside them."""
    import time
    import urllib.request

    from tests.conftest import SERIAL_KEYS
    from tests.factories import make_token
    from tests.test_gunicorn import gunicorn

    urls = [label.url for label in iter_run_labels(large_run)]
    job = print_jobs.create_print_job(owner, large_run, fmt="csv", preset=None, ec=None)
    token = make_token(owner)
    db.session.commit()
    with gunicorn({"DATABASE_URL": database_url, "SERIAL_KEYS": SERIAL_KEYS,
                   "SERIAL_KEY_VERSION": "2", "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
                   "GENERATED_FOLDER": str(tmp_path / "served"),
                   "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path}/limits.sqlite3"}) as base:
        deadline = time.monotonic() + 60
        while _job(db, job.id).state is not PrintJobState.DONE and time.monotonic() < deadline:
            db.session.rollback()
            time.sleep(0.2)
        assert _job(db, job.id).state is PrintJobState.DONE
        request = urllib.request.Request(f"{base}/api/v1/print-jobs/{job.id}/file",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            rows = list(csv.DictReader(io.StringIO(response.read().decode("utf-8-sig"))))
    assert [row["url"] for row in rows] == urls
    assert _job(db, job.id).attempts == 1  # claimed by one of the two workers only


def test_the_download_limit_is_5000_labels_unless_configured(monkeypatch):
    from traceability.config import load_config

    monkeypatch.delenv("LABEL_DOWNLOAD_MAX_LABELS", raising=False)
    assert load_config("/srv/ocop/instance")["LABEL_DOWNLOAD_MAX_LABELS"] == 5000
    monkeypatch.setenv("LABEL_DOWNLOAD_MAX_LABELS", "2000")
    assert load_config("/srv/ocop/instance")["LABEL_DOWNLOAD_MAX_LABELS"] == 2000
