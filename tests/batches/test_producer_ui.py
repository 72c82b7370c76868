"""The producer UI end to end with the test client: dashboard → batch → record a step → timeline."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import sqlalchemy as sa

from tests.conftest import make_test_app
from tests.factories import make_user
from traceability.batches.models import Attachment, DiaryEvent, EventKind
from traceability.batches.services import append_event
from traceability.clock import VIETNAM
from traceability.extensions import db
from traceability.models_base import utcnow

from .conftest import jpeg_bytes, login


def test_producer_pages_ask_for_login(client, farm):
    response = client.get("/producer/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/producer/"


def test_dashboard_lists_own_producer_with_products_batches_and_scans(client, farm, other_farm):
    from traceability.resolver.models import Scan, ScanVerdict

    for _ in range(3):
        db.session.add(Scan(code="x", product_id=farm.product.id, batch_id=farm.batch.id,
                            verdict=ScanVerdict.LOT))
    append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow() - timedelta(hours=2)})
    login(client, farm.staff)
    page = client.get("/producer/").get_data(as_text=True)
    assert farm.producer.name in page
    assert "Tỏi cô đơn Lý Sơn" in page
    assert "TOI-01" in page
    assert "Thu hoạch" in page  # latest diary event
    assert "3 lượt quét" in page
    assert other_farm.producer.name not in page
    assert "Mạch nha" not in page


def test_dashboard_counts_take_the_english_singular_and_plural(client, farm):
    from traceability.resolver.models import Scan, ScanVerdict

    db.session.add(Scan(code="x", product_id=farm.product.id, batch_id=farm.batch.id,
                        verdict=ScanVerdict.LOT))
    db.session.commit()
    login(client, farm.staff)
    page = client.get("/producer/?lang=en").get_data(as_text=True)
    assert "1 scan<" in page and "1 product<" in page and "1 batch<" in page
    db.session.add(Scan(code="x", product_id=farm.product.id, batch_id=farm.batch.id,
                        verdict=ScanVerdict.LOT))
    db.session.commit()
    page = client.get("/producer/?lang=en").get_data(as_text=True)
    assert "2 scans<" in page and "lượt quét" not in page
    assert "2 lượt quét" in client.get("/producer/").get_data(as_text=True)


def test_record_a_step_in_a_few_taps_then_timeline_shows_it(client, farm):
    login(client, farm.staff)
    batch_page = client.get(f"/producer/batches/{farm.batch.id}")
    assert batch_page.status_code == 200
    assert f"/producer/batches/{farm.batch.id}/record" in batch_page.get_data(as_text=True)

    chooser = client.get(f"/producer/batches/{farm.batch.id}/record").get_data(as_text=True)
    assert "Thu hoạch" in chooser and "Kiểm nghiệm" in chooser

    form = client.get(f"/producer/batches/{farm.batch.id}/record?kind=harvest").get_data(as_text=True)
    # Place defaults to the producer's address, time to now.
    assert 'value="Thôn Đông, xã An Hải, huyện Lý Sơn"' in form
    default_time = re.search(r'name="occurred_at"[^>]*value="([^"]+)"', form).group(1)

    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "harvest", "occurred_at": default_time, "place": "Ruộng số 3",
        "quantity": "120,5", "unit": "kg", "notes": "Trời nắng, tỏi khô.",
    })
    assert response.status_code == 302
    event = db.session.scalars(sa.select(DiaryEvent)).one()
    assert event.kind == EventKind.HARVEST
    assert str(event.quantity.normalize()) == "120.5"
    assert event.author_id == farm.staff.id
    assert event.occurred_at.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M") == default_time

    timeline = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã ghi bước vào nhật ký." in timeline
    assert "Ruộng số 3" in timeline and "120,5 kg" in timeline
    assert "Trời nắng, tỏi khô." in timeline
    assert "Nhân viên Bình" in timeline


def test_input_step_requires_its_name_and_shows_vietnamese_errors(client, farm):
    login(client, farm.owner)
    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "input", "dose": "2 lít/ha", "pre_harvest_interval_days": "bảy",
        "latitude": "95", "longitude": "109"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Phải là số nguyên." in page
    assert db.session.scalar(sa.select(sa.func.count(DiaryEvent.id))) == 0

    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "input", "dose": "2 lít/ha", "pre_harvest_interval_days": "7"})
    assert response.status_code == 422
    assert "Thông tin này là bắt buộc với loại bước đã chọn." in response.get_data(as_text=True)

    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "input", "input_name": "Phân hữu cơ", "dose": "2 lít/ha",
        "pre_harvest_interval_days": "7", "latitude": "95", "longitude": "109"})
    assert response.status_code == 422
    assert "Phải nằm trong khoảng từ -90 đến 90." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(DiaryEvent.id))) == 0


def test_photo_uploaded_with_a_step_is_shown_in_the_timeline(client, farm):
    login(client, farm.owner)
    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "packing", "quantity": "50", "unit": "hộp",
        "attachment": (io.BytesIO(jpeg_bytes()), "IMG_0001.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    attachment = db.session.scalars(sa.select(Attachment)).one()
    page = client.get(f"/producer/batches/{farm.batch.id}").get_data(as_text=True)
    assert f"/media/{attachment.path}?w=480" in page
    with client.get(f"/media/{attachment.path}?w=480") as small:
        assert small.status_code == 200 and small.mimetype == "image/jpeg"


def test_refused_photo_leaves_no_step_behind(client, farm, row_counter):
    login(client, farm.owner)
    before = row_counter()
    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "packing",
        "attachment": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "không phải là ảnh hợp lệ" in response.get_data(as_text=True)
    assert row_counter() == before


def test_correction_keeps_the_original_and_both_show(client, farm):
    original = append_event(farm.batch, {"kind": "harvest", "occurred_at": utcnow() - timedelta(days=1),
                                         "quantity": 100, "unit": "kg", "notes": "Số cũ"},
                            author_id=farm.owner.id)
    db.session.commit()
    login(client, farm.owner)
    form = client.get(f"/producer/batches/{farm.batch.id}/events/{original.id}/correct")
    assert form.status_code == 200
    assert "Số cũ" in form.get_data(as_text=True)  # prefilled from the original
    response = client.post(f"/producer/batches/{farm.batch.id}/events/{original.id}/correct", data={
        "kind": "harvest", "occurred_at": original.occurred_at.astimezone(VIETNAM).strftime("%Y-%m-%dT%H:%M"),
        "quantity": "80", "unit": "kg", "notes": "Số đúng"})
    assert response.status_code == 302
    events = list(db.session.scalars(sa.select(DiaryEvent).order_by(DiaryEvent.seq)))
    assert [e.seq for e in events] == [1, 2]
    assert events[0].notes == "Số cũ" and events[1].corrects_id == events[0].id
    page = client.get(f"/producer/batches/{farm.batch.id}").get_data(as_text=True)
    assert "Số cũ" in page and "Số đúng" in page
    assert "Đính chính bước #1" in page
    assert "Đã được đính chính bởi bước 2" in page


def test_new_batch_form_creates_a_lot_and_refuses_a_duplicate(client, farm):
    login(client, farm.owner)
    url = f"/producer/products/{farm.product.id}/batches/new"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"lot": "TOI-02", "production_date": "2026-01-10",
                                      "quantity": "500", "unit": "kg"})
    assert response.status_code == 302
    again = client.post(url, data={"lot": "TOI-02"})
    assert again.status_code == 422
    assert "Số lô này đã có cho sản phẩm này." in again.get_data(as_text=True)
    bad = client.post(url, data={"lot": "TOI-03", "production_date": "2026-02-10",
                                 "expiry_date": "2026-01-01"})
    assert bad.status_code == 422
    assert "Hạn sử dụng phải sau ngày sản xuất." in bad.get_data(as_text=True)


def test_foreign_batch_pages_are_refused(client, farm, other_farm):
    login(client, farm.staff)
    foreign = other_farm.batch.id
    for url in (f"/producer/batches/{foreign}", f"/producer/batches/{foreign}/record",
                f"/producer/batches/{foreign}/labels",
                f"/producer/products/{other_farm.product.id}",
                f"/producer/products/{other_farm.product.id}/batches/new"):
        assert client.get(url).status_code in (403, 404), url
    response = client.post(f"/producer/batches/{foreign}/record", data={"kind": "harvest"})
    assert response.status_code in (403, 404)
    assert db.session.scalar(sa.select(sa.func.count(DiaryEvent.id))) == 0


def test_inspector_may_view_but_not_record(client, farm):
    inspector = make_user("inspector", regions=[farm.producer.region])
    db.session.commit()
    login(client, inspector)
    page = client.get(f"/producer/batches/{farm.batch.id}")
    assert page.status_code == 200
    assert "Ghi một bước" not in page.get_data(as_text=True)
    assert client.post(f"/producer/batches/{farm.batch.id}/record",
                       data={"kind": "harvest"}).status_code == 403


def test_labels_page_lists_runs_and_creates_one(client, farm):
    login(client, farm.owner)
    url = f"/producer/batches/{farm.batch.id}/labels"
    page = client.get(url).get_data(as_text=True)
    assert "Tạo đợt tem mới" in page
    response = client.post(url, data={"level": "unit", "count": "24"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"/api/v1/label-runs/\d+/labels\.pdf\?preset=", page)
    assert "24 tem từng sản phẩm" in page
    refused = client.post(url, data={"level": "lot", "count": "5"})
    assert refused.status_code == 422


def test_record_step_form_with_csrf_enabled(database_url, farm):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, UPLOAD_FOLDER="/nonexistent")
    try:
        client = app.test_client()
        login(client, farm.staff)
        url = f"/producer/batches/{farm.batch.id}/record"
        refused = client.post(url, data={"kind": "storage", "place": "Kho A"})
        assert refused.status_code in (400, 422)
        form = client.get(url + "?kind=storage").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        accepted = client.post(url, data={"csrf_token": token, "kind": "storage", "place": "Kho A"})
        assert accepted.status_code == 302
    finally:
        with app.app_context():
            db.engine.dispose()
    db.session.expire_all()
    events = list(db.session.scalars(sa.select(DiaryEvent)))
    assert [(e.kind, e.place) for e in events] == [(EventKind.STORAGE, "Kho A")]
