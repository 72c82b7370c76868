"""The set-up pages with the test client: a consultant or an officer registers a producer and
its products through the same services as the API; refusals are shown under their fields, in
Vietnamese, with a 422, and write nothing."""
from __future__ import annotations

import io
import re
from html import unescape

import sqlalchemy as sa
import zxingcpp
from PIL import Image

from tests.batches.conftest import jpeg_bytes
from tests.conftest import make_test_app
from tests.factories import login, make_producer, make_product, make_user, tax_code
from traceability.accounts.models import AuditEntry, Membership, MembershipRole
from traceability.extensions import db
from traceability.gs1 import make_gtin13
from traceability.registry.models import Producer, ProducerKind, Product, ProductGroup

PREFIX = "8939911"


def _producer_form(region: int, **changes: str) -> dict[str, str]:
    form = {"kind": "cooperative", "name": "Hợp tác xã Tỏi An Hải", "tax_code": tax_code(),
            "address": "Thôn Đông, đặc khu Lý Sơn, tỉnh Quảng Ngãi", "region_id": str(region),
            "representative": "Trần Thị Hoa", "phone": "0255 3867 123",
            "email": "htx@toiantai.vn", "gs1_company_prefix": PREFIX, "gln": ""}
    form.update(changes)
    return form


def _error_under(page: str, field: str) -> list[str]:
    """The error messages shown right after the field's input and before the next label."""
    match = re.search(rf'id="{field}"(.*?)(?=<label|<fieldset|<button|</form>)', page, re.S)
    assert match, f"no field {field}"
    return [unescape(m) for m in re.findall(r'<div class="error"[^>]*>([^<]+)</div>', match.group(1))]


def _options(page: str) -> list[str]:
    select = re.search(r'<select id="region_id".*?</select>', page, re.S).group(0)
    return [unescape(label).strip() for label in re.findall(r"<option[^>]*>([^<]+)</option>", select)]


# --- creating a producer --------------------------------------------------------------------


def test_a_consultant_registers_a_producer_and_becomes_its_consultant(client, area, rows):
    consultant = make_user("consultant")
    login(client, consultant)
    form = client.get("/setup/producers/new")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'name="csrf_token"' in page and "<script" not in page
    for label in ("Hợp tác xã", "Tổ hợp tác", "Doanh nghiệp", "Hộ kinh doanh"):
        assert f">{label}</option>" in page

    response = client.post("/setup/producers/new", data=_producer_form(area.new_commune.id))
    assert response.status_code == 302
    producer = db.session.scalars(sa.select(Producer)).one()
    assert response.headers["Location"] == f"/setup/producers/{producer.id}"
    assert (producer.kind, producer.region_id, producer.gs1_company_prefix, producer.gln) == \
        (ProducerKind.COOPERATIVE, area.new_commune.id, PREFIX, None)
    membership = db.session.scalars(sa.select(Membership)).one()
    assert (membership.user_id, membership.role) == (consultant.id, MembershipRole.CONSULTANT)
    assert db.session.scalars(sa.select(AuditEntry.action)).all() == ["producer.create"]

    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã thêm chủ thể Hợp tác xã Tỏi An Hải" in shown
    assert "Đặc khu Lý Sơn, Tỉnh Quảng Ngãi" in shown
    assert f"/setup/producers/{producer.id}/products/new" in shown
    assert f"/account/producers/{producer.id}/handover" in shown
    assert f"/account/producers/{producer.id}/staff" in shown
    listed = client.get("/setup/producers").get_data(as_text=True)
    assert "Hợp tác xã Tỏi An Hải" in listed and "Thêm chủ thể" in listed


def test_regions_in_force_today_are_offered_by_province_and_history_on_request(client, area):
    login(client, make_user("consultant"))
    page = client.get("/setup/producers/new").get_data(as_text=True)
    assert _options(page) == ["— Chọn xã, phường —", "Xã Ia Grai", "Đặc khu Lý Sơn"]
    assert '<optgroup label="Tỉnh Gia Lai">' in page and '<optgroup label="Tỉnh Quảng Ngãi">' in page

    history = client.get("/setup/producers/new?history=1").get_data(as_text=True)
    assert "Xã An Hải (Huyện Lý Sơn) · đến 30/06/2025" in _options(history)
    # A producer may be registered where it was before the reform, when asked for.
    response = client.post("/setup/producers/new?history=1",
                           data=_producer_form(area.old_commune.id, gs1_company_prefix=""))
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Producer.region_id)).one() == area.old_commune.id


def test_an_officer_is_offered_and_allowed_only_its_own_regions(client, area, rows):
    officer = make_user("officer", regions=[area.province])
    login(client, officer)
    page = client.get("/setup/producers/new").get_data(as_text=True)
    assert _options(page) == ["— Chọn xã, phường —", "Đặc khu Lý Sơn"]

    before = rows()
    refused = client.post("/setup/producers/new", data=_producer_form(area.other_commune.id))
    assert refused.status_code == 422
    assert _error_under(refused.get_data(as_text=True), "region_id") == [
        "Địa bàn này nằm ngoài phạm vi phụ trách của bạn."]
    assert rows() == before

    accepted = client.post("/setup/producers/new", data=_producer_form(area.new_commune.id))
    assert accepted.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 0  # officers need none


def test_bad_codes_are_refused_under_their_fields_in_vietnamese_and_nothing_is_written(
        client, area, rows):
    login(client, make_user("consultant"))
    before = rows()
    cases = {
        "tax_code": ("4300000016", "Mã số thuế không hợp lệ: phải gồm 10 chữ số (hoặc 13 chữ số "
                                   "với đơn vị phụ thuộc) và đúng chữ số kiểm tra."),
        "gs1_company_prefix": ("8941234", "Mã doanh nghiệp GS1 Việt Nam phải bắt đầu bằng 893."),
        "gln": ("8939911000014", "Số kiểm tra của GLN không đúng (phải là 9)."),
        "email": ("htx@", "Địa chỉ email không hợp lệ."),
        "name": ("", "Vui lòng điền mục này."),
        "region_id": ("", "Vui lòng chọn địa bàn."),
    }
    for field, (value, message) in cases.items():
        response = client.post("/setup/producers/new",
                               data=_producer_form(area.new_commune.id, **{field: value}))
        page = response.get_data(as_text=True)
        assert response.status_code == 422, field
        assert _error_under(page, field) == [message], field
        assert "Vui lòng sửa các lỗi bên dưới." in page
    short_gln = client.post("/setup/producers/new",
                            data=_producer_form(area.new_commune.id, gln="893991100001"))
    assert _error_under(short_gln.get_data(as_text=True), "gln") == ["GLN gồm 13 chữ số."]
    unknown = client.post("/setup/producers/new", data=_producer_form(area.new_commune.id,
                                                                      region_id="999999"))
    assert _error_under(unknown.get_data(as_text=True), "region_id") == ["Không tìm thấy địa bàn này."]
    assert rows() == before


def test_a_taken_tax_code_is_refused_under_its_field(client, area, rows):
    taken = tax_code()
    make_producer(area.new_commune, tax_code=taken)
    db.session.commit()
    login(client, make_user("consultant"))
    before = rows()
    response = client.post("/setup/producers/new",
                           data=_producer_form(area.new_commune.id, tax_code=taken))
    assert response.status_code == 422
    assert _error_under(response.get_data(as_text=True), "tax_code") == [
        "Mã số thuế này đã được đăng ký cho chủ thể khác."]
    assert rows() == before


def test_a_valid_gln_is_kept(client, area):
    login(client, make_user("admin"))
    response = client.post("/setup/producers/new",
                           data=_producer_form(area.new_commune.id, gln="8939911000019"))
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Producer.gln)).one() == "8939911000019"


# --- who may do what ------------------------------------------------------------------------


def test_a_producer_owner_may_edit_its_own_producer_but_create_none(client, area, rows):
    producer = make_producer(area.new_commune, name="HTX Cũ")
    owner = make_user("producer", producer=producer)
    foreign = make_producer(area.new_commune, name="HTX Khác")
    db.session.commit()
    login(client, owner)
    before = rows()
    assert client.get("/setup/producers/new").status_code == 403
    assert client.post("/setup/producers/new", data=_producer_form(area.new_commune.id)).status_code == 403
    assert rows() == before
    listed = client.get("/setup/producers").get_data(as_text=True)
    assert "HTX Cũ" in listed and "HTX Khác" not in listed and "Thêm chủ thể" not in listed

    form = client.get(f"/setup/producers/{producer.id}/edit").get_data(as_text=True)
    assert 'value="HTX Cũ"' in form
    assert 'id="region_id"' not in form and "Chỉ cán bộ quản lý mới đổi được địa bàn" in form
    saved = client.post(f"/setup/producers/{producer.id}/edit", data=_producer_form(
        area.new_commune.id, name="HTX Mới Tên", tax_code=producer.tax_code,
        region_id=str(area.other_commune.id)))
    assert saved.status_code == 302
    db.session.refresh(producer)
    # The region sent along is not the owner's to change: the rest is saved.
    assert (producer.name, producer.region_id) == ("HTX Mới Tên", area.new_commune.id)

    assert client.get(f"/setup/producers/{foreign.id}").status_code == 403
    assert client.get(f"/setup/producers/{foreign.id}/edit").status_code == 403
    assert client.post(f"/setup/producers/{foreign.id}/edit",
                       data=_producer_form(area.new_commune.id, name="Chiếm")).status_code == 403
    db.session.refresh(foreign)
    assert foreign.name == "HTX Khác"


def test_a_consultant_may_not_touch_a_producer_it_is_not_assigned_to(client, area, rows):
    mine = make_producer(area.new_commune, name="HTX Của Tôi")
    theirs = make_producer(area.new_commune, name="HTX Người Khác")
    theirs_product = make_product(theirs)
    consultant = make_user("consultant", producer=mine)
    db.session.commit()
    login(client, consultant)
    before = rows()
    for url in (f"/setup/producers/{theirs.id}", f"/setup/producers/{theirs.id}/edit",
                f"/setup/producers/{theirs.id}/products/new", f"/setup/products/{theirs_product.id}",
                f"/setup/products/{theirs_product.id}/edit"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"/setup/producers/{theirs.id}/edit", _producer_form(area.new_commune.id)),
                      (f"/setup/producers/{theirs.id}/products/new",
                       {"group": "food", "name_vi": "Chen vào"}),
                      (f"/setup/products/{theirs_product.id}/edit",
                       {"group": "food", "name_vi": "Đổi tên"}),
                      (f"/setup/products/{theirs_product.id}/gtin", {})):
        assert client.post(url, data=data).status_code == 403, url
    assert rows() == before
    listed = client.get("/setup/producers").get_data(as_text=True)
    assert "HTX Của Tôi" in listed and "HTX Người Khác" not in listed


def test_only_an_officer_moves_a_producer_and_only_inside_its_regions(client, area):
    producer = make_producer(area.new_commune)
    officer = make_user("officer", regions=[area.province])
    db.session.commit()
    login(client, officer)
    form = client.get(f"/setup/producers/{producer.id}/edit?history=1").get_data(as_text=True)
    assert "Xã An Hải (Huyện Lý Sơn) · đến 30/06/2025" in _options(form)
    moved = client.post(f"/setup/producers/{producer.id}/edit?history=1", data=_producer_form(
        area.old_commune.id, tax_code=producer.tax_code, name=producer.name))
    assert moved.status_code == 302
    db.session.refresh(producer)
    assert producer.region_id == area.old_commune.id
    # The old commune is no longer offered without history, but stays shown as the current one.
    form = client.get(f"/setup/producers/{producer.id}/edit").get_data(as_text=True)
    assert "Địa bàn hiện tại: Xã An Hải, Huyện Lý Sơn, Tỉnh Quảng Ngãi" in _options(form)
    refused = client.post(f"/setup/producers/{producer.id}/edit", data=_producer_form(
        area.other_commune.id, tax_code=producer.tax_code, name=producer.name))
    assert refused.status_code == 422
    assert _error_under(refused.get_data(as_text=True), "region_id") == [
        "Địa bàn này nằm ngoài phạm vi phụ trách của bạn."]
    db.session.refresh(producer)
    assert producer.region_id == area.old_commune.id


def test_the_consultant_loses_the_pages_at_the_handover(client, area):
    from traceability.accounts.services import issue_handover, redeem_claim

    producer = make_producer(area.new_commune)
    consultant = make_user("consultant", producer=producer)
    db.session.commit()
    login(client, consultant)
    page = client.get(f"/setup/producers/{producer.id}").get_data(as_text=True)
    assert "Chưa bàn giao" in page and "Bàn giao tài khoản cho chủ thể" in page
    _handover, secret = issue_handover(consultant, producer, days=7)
    redeem_claim(secret, {"full_name": "Trần Thị Hoa", "email": "hoa@antoi.vn",
                          "password": "toi-ly-son-2026", "password_confirm": "toi-ly-son-2026"})
    db.session.commit()
    assert client.get(f"/setup/producers/{producer.id}").status_code == 403
    assert client.get(f"/setup/producers/{producer.id}/edit").status_code == 403


# --- products -------------------------------------------------------------------------------


def test_a_product_with_its_photo_is_added_and_the_photo_is_re_encoded(client, area, upload_folder):
    producer = make_producer(area.new_commune, gs1_company_prefix=PREFIX)
    consultant = make_user("consultant", producer=producer)
    db.session.commit()
    login(client, consultant)
    assert "Thêm sản phẩm" in client.get(f"/setup/producers/{producer.id}/products/new").get_data(as_text=True)
    response = client.post(f"/setup/producers/{producer.id}/products/new", data={
        "group": "food", "name_vi": "Tỏi cô đơn Lý Sơn", "name_en": "Ly Son single-clove garlic",
        "description_vi": "Tỏi trồng trên cát biển.", "standards": "VietGAP",
        "shelf_life_days": "365",
        "image": (io.BytesIO(jpeg_bytes((3000, 2000))), "IMG_0001.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    product = db.session.scalars(sa.select(Product)).one()
    assert (product.group, product.name_en, product.shelf_life_days, product.gtin) == \
        (ProductGroup.FOOD, "Ly Son single-clove garlic", 365, None)
    assert product.image_path.endswith(".jpg")
    with client.get(f"/media/{product.image_path}") as stored:
        image = Image.open(io.BytesIO(stored.data))
        assert max(image.size) == 1600  # shrunk
        assert not image.getexif().get_ifd(0x8825)  # no GPS kept
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"/media/{product.image_path}?w=480" in page
    assert "Đã thêm sản phẩm Tỏi cô đơn Lý Sơn." in page
    assert "Cấp mã GTIN" in page
    assert f"/producer/products/{product.id}/batches/new" in page
    actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["product.create", "product.image"]


def test_a_refused_photo_leaves_no_product_behind(client, area, rows):
    producer = make_producer(area.new_commune)
    login(client, make_user("consultant", producer=producer))
    before = rows()
    response = client.post(f"/setup/producers/{producer.id}/products/new", data={
        "group": "food", "name_vi": "Tỏi", "shelf_life_days": "0",
        "image": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _error_under(page, "shelf_life_days") == ["Phải từ 1 đến 36500 ngày."]
    response = client.post(f"/setup/producers/{producer.id}/products/new", data={
        "group": "food", "name_vi": "Tỏi cô đơn",
        "image": (io.BytesIO(b"MZ\x90\x00 not an image"), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert _error_under(response.get_data(as_text=True), "image") == ["Chỉ nhận ảnh JPEG, PNG hoặc WebP."]
    assert rows() == before


def test_an_assigned_gtin_cannot_be_changed_from_the_form(client, area):
    producer = make_producer(area.new_commune, gs1_company_prefix=PREFIX)
    product = make_product(producer, gtin=make_gtin13(PREFIX, 5), name_vi="Tỏi")
    login(client, make_user("consultant", producer=producer))
    form = client.get(f"/setup/products/{product.id}/edit").get_data(as_text=True)
    assert f'value="{make_gtin13(PREFIX, 5)}"' in form
    refused = client.post(f"/setup/products/{product.id}/edit", data={
        "group": "food", "name_vi": "Tỏi mới", "gtin": make_gtin13(PREFIX, 6)})
    assert refused.status_code == 422
    assert _error_under(refused.get_data(as_text=True), "gtin") == [
        "Không thể đổi GTIN đã gán: mã đã in phải tiếp tục truy xuất được."]
    db.session.refresh(product)
    assert (product.name_vi, product.gtin) == ("Tỏi", "0" + make_gtin13(PREFIX, 5))
    saved = client.post(f"/setup/products/{product.id}/edit", data={
        "group": "drinks", "name_vi": "Tỏi mới", "gtin": make_gtin13(PREFIX, 5)})
    assert saved.status_code == 302
    db.session.refresh(product)
    assert (product.group, product.name_vi) == (ProductGroup.DRINKS, "Tỏi mới")


# --- GTIN and codes -------------------------------------------------------------------------


def test_allocating_a_gtin_shows_its_ean13_and_the_qr_follows_it(client, area):
    producer = make_producer(area.new_commune, gs1_company_prefix=PREFIX)
    product = make_product(producer, name_vi="Tỏi cô đơn")
    login(client, make_user("consultant", producer=producer))
    before = client.get(f"/setup/products/{product.id}").get_data(as_text=True)
    assert f"https://trace.example.vn/t/{product.trace_code}" in before
    assert "ean13.svg" not in before
    old_qr = client.get(f"/api/v1/products/{product.id}/qr.png")
    assert old_qr.headers["Cache-Control"] == "private, no-cache" and old_qr.headers["ETag"]

    response = client.post(f"/setup/products/{product.id}/gtin")
    assert response.status_code == 302
    db.session.refresh(product)
    gtin13 = make_gtin13(PREFIX, 0)
    assert product.gtin == "0" + gtin13
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Đã cấp GTIN {gtin13} cho sản phẩm." in page
    assert f'src="/api/v1/products/{product.id}/ean13.svg"' in page
    assert f'href="/api/v1/products/{product.id}/ean13.png"' in page
    assert f"https://trace.example.vn/01/0{gtin13}" in page
    assert "Cấp mã GTIN" not in page
    # The images the page shows, through the web session.
    with client.get(f"/api/v1/products/{product.id}/ean13.png") as ean:
        [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(ean.data)))
        assert (barcode.format, barcode.text) == (zxingcpp.BarcodeFormat.EAN13, gtin13)
    # The browser's copy of the old QR is not reused: it now carries the GTIN.
    revalidated = client.get(f"/api/v1/products/{product.id}/qr.png",
                             headers={"If-None-Match": old_qr.headers["ETag"]})
    assert revalidated.status_code == 200
    [qr] = zxingcpp.read_barcodes(Image.open(io.BytesIO(revalidated.data)))
    assert qr.text == f"https://trace.example.vn/01/0{gtin13}"
    same = client.get(f"/api/v1/products/{product.id}/qr.png",
                      headers={"If-None-Match": revalidated.headers["ETag"]})
    assert same.status_code == 304

    again = client.post(f"/setup/products/{product.id}/gtin")
    assert again.status_code == 422
    assert f"Sản phẩm này đã có GTIN 0{gtin13}." in again.get_data(as_text=True)


def test_without_a_gs1_prefix_the_page_says_so_and_links_to_the_producer_form(client, area, rows):
    producer = make_producer(area.new_commune)  # no prefix
    product = make_product(producer)
    login(client, make_user("consultant", producer=producer))
    page = client.get(f"/setup/products/{product.id}").get_data(as_text=True)
    edit_link = f'href="/setup/producers/{producer.id}/edit#gs1_company_prefix"'
    assert "Chủ thể chưa có mã doanh nghiệp GS1 nên chưa cấp được GTIN." in page and edit_link in page

    before = rows()
    refused = client.post(f"/setup/products/{product.id}/gtin")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Chủ thể chưa có mã doanh nghiệp GS1. Hãy đăng ký với GS1 Việt Nam" in page
    assert edit_link in page
    assert rows() == before
    db.session.refresh(product)
    assert product.gtin is None


def test_an_inspector_may_view_the_pages_but_change_nothing(client, area):
    producer = make_producer(area.new_commune, gs1_company_prefix=PREFIX)
    product = make_product(producer)
    inspector = make_user("inspector", regions=[area.province])
    db.session.commit()
    login(client, inspector)
    page = client.get(f"/setup/producers/{producer.id}").get_data(as_text=True)
    assert "Chỉ xem" in page and "Sửa thông tin" not in page and "Thêm sản phẩm" not in page
    assert "Bàn giao tài khoản cho chủ thể" not in page
    product_page = client.get(f"/setup/products/{product.id}").get_data(as_text=True)
    assert "Cấp mã GTIN" not in product_page
    assert client.post(f"/setup/products/{product.id}/gtin").status_code == 403
    assert client.get("/setup/producers/new").status_code == 403


# --- forms with CSRF, and English -----------------------------------------------------------


def test_the_forms_need_their_csrf_token(database_url, area):
    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    consultant = make_user("consultant")
    producer = make_producer(area.new_commune, gs1_company_prefix=PREFIX)
    product = make_product(producer)
    db.session.add(Membership(user_id=consultant.id, producer_id=producer.id,
                              role=MembershipRole.CONSULTANT))
    db.session.commit()
    try:
        login(client, consultant)
        refused = client.post("/setup/producers/new", data=_producer_form(area.new_commune.id))
        assert refused.status_code == 400
        assert client.post(f"/setup/products/{product.id}/gtin").status_code == 400
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count(Producer.id))) == 1
        assert db.session.get(Product, product.id).gtin is None

        form = client.get("/setup/producers/new").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        accepted = client.post("/setup/producers/new",
                               data={**_producer_form(area.new_commune.id, gs1_company_prefix=""),
                                     "csrf_token": token})
        assert accepted.status_code == 302
        product_page = client.get(f"/setup/products/{product.id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', product_page).group(1)
        assert client.post(f"/setup/products/{product.id}/gtin",
                           data={"csrf_token": token}).status_code == 302
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_pages_read_in_english_when_asked(client, area):
    login(client, make_user("consultant"))
    page = client.get("/setup/producers/new?lang=en").get_data(as_text=True)
    assert "Add a producer" in page and "Cooperative" in page
    refused = client.post("/setup/producers/new?lang=en",
                          data=_producer_form(area.new_commune.id, gln="8939911000014"))
    assert _error_under(refused.get_data(as_text=True), "gln") == [
        "The GLN's check digit is wrong (it must be 9)."]
