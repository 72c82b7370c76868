"""Demo photos and lab reports: made at demo-load time, small, stored as uploads are."""
from __future__ import annotations

import io

import pypdfium2 as pdfium
import sqlalchemy as sa
from PIL import Image

from traceability import storage
from traceability.batches.models import Attachment, DiaryEvent, EventKind
from traceability.demo import load_demo
from traceability.demo_media import LOOKS
from traceability.extensions import db
from traceability.registry.models import Product

MAX_PHOTO_BYTES = 15 * 1024


def _stored(name: str) -> bytes:
    with storage.media().open(name) as handle:
        return handle.read()


def test_every_demo_product_gets_a_small_photo(upload_folder):
    load_demo()
    db.session.commit()
    products = db.session.scalars(sa.select(Product)).all()
    assert len(products) == len(LOOKS) == 15
    names = {p.image_path for p in products}
    assert None not in names and len(names) == 15  # one photo each, all different
    for name in names:
        for variant in (name, name.replace(".jpg", ".w480.jpg")):
            data = _stored(variant)
            assert len(data) <= MAX_PHOTO_BYTES, (variant, len(data))
            with Image.open(io.BytesIO(data)) as image:
                assert (image.format, image.size) == ("JPEG", (480, 360))


def test_every_demo_lab_test_carries_its_report_and_reloading_adds_none(upload_folder):
    load_demo()
    db.session.commit()
    rows = db.session.execute(sa.select(Attachment.path, Attachment.content_type)
                              .join(DiaryEvent).where(DiaryEvent.kind == EventKind.LAB_TEST)).all()
    assert len(rows) == 15 and {row.content_type for row in rows} == {"application/pdf"}
    text = pdfium.PdfDocument(_stored(rows[0].path))[0].get_textpage().get_text_range()
    assert "PHIẾU KẾT QUẢ THỬ NGHIỆM" in text and "DỮ LIỆU DEMO" in text
    load_demo()
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 15
