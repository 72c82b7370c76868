"""Importing an OCOP register: the template, a dry run listing every row's problems in
Vietnamese, all-or-nothing, and idempotence."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from tests.factories import make_token, tax_code
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
    assert csv_template.data.decode("utf-8-sig").splitlines()[0] == ",".join(HEADINGS)


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
    assert "ngoài phạm vi quản lý" in errors[10]
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
    from traceability.oversight import imports

    calls = {"n": 0}
    real = imports.register_certificate

    def failing(product, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise imports.ValidationFailed("Lỗi giả lập", {"file": ["Lỗi giả lập"]})
        return real(product, data)

    monkeypatch.setattr(imports, "register_certificate", failing)
    response = _post(client, area.officer, "imports", _xlsx(good_rows))
    assert response.status_code == 422
    _db.session.expire_all()
    assert calls["n"] == 3 and _counts() == (0, 0, 0)
