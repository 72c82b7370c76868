"""A diary write sent twice is stored once: the Idempotency-Key header of the API, the producer
form's hidden key, concurrent duplicates, and an answer built before the commit."""
from __future__ import annotations

import io
import re
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from tests.factories import make_token
from traceability.batches import services
from traceability.batches.models import Attachment, DiaryEvent
from traceability.batches.services import append_event
from traceability.extensions import db
from traceability.idempotency import IdempotencyKey
from traceability.models_base import utcnow

from .conftest import call, jpeg_bytes, login

STEP = {"kind": "harvest", "occurred_at": "2026-01-05T07:30:00", "quantity": "120.5", "unit": "kg",
        "notes": "Thu hoạch đợt 1"}


@pytest.fixture()
def owner_token(farm) -> str:
    token = make_token(farm.owner)
    db.session.commit()
    return token


def _events() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(DiaryEvent.id)))


def _post_step(client, farm, token, body: dict = STEP, key: str | None = "buoc-1"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events", token, json=body,
                headers=headers)


# --- the API header ------------------------------------------------------------------------


def test_a_retried_step_with_the_same_key_is_stored_once_and_answered_the_same(client, farm,
                                                                               owner_token):
    first = _post_step(client, farm, owner_token)
    assert first.status_code == 201, first.get_json()
    # The client never saw that answer (a 500 from a proxy, a dropped connection): it retries.
    again = _post_step(client, farm, owner_token, body=dict(reversed(list(STEP.items()))))
    assert again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _events() == 1


def test_without_a_key_every_post_is_a_new_step(client, farm, owner_token):
    for _ in range(2):
        assert _post_step(client, farm, owner_token, key=None).status_code == 201
    assert _events() == 2


def test_the_same_key_with_another_body_is_a_422_naming_the_header(client, farm, owner_token):
    assert _post_step(client, farm, owner_token).status_code == 201
    other = _post_step(client, farm, owner_token, body={**STEP, "quantity": "99"})
    assert other.status_code == 422
    assert list(other.get_json()["errors"]) == ["Idempotency-Key"]
    assert "Idempotency-Key" in other.get_json()["errors"]["Idempotency-Key"][0]
    assert _events() == 1


def test_the_same_key_on_another_operation_is_a_422_naming_the_header(client, farm, owner_token):
    created = _post_step(client, farm, owner_token, key="k1").get_json()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events/{created['id']}/attachments",
                    owner_token, data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
                    content_type="multipart/form-data", headers={"Idempotency-Key": "k1"})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0


@pytest.mark.parametrize("key", ["", "x" * 256, "có dấu", "two words", "tab\there"])
def test_a_malformed_key_is_a_422_naming_the_header(client, farm, owner_token, key):
    response = _post_step(client, farm, owner_token, key=key)
    assert response.status_code == 422, response.get_json()
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert _events() == 0


def test_keys_belong_to_their_caller(client, farm, owner_token):
    staff_token = make_token(farm.staff)
    db.session.commit()
    assert _post_step(client, farm, owner_token, key="chung").status_code == 201
    mine = _post_step(client, farm, staff_token, key="chung")
    assert mine.status_code == 201 and "Idempotent-Replayed" not in mine.headers
    assert _events() == 2


def test_a_refused_write_does_not_use_up_its_key(client, farm, owner_token):
    refused = _post_step(client, farm, owner_token, body={**STEP, "kind": "input"})  # no input_name
    assert refused.status_code == 422
    assert _post_step(client, farm, owner_token).status_code == 201
    assert _events() == 1
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 1


def test_the_key_is_kept_with_the_step_in_one_transaction(client, farm, owner_token, monkeypatch):
    """A commit that fails (the database went away) loses both the step and the key: the
    client gets a 503, and its retry records the step."""
    from sqlalchemy.exc import OperationalError

    from traceability import idempotency

    remember = idempotency.remember

    def remember_then_lose_the_database(response):  # type: ignore[no-untyped-def]
        remember(response)
        raise OperationalError("COMMIT", None, ConnectionError("server closed the connection"))

    monkeypatch.setattr(idempotency, "remember", remember_then_lose_the_database)
    lost = _post_step(client, farm, owner_token)
    assert lost.status_code == 503 and lost.headers["Retry-After"]
    monkeypatch.undo()
    assert _events() == 0 and db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 0
    retried = _post_step(client, farm, owner_token)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _events() == 1


def test_a_retried_attachment_is_stored_once(client, farm, owner_token, upload_folder):
    event = append_event(farm.batch, {"kind": "lab_test", "occurred_at": utcnow(),
                                      "details": {"result": "Đạt"}})
    db.session.commit()
    url = f"/api/v1/batches/{farm.batch.id}/events/{event.id}/attachments"
    photo = jpeg_bytes()

    def send(data: bytes, keep: str = "false"):
        # A new multipart body each time, as a retrying client builds it (a new boundary).
        return call(client, "POST", url, owner_token, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), "IMG_1.jpg"), "keep_location": keep},
                    headers={"Idempotency-Key": "anh-1"})

    first, again = send(photo), send(photo)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 1
    assert send(photo, keep="true").status_code == 422
    assert send(jpeg_bytes((640, 480))).status_code == 422


def _race(app, requests: list[dict[str, Any]]) -> list[Any]:
    """Send the requests at once from threads, each with its own client and app context."""
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = [None] * len(requests)

    def send(index: int, spec: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        answers[index] = client.open(**spec)

    threads = [threading.Thread(target=send, args=(i, spec)) for i, spec in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_concurrent_duplicates_store_one_step_and_both_get_its_answer(app, farm, owner_token,
                                                                       monkeypatch):
    record_event = services.record_event

    def slow_record_event(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Both requests are in flight together: the first holds its claim while it works.
        threading.Event().wait(0.3)
        return record_event(*args, **kwargs)

    monkeypatch.setattr(services, "record_event", slow_record_event)
    spec = {"path": f"/api/v1/batches/{farm.batch.id}/events", "method": "POST", "json": STEP,
            "headers": {"Authorization": f"Bearer {owner_token}", "Idempotency-Key": "cung-luc"}}
    answers = _race(app, [spec, spec])
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 201], [201, 409]), [a.get_data(as_text=True) for a in answers]
    created = [a for a in answers if a.status_code == 201]
    assert all(a.get_data() == created[0].get_data() for a in created)
    assert _events() == 1


# --- no database round trip once committed --------------------------------------------------


class StatementLog:
    """While armed, every commit and every statement, in order: what runs after a request's
    last commit would fail if the database went away at that moment (a restart), and the
    client would get a 500 for a write that was stored."""

    def __init__(self) -> None:
        self.armed = False
        self.log: list[str] = []

    def arm(self) -> None:
        self.armed, self.log = True, []

    def after_commit(self, session: Any) -> None:
        if self.armed:
            self.log.append("COMMIT")

    def before_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.armed:
            self.log.append(statement)

    def after_commit_of(self, table: str) -> list[str]:
        """The statements run after the commit that stored a row of `table`."""
        inserted = next(i for i, s in enumerate(self.log) if s.startswith(f"INSERT INTO {table}"))
        committed = self.log.index("COMMIT", inserted)
        return [s for s in self.log[committed + 1:] if s != "COMMIT"]


@pytest.fixture()
def statements(app):
    from sqlalchemy.orm import Session

    log = StatementLog()
    sa.event.listen(Session, "after_commit", log.after_commit)
    sa.event.listen(db.engine, "before_cursor_execute", log.before_execute)
    try:
        yield log
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", log.before_execute)
        sa.event.remove(Session, "after_commit", log.after_commit)


def test_the_api_answer_is_built_before_the_commit(client, farm, owner_token,
                                                   statements):
    statements.arm()
    response = _post_step(client, farm, owner_token)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["notes"] == "Thu hoạch đợt 1" and response.get_json()["seq"] == 1
    assert statements.after_commit_of("diary_events") == []


def test_the_attachment_answer_is_built_before_the_commit(client, farm, owner_token, upload_folder,
                                                          statements):
    event = append_event(farm.batch, {"kind": "packing", "occurred_at": utcnow()})
    db.session.commit()
    statements.arm()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events/{event.id}/attachments",
                    owner_token, data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
                    content_type="multipart/form-data", headers={"Idempotency-Key": "a-1"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["url"].endswith(".jpg")
    assert statements.after_commit_of("attachments") == []


# --- the producer's form ----------------------------------------------------------------------


def _form_key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def test_each_rendering_of_the_form_carries_a_new_key(client, farm):
    login(client, farm.staff)
    url = f"/producer/batches/{farm.batch.id}/record?kind=harvest"
    first, second = (_form_key(client.get(url).get_data(as_text=True)) for _ in range(2))
    assert first != second and len(first) >= 20


def test_a_double_submitted_form_records_one_step_and_shows_the_same_page(client, farm,
                                                                          upload_folder):
    login(client, farm.staff)
    url = f"/producer/batches/{farm.batch.id}/record"
    key = _form_key(client.get(url + "?kind=packing").get_data(as_text=True))

    def submit():  # type: ignore[no-untyped-def]
        return client.post(url, content_type="multipart/form-data", data={
            "idempotency_key": key, "kind": "packing", "quantity": "50", "unit": "hộp",
            "attachment": (io.BytesIO(jpeg_bytes()), "IMG_0001.jpg", "image/jpeg")})

    first, second = submit(), submit()
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _events() == 1
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 1
    assert "Đã ghi bước vào nhật ký." in client.get(second.headers["Location"]).get_data(as_text=True)


def test_a_resent_form_with_other_content_is_refused_then_saved_from_the_new_form(client, farm):
    login(client, farm.staff)
    url = f"/producer/batches/{farm.batch.id}/record"
    key = _form_key(client.get(url + "?kind=storage").get_data(as_text=True))
    assert client.post(url, data={"idempotency_key": key, "kind": "storage",
                                  "place": "Kho A"}).status_code == 302
    # Back in the browser, the same form is edited and sent again.
    edited = client.post(url, data={"idempotency_key": key, "kind": "storage", "place": "Kho B"})
    page = edited.get_data(as_text=True)
    assert edited.status_code == 422
    assert "Biểu mẫu này đã được gửi trước đó với nội dung khác." in page
    assert 'value="Kho B"' in page and _form_key(page) != key
    assert _events() == 1
    assert client.post(url, data={"idempotency_key": _form_key(page), "kind": "storage",
                                  "place": "Kho B"}).status_code == 302
    assert _events() == 2


def test_the_form_answer_is_built_before_the_commit(client, farm, statements):
    login(client, farm.staff)
    key = _form_key(client.get(f"/producer/batches/{farm.batch.id}/record?kind=storage")
                    .get_data(as_text=True))
    statements.arm()
    response = client.post(f"/producer/batches/{farm.batch.id}/record",
                           data={"idempotency_key": key, "kind": "storage", "place": "Kho A"})
    assert response.status_code == 302
    assert statements.after_commit_of("diary_events") == []


# --- the OpenAPI document -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/batches/{batch_id}/events",
                                  "/api/v1/batches/{batch_id}/events/{event_id}/attachments"])
def test_the_openapi_document_declares_the_optional_header_and_its_answers(client, path):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][path]["post"]
    header = [p for p in operation["parameters"] if p["in"] == "header"]
    assert [(p["name"], p["required"]) for p in header] == [("Idempotency-Key", False)]
    assert header[0]["schema"]["type"] == "string" and header[0]["schema"]["maxLength"] == 255
    assert {"201", "409", "422"} <= set(operation["responses"])
