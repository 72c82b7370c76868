"""The inspector's "Kiểm tra tem" page: a code typed in or read from a photo of a real label,
the resolver's verdict on it, who may see what, and the uploads it refuses."""
from __future__ import annotations

import io
import random
from datetime import timedelta
from types import SimpleNamespace

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from tests.factories import (
    make_batch,
    make_certificate,
    make_producer,
    make_product,
    make_region,
    make_user,
)
from traceability.clock import local_today
from traceability.codes.keys import get_signer
from traceability.codes.models import LabelLevel, PrintFormat
from traceability.codes.services import issue_label_run, iter_run_labels, write_labels
from traceability.extensions import db as _db
from traceability.render import ean13_png
from traceability.resolver.models import Scan, ScanVerdict

GTIN = "08939900002017"
TODAY = local_today()


@pytest.fixture()
def label(area):
    """A certified product of commune A with a lot and a run of 20 unit labels."""
    producer = make_producer(area.a, name="Hợp tác xã Tỏi An Hải")
    product = make_product(producer, gtin=GTIN, name_vi="Tỏi cô đơn Lý Sơn")
    cert = make_certificate(product, stars=4, issued_on=TODAY - timedelta(days=100),
                            decision_number="123/QĐ-UBND")
    batch = make_batch(product, lot="TOI2026-10")
    run = issue_label_run(batch, level=LabelLevel.UNIT, count=20)
    _db.session.commit()

    def serial(index: int) -> str:
        return get_signer().make(run.subject, batch.lot, index, run.key_version)

    def path(index: int) -> str:
        return f"/01/{GTIN}/10/{batch.lot}/21/{serial(index)}"

    return SimpleNamespace(producer=producer, product=product, cert=cert, batch=batch, run=run,
                           serial=serial, path=path)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _forged(serial: str) -> str:
    return serial[:-1] + ("A" if serial[-1] != "A" else "B")


# --- typed codes ------------------------------------------------------------------------------

def test_a_genuine_label_url_gets_the_whole_verdict_and_the_links(client, sign_in, area, label):
    sign_in(client, area.inspector)
    url = "https://trace.example.vn" + label.path(3)
    response = client.get("/inspector/verify", query_string={"code": url})
    assert response.status_code == 200
    html = _text(response)
    assert "Tem chính hãng." in html and "Kết luận kiểm tra" in html
    for text in ("Tỏi cô đơn Lý Sơn", "Hợp tác xã Tỏi An Hải", "TOI2026-10", label.serial(3),
                 f"#{label.run.id}", label.run.guaranteed_until.strftime("%d/%m/%Y"),
                 "123/QĐ-UBND", "Còn hiệu lực"):
        assert text in html, text
    assert "Nghi sao chép tem</dt><dd>Không" in html
    # The label run's day is Vietnam's (flask-babel's format_datetime, Asia/Ho_Chi_Minh).
    from traceability.clock import VIETNAM
    issued = label.run.issued_at.astimezone(VIETNAM).strftime("%d/%m/%Y")
    assert f"#{label.run.id} ({issued})" in html
    new = f"/oversight/inspections/new?product_id={label.product.id}&amp;code={label.path(3)}"
    assert new in html
    assert f'href="https://trace.example.vn/trace{label.path(3)}"' in html
    # A check is not a consumer's scan: nothing is logged, nothing is counted.
    assert _db.session.scalar(sa.select(sa.func.count(Scan.id))) == 0
    assert "Lượt quét</dt><dd>0 /" in html


def test_the_verdict_is_the_one_of_the_verification_service(client, sign_in, area, label):
    sign_in(client, area.inspector)
    forged = f"/01/{GTIN}/10/{label.batch.lot}/21/{_forged(label.serial(4))}"
    assert client.get("/verify" + forged).get_json()["serial"] == "forged"
    html = _text(client.get("/inspector/verify", query_string={"code": forged}))
    assert "Tem giả hoặc đã bị sửa." in html and "Không hợp lệ (giả hoặc sửa)" in html
    assert "Tem chính hãng." not in html


def test_a_copied_label_is_flagged_as_on_the_trace_page(client, sign_in, area, label, app):
    for n in range(7):  # seven networks scanned this one unit
        _db.session.add(Scan(code=label.path(5), product_id=label.product.id,
                             batch_id=label.batch.id, serial_index=5,
                             verdict=ScanVerdict.GENUINE, network_hash=f"net{n}"))
    _db.session.commit()
    sign_in(client, area.inspector)
    html = _text(client.get("/inspector/verify", query_string={"code": label.path(5)}))
    assert "tem có thể đã bị sao chép" in html
    assert "Có: quét từ quá nhiều nơi" in html and "Lượt quét</dt><dd>7 / 7 mạng" in html
    assert client.get("/verify" + label.path(5)).get_json()["copy_suspected"] is True


@pytest.mark.parametrize("typed", [
    f"(01){GTIN}(10)TOI2026-10(21){{serial}}",
    f"  trace.example.vn/01/{GTIN}/10/TOI2026-10/21/{{serial}}  ",
    f"https://id.gs1.org/01/{GTIN}/10/TOI2026-10/21/{{serial}}",
])
def test_an_inspector_may_type_the_code_as_printed(client, sign_in, area, label, typed):
    sign_in(client, area.inspector)
    code = typed.format(serial=label.serial(2))
    html = _text(client.get("/inspector/verify", query_string={"code": code}))
    assert "Tem chính hãng." in html and label.serial(2) in html


def test_a_label_pointing_to_another_host_is_pointed_out(client, sign_in, area, label):
    sign_in(client, area.inspector)
    html = _text(client.get("/inspector/verify", query_string={
        "code": f"https://ocop-check.example.com/01/{GTIN}/10/TOI2026-10/21/{label.serial(2)}"}))
    assert "Mã QR này trỏ tới ocop-check.example.com" in html and "trace.example.vn" in html
    html = _text(client.get("/inspector/verify", query_string={"code": label.path(2)}))
    assert "Mã QR này trỏ tới" not in html


def test_a_plain_gtin_gets_the_product_level_verdict(client, sign_in, area, label):
    sign_in(client, area.inspector)
    html = _text(client.get("/inspector/verify", query_string={"code": GTIN[1:]}))
    assert "Tỏi cô đơn Lý Sơn" in html and "Mã cấp sản phẩm, không có sê-ri" in html
    assert "123/QĐ-UBND" in html


def test_an_unknown_gtin_is_said_plainly(client, sign_in, area, label):
    sign_in(client, area.inspector)
    response = client.get("/inspector/verify", query_string={"code": "8930000012340"})
    assert response.status_code == 200
    html = _text(response)
    assert "Mã không có trong hệ thống." in html and "Kết luận kiểm tra" not in html
    assert 'href="https://trace.example.vn/trace/01/08930000012340"' in html


@pytest.mark.parametrize("garbage, message", [
    ("xin chào", "Không đọc được mã."),
    ("https://shop.example.com/san-pham/12",
     "Địa chỉ shop.example.com không phải liên kết GS1 Digital Link"),
    ("8939900002018", "Số kiểm tra của GTIN không đúng"),
    (f"/01/{GTIN}/21/1/10/L", "Sai thứ tự trong đường dẫn"),
    ("(01)123(10)L1", "GTIN phải có 8, 12, 13 hoặc 14 chữ số (đang có 3)"),
    (f"(01){GTIN}(10)", "Số lô không được để trống."),
    ("", "Hãy nhập mã."),
    ("9" * 600, "Mã dài quá 500 ký tự."),
])
def test_a_code_that_cannot_be_read_is_refused_on_the_form(client, sign_in, area, label, garbage,
                                                           message):
    sign_in(client, area.inspector)
    response = client.get("/inspector/verify", query_string={"code": garbage})
    assert response.status_code == 422
    html = _text(response)
    assert message in html and 'aria-invalid="true"' in html
    assert "Kết luận kiểm tra" not in html


def test_the_empty_page_offers_the_camera_and_the_code_field(client, sign_in, area):
    sign_in(client, area.inspector)
    response = client.get("/inspector/verify")
    assert response.status_code == 200
    html = _text(response)
    assert 'type="file" accept="image/*" capture="environment"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="code"' in html
    assert "<script" not in html


# --- who may see what -------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["producer", "consultant"])
def test_only_inspectors_officers_and_admins_open_the_page(client, sign_in, area, label, role):
    sign_in(client, make_user(role, producer=label.producer))
    assert client.get("/inspector/verify", query_string={"code": label.path(1)}).status_code == 403
    assert client.post("/inspector/verify", data={}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, label):
    response = client.get("/inspector/verify", query_string={"code": label.path(1)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_an_inspector_of_another_region_gets_no_details(client, sign_in, area, label):
    foreign = make_user("inspector", regions=[make_region(name="Xã Xa")])
    sign_in(client, foreign)
    html = _text(client.get("/inspector/verify", query_string={"code": label.path(6)}))
    # What the public page says anyway...
    assert "Tem chính hãng." in html and "Tỏi cô đơn Lý Sơn" in html
    assert "ngoài địa bàn bạn phụ trách" in html
    # ...and nothing of the inspector's block.
    for hidden in ("Kết luận kiểm tra", "123/QĐ-UBND", f"#{label.run.id} (",
                   "/oversight/inspections/new", "Lượt quét"):
        assert hidden not in html, hidden


def test_officers_see_the_verdict_but_no_inspection_button(client, sign_in, area, label):
    sign_in(client, area.officer)
    html = _text(client.get("/inspector/verify", query_string={"code": label.path(7)}))
    assert "Kết luận kiểm tra" in html and "123/QĐ-UBND" in html
    assert "/oversight/inspections/new" not in html
    sign_in(client, area.admin)
    html = _text(client.get("/inspector/verify", query_string={"code": label.path(7)}))
    assert f"/oversight/inspections/new?product_id={label.product.id}" in html


# --- photos -----------------------------------------------------------------------------------

def _label_sheet_crop(run, dpi: int = 200) -> Image.Image:
    """The first label of a run as printed: the label sheet PDF rasterised, cropped to it."""
    out = io.BytesIO()
    write_labels(PrintFormat.PDF, [next(iter_run_labels(run))], out, workers=1)
    document = pdfium.PdfDocument(out.getvalue())
    try:
        page = document[0]
        sheet = page.render(scale=dpi / 72).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    box = ImageOps.invert(sheet.convert("L")).getbbox()
    assert box is not None
    return sheet.crop((box[0] - 20, box[1] - 20, box[2] + 20, box[3] + 20))


def _photo_of(sticker: Image.Image, *, angle: float = 5, fmt: str = "JPEG") -> bytes:
    """`sticker` on a busy, unevenly lit table, a little askew and soft, as a phone sees it."""
    rng = random.Random(7)
    scene = Image.new("RGB", (1600, 1200), (150, 120, 90))
    draw = ImageDraw.Draw(scene)
    for _ in range(60):  # wood grain and clutter
        x, y = rng.randrange(1600), rng.randrange(1200)
        shade = rng.randrange(70, 200)
        draw.rectangle((x, y, x + rng.randrange(20, 400), y + rng.randrange(3, 30)),
                       fill=(shade, shade - 30, shade - 60))
    tilted = sticker.rotate(angle, expand=True, fillcolor=(150, 120, 90),
                            resample=Image.Resampling.BICUBIC)
    scene.paste(tilted, (400, 250))
    light = Image.linear_gradient("L").resize(scene.size).point(lambda v: 170 + v // 3)
    scene = Image.composite(scene, Image.new("RGB", scene.size, "black"), light)
    scene = scene.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    scene.save(out, fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return out.getvalue()


def _upload(client, data: bytes, name: str = "tem.jpg"):
    return client.post("/inspector/verify", content_type="multipart/form-data",
                       data={"photo": (io.BytesIO(data), name)})


def test_a_photo_of_a_printed_label_gets_the_verdict(client, sign_in, area, label):
    sign_in(client, area.inspector)
    response = _upload(client, _photo_of(_label_sheet_crop(label.run)))
    assert response.status_code == 200, _text(response)
    html = _text(response)
    assert "Tem chính hãng." in html and label.serial(1) in html and "123/QĐ-UBND" in html
    assert f"/oversight/inspections/new?product_id={label.product.id}" in html
    # The code read is put in the code field, to be checked again or corrected.
    assert f'value="{label.path(1)}"' in html


def test_a_png_of_a_forged_qr_code_is_found_forged(client, sign_in, area, label):
    from traceability.render.qr import qr_png

    forged = f"https://trace.example.vn/01/{GTIN}/10/TOI2026-10/21/{_forged(label.serial(8))}"
    sticker = Image.open(io.BytesIO(qr_png(forged, scale=6))).convert("RGB")
    sign_in(client, area.inspector)
    response = _upload(client, _photo_of(sticker, angle=-8, fmt="PNG"), "tem.png")
    assert response.status_code == 200, _text(response)
    assert "Tem giả hoặc đã bị sửa." in _text(response)


def test_a_photo_of_an_ean13_barcode_gets_the_product_verdict(client, sign_in, area, label):
    sticker = Image.open(io.BytesIO(ean13_png(GTIN[1:]))).convert("RGB")
    sign_in(client, area.inspector)
    response = _upload(client, _photo_of(sticker, angle=2))
    assert response.status_code == 200, _text(response)
    html = _text(response)
    assert "Tỏi cô đơn Lý Sơn" in html and "Mã cấp sản phẩm, không có sê-ri" in html


def _png(size: tuple[int, int], colour: str = "white") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_bad_uploads_get_a_message_on_the_form(client, sign_in, area, label):
    from traceability.render.qr import qr_png

    sign_in(client, area.inspector)
    shop_qr = Image.open(io.BytesIO(qr_png("https://shop.example.com/khuyen-mai", scale=6)))
    cases = [
        ("Không tìm thấy mã QR hay mã vạch trong ảnh",
         _photo_of(Image.new("RGB", (300, 200), "white"))),
        ("Chỉ nhận ảnh JPEG, PNG hoặc WebP.", b"%PDF-1.7 not a photo"),
        ("Chỉ nhận ảnh JPEG, PNG hoặc WebP.", b"\x89PNG\r\n\x1a\n" + b"\0" * 64),  # truncated
        ("Ảnh quá lớn: tối đa 16 triệu điểm ảnh.", _png((5000, 4000))),
        ("Ảnh có mã nhưng không phải mã sản phẩm", _photo_of(shop_qr.convert("RGB"))),
    ]
    for message, data in cases:
        response = _upload(client, data)
        assert response.status_code == 422, message
        html = _text(response)
        assert message in html, message
        assert "Kết luận kiểm tra" not in html and 'id="photo-error"' in html
    missing = client.post("/inspector/verify", content_type="multipart/form-data", data={})
    assert missing.status_code == 422 and "Hãy chụp hoặc chọn ảnh tem." in _text(missing)


def test_a_photo_over_the_upload_limit_is_refused(client, sign_in, area, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1000)
    sign_in(client, area.inspector)
    response = _upload(client, _png((400, 400)) + b"\0" * 2000)
    assert response.status_code == 422
    assert "Tệp quá lớn: tối đa" in _text(response)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    assert _upload(client, b"\0" * 5000).status_code == 413

