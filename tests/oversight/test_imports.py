"""Importing an OCOP register: the template, a dry run listing every row's problems in
Vietnamese, all-or-nothing, and idempotence."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from tests.factories import make_certificate, make_producer, make_product, make_token, make_user, tax_code
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.models import Certificate, Producer, Product
from traceability.oversight.imports import COLUMNS

HEADINGS = [heading for _k, heading, _r in COLUMNS]


def _counts() -> tuple[int, int, int]:
    return tuple(_db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Producer, Product, Certificate))  # type: ignore[return-value]


def _row(area, tax: str, product: str, decision: str, **kw) -> list:
    values = {"producer_name": "Hợp tác xã Nông sản Thử", "tax_code": tax, "producer_kind": "",
              "address": "Thôn 1", "region": area.a.code, "product_name": product, "group": "Thực phẩm",
              "stars": 4, "score": 75, "decision_number": decision, "issuing_authority": "",
              "issued_on": date(2025, 3, 15), "expires_on": None}
    values.update(kw)
    return [values[key] for key, _h, _r in COLUMNS]


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADINGS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _post(client, user, path: str, content: bytes, name: str = "danh-sach.xlsx"):
    headers = {"Authorization": f"Bearer {make_token(user)}"}
    _db.session.commit()
    return client.post(f"/api/v1/oversight/{path}", headers=headers,
                       data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


@pytest.fixture()
def good_rows(area):
    t1, t2 = tax_code(), tax_code()
    return [
        _row(area, t1, "Tỏi đen", "10/QĐ-UBND"),
        _row(area, t1, "Tỏi đen", "11/QĐ-UBND", issued_on="15/03/2026", stars="5 sao", score="92,5"),
        _row(area, t1, "Hành tím", "12/QĐ-UBND", group="Đồ uống", stars=3, score=None),
        _row(area, t2, "Nón lá", "13/QĐ-UBND", producer_name="Hộ kinh doanh Nón lá Thử",
             group="Thủ công mỹ nghệ", stars=3, score="55"),
    ]


def test_the_template_has_the_vietnamese_headings_and_a_guide(client, area):
    headers = {"Authorization": f"Bearer {make_token(area.officer)}"}
    _db.session.commit()
    response = client.get("/api/v1/oversight/imports/template", headers=headers)
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in wb.worksheets[0][1]] == HEADINGS
    assert "Hướng dẫn" in wb.sheetnames
    csv_template = client.get("/api/v1/oversight/imports/template?format=csv", headers=headers)
    heading, example = csv_template.data.decode("utf-8-sig").splitlines()
    assert heading == ";".join(HEADINGS)  # the exports' Vietnamese CSV convention
    assert ";4;75,5;" in example and ";15/03/2025;15/03/2028" in example


def test_dry_run_writes_nothing_and_plans_every_row(client, area, good_rows):
    response = _post(client, area.officer, "imports/dry-run", _xlsx(good_rows))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] is True
    assert body["counts"] == {"rows": 4, "errors": 0, "create": 4, "unchanged": 0}
    assert _counts() == (0, 0, 0)


def test_dry_run_lists_every_rows_problems_in_vietnamese(client, area, good_rows):
    bad = good_rows + [
        _row(area, "123", "Sai", "20/QĐ", stars=2, issued_on="31/02/2025"),
        _row(area, tax_code(), "Không địa bàn", "21/QĐ", region="XYZ", group="Điện tử"),
        _row(area, tax_code(), "Điểm lệch", "22/QĐ", stars=5, score=80),
        _row(area, good_rows[0][1], "Tỏi đen", "10/QĐ-UBND"),          # same key as row 2
        _row(area, tax_code(), "Ngoài phạm vi", "23/QĐ", region=area.b.code),
        _row(area, tax_code(), "", "24/QĐ"),
    ]
    body = _post(client, area.officer, "imports/dry-run", _xlsx(bad)).get_json()
    assert body["ok"] is False and body["counts"]["errors"] == 6
    errors = {r["number"]: " ".join(r["errors"]) for r in body["rows"] if r["errors"]}
    assert sorted(errors) == [6, 7, 8, 9, 10, 11]
    assert "Mã số thuế không hợp lệ" in errors[6]
    assert "Số sao phải là 3, 4 hoặc 5" in errors[6]
    assert "không đúng định dạng ngày" in errors[6]
    assert "Không tìm thấy địa bàn «XYZ»" in errors[7] and "Nhóm sản phẩm «Điện tử»" in errors[7]
    assert "148/QĐ-TTg" in errors[8]
    assert "Trùng với dòng 2" in errors[9]
    assert "nằm ngoài phạm vi" in errors[10]
    assert "Thiếu «Tên sản phẩm»" in errors[11]


def test_a_file_with_any_bad_row_imports_nothing(client, area, good_rows):
    bad = good_rows + [_row(area, "123", "Sai", "20/QĐ")]
    response = _post(client, area.officer, "imports", _xlsx(bad))
    assert response.status_code == 422
    body = response.get_json()
    assert "row_6" in body["errors"]
    assert _counts() == (0, 0, 0)


def test_import_creates_the_register_and_reimporting_changes_nothing(client, area, good_rows):
    content = _xlsx(good_rows)
    response = _post(client, area.officer, "imports", content)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == {"producers": 2, "products": 3, "certificates": 4}
    assert _counts() == (2, 3, 4)
    garlic = _db.session.scalar(sa.select(Product).where(Product.name_vi == "Tỏi đen"))
    old, new = sorted(garlic.certificates, key=lambda c: c.issued_on)
    assert (old.superseded_by_id, new.stars, str(new.score)) == (new.id, 5, "92.50")
    assert new.issuing_level.value == "central" and old.issuing_authority == "Ủy ban nhân dân tỉnh Thử"
    assert old.expires_on == date(2028, 3, 15)
    hat = _db.session.scalar(sa.select(Producer).where(Producer.name == "Hộ kinh doanh Nón lá Thử"))
    assert hat.kind.value == "household"
    again = _post(client, area.officer, "imports", content)
    assert again.status_code == 201
    assert again.get_json()["counts"] == {"rows": 4, "errors": 0, "create": 0, "unchanged": 4}
    assert _counts() == (2, 3, 4)


def test_csv_with_semicolons_and_vietnamese_dates_is_accepted(client, area):
    lines = [";".join(HEADINGS),
             ";".join(str(v) if v is not None else "" for v in
                      _row(area, tax_code(), "Mật ong", "30/QĐ-UBND", issued_on="01/06/2025"))]
    content = ("\ufeff" + "\r\n".join(lines)).encode("utf-8")
    response = _post(client, area.officer, "imports", content, name="so-ocop.csv")
    assert response.status_code == 201, response.get_json()
    assert _counts() == (1, 1, 1)


def test_unreadable_or_wrong_files_get_a_clear_error(client, area):
    assert _post(client, area.officer, "imports/dry-run", b"not a zip", "x.xlsx").status_code == 422
    wrong = _post(client, area.officer, "imports/dry-run", b"a,b\n1,2\n", "x.csv").get_json()
    assert wrong["ok"] is False and wrong["file_errors"][0].startswith("Thiếu cột")
    assert _post(client, area.officer, "imports/dry-run", b"x", "x.pdf").status_code == 422


def test_inspectors_cannot_import(client, area, good_rows):
    assert _post(client, area.inspector, "imports", _xlsx(good_rows)).status_code == 403


def test_a_failure_in_the_middle_of_the_import_leaves_nothing_behind(client, area, good_rows, monkeypatch):
    from traceability.oversight import imports, services

    calls = {"n": 0}
    real = services.register_certificate

    def failing(product, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise imports.ValidationFailed("Lỗi giả lập", {"file": ["Lỗi giả lập"]})
        return real(product, data)

    monkeypatch.setattr(services, "register_certificate", failing)
    response = _post(client, area.officer, "imports", _xlsx(good_rows))
    assert response.status_code == 422
    # Certificates are written oldest first: rows 2, 4, 5, then row 3 (issued a year later).
    assert response.get_json()["errors"] == {"row_5": ["Lỗi giả lập"]}
    _db.session.expire_all()
    assert calls["n"] == 4 and _counts() == (0, 0, 0)


def _audit_rows() -> list[tuple]:
    from traceability.accounts.models import AuditEntry

    return [(e.action, e.object_type, e.actor_id, e.details)
            for e in _db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]


def test_the_dry_run_refuses_each_row_the_import_refuses_with_the_same_message(client, area):
    """Rows only the services can judge: a score outside its stars' band, a future issue
    date, an expiry before issue, a certificate older than the product's current one, a new
    product for a producer already handed over (the officer may certify, no longer edit)."""
    today = local_today()
    current = make_certificate(make_product(make_producer(area.a), name_vi="Mắm nhum"),
                               issued_on=today - timedelta(days=30))
    owned = make_producer(area.a)
    make_user("producer", producer=owned)
    rows = [
        _row(area, tax_code(), "Tỏi đen", "40/QĐ"),
        _row(area, tax_code(), "Điểm cao", "41/QĐ", stars=4, score=95),
        _row(area, tax_code(), "Ngày tới", "42/QĐ", issued_on=today + timedelta(days=3)),
        _row(area, tax_code(), "Hết hạn sớm", "43/QĐ", expires_on=date(2025, 3, 1)),
        _row(area, current.product.producer.tax_code, "Mắm nhum", "44/QĐ",
             issued_on=today - timedelta(days=60)),
        _row(area, owned.tax_code, "Sản phẩm mới", "45/QĐ"),
        _row(area, tax_code(), "Điểm lạ", "46/QĐ", score="NaN"),
    ]
    content = _xlsx(rows)
    before, audited = _counts(), _audit_rows()

    checked = _post(client, area.officer, "imports/dry-run", content).get_json()
    assert checked["ok"] is False
    dry = {f"row_{r['number']}": r["errors"] for r in checked["rows"] if r["errors"]}
    assert sorted(dry) == ["row_3", "row_4", "row_5", "row_6", "row_7", "row_8"]
    assert "không khớp hạng 4 sao" in dry["row_3"][0]
    assert dry["row_4"] == ["Ngày cấp không được ở tương lai."]
    assert dry["row_5"] == ["Ngày hết hạn phải sau ngày cấp."]
    assert dry["row_6"] == ["Ngày cấp mới không được trước ngày cấp của giấy chứng nhận cũ."]
    assert dry["row_7"] == ["Bạn không có quyền thực hiện thao tác này với chủ thể OCOP này."]
    assert dry["row_8"] == ["Điểm phải là một số từ 0 đến 100."]

    imported = _post(client, area.officer, "imports", content)
    assert imported.status_code == 422
    assert imported.get_json()["errors"] == dry
    _db.session.expire_all()
    assert _counts() == before and _audit_rows() == audited


def test_an_imported_row_is_audited_exactly_like_a_typed_one(client, area):
    """The import creates the producer, the product, the certificate and its re-evaluation
    through the services the API calls, so both leave the same audit rows."""
    officer = area.officer
    first, later = date(2025, 3, 15), date(2025, 9, 15)
    tax = tax_code()
    # The later certificate first in the file: the import still registers the older one first.
    content = _xlsx([_row(area, tax, "Tỏi đen", "51/QĐ", issued_on=later, score=80),
                     _row(area, tax, "Tỏi đen", "50/QĐ", issued_on=first)])
    assert _post(client, officer, "imports", content).status_code == 201
    imported = _audit_rows()

    _db.session.execute(sa.delete(sa.table("audit_log")))
    headers = {"Authorization": f"Bearer {make_token(officer)}"}
    _db.session.commit()
    producer = client.post("/api/v1/producers", headers=headers, json={
        "name": "Hợp tác xã Nông sản Thử", "kind": "cooperative", "tax_code": tax_code(),
        "address": "Thôn 1", "region_id": area.a.id}).get_json()
    product = client.post(f"/api/v1/producers/{producer['id']}/products", headers=headers,
                          json={"group": "food", "name_vi": "Tỏi đen"}).get_json()
    certificate = {"stars": 4, "score": "75", "issuing_level": "province",
                   "issuing_authority": "Ủy ban nhân dân tỉnh Thử"}
    old = client.post("/api/v1/oversight/certificates", headers=headers, json={
        **certificate, "product_id": product["id"], "decision_number": "50/QĐ",
        "issued_on": first.isoformat()}).get_json()
    new = client.post(f"/api/v1/oversight/certificates/{old['id']}/re-evaluation", headers=headers, json={
        **certificate, "score": "80", "decision_number": "51/QĐ", "issued_on": later.isoformat()})
    assert new.status_code == 201, new.get_json()
    _db.session.expire_all()
    typed = _audit_rows()

    assert [row[:2] for row in typed] == [
        ("producer.create", "producer"), ("product.create", "product"),
        ("certificate.register", "certificate"), ("certificate.re_evaluate", "certificate")]
    assert {row[2] for row in typed} == {officer.id}

    def without_ids(rows: list[tuple]) -> list[tuple]:
        return [(a, t, who, {k: v for k, v in d.items() if k != "supersedes"}) for a, t, who, d in rows]

    assert without_ids(imported) == without_ids(typed)
    assert imported[3][3]["supersedes"] == _db.session.scalar(
        sa.select(Certificate.id).where(Certificate.decision_number == "50/QĐ"))


def test_the_import_stays_inside_the_callers_transaction(area, good_rows):
    """Nothing is committed by the import itself, on SQLite too (where a savepoint opened
    before any write would otherwise be its own transaction): the caller's rollback undoes it,
    and a refused file leaves nothing even for a caller that commits anyway."""
    from traceability.errors import ValidationFailed
    from traceability.oversight.imports import run_import

    _db.session.commit()
    report = run_import(area.officer, "so.xlsx", _xlsx(good_rows))
    assert report.created == {"producers": 2, "products": 3, "certificates": 4}
    _db.session.rollback()
    assert _counts() == (0, 0, 0)

    with pytest.raises(ValidationFailed):
        run_import(area.officer, "so.xlsx", _xlsx(good_rows + [_row(area, tax_code(), "Sai", "9/QĐ", score=99)]))
    _db.session.commit()
    assert _counts() == (0, 0, 0)
