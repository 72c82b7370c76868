"""Exports and letters for people: the periodic report's XLSX keeps numbers and dates as real
cells with formats; its CSV follows the Vietnamese convention (`;`, `92,5`, `30/11/2026`) and
says so in a guide beside the files; PDF letters are dated in Vietnam time."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pypdfium2
import pytest
from openpyxl import load_workbook

from tests.factories import login, make_certificate, make_producer, make_product, make_token
from traceability import clock
from traceability.extensions import db as _db
from traceability.render.handover_pdf import HandoverRecord, RecordProduct, render_handover_pdf

# 20:30 UTC on 30 November is 03:30 on 1 December in Vietnam (UTC+7).
LATE_EVENING_UTC = datetime(2026, 11, 30, 20, 30, tzinfo=timezone.utc)
TODAY = clock.local_today()
ISSUED = TODAY - timedelta(days=10)


@pytest.fixture()
def certified(area):
    producer = make_producer(area.a, name="Hợp tác xã Tỏi Lý Sơn")
    product = make_product(producer, name_vi="Tỏi đen")
    return make_certificate(product, stars=5, score=Decimal("92.50"), issued_on=ISSUED,
                            decision_number="11/QĐ-UBND")


def _report(client, officer, **params):
    headers = {"Authorization": f"Bearer {make_token(officer)}"}
    _db.session.commit()
    query = "&".join(f"{k}={v}" for k, v in {"start": (TODAY - timedelta(days=30)).isoformat(),
                                              "end": TODAY.isoformat(), **params}.items())
    response = client.get(f"/api/v1/oversight/reports/periodic?{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_the_workbook_keeps_numbers_and_dates_as_cells_with_formats(client, area, certified):
    book = load_workbook(io.BytesIO(_report(client, area.officer).data))
    issued = book["Cấp mới, đánh giá lại"]
    headings = [c.value for c in issued[1]]
    row = {h: cell for h, cell in zip(headings, issued[2])}
    assert row["Điểm"].value == 92.5 and row["Điểm"].data_type == "n"
    assert row["Điểm"].number_format == "0.00"
    assert row["Số sao"].value == 5 and row["Số sao"].number_format == "#,##0"
    assert row["Ngày cấp"].is_date and row["Ngày cấp"].value.date() == ISSUED
    assert row["Ngày cấp"].number_format == "DD/MM/YYYY"
    goal = book["Chỉ tiêu sản phẩm 4 sao"]
    share = dict(zip([c.value for c in goal[1]], goal[2]))["Tỷ lệ hoàn thành"]
    assert share.data_type == "n" and 0 <= share.value <= 1 and share.number_format == "0%"


def test_a_csv_section_follows_the_vietnamese_convention(client, area, certified):
    response = _report(client, area.officer, format="csv", section="cap-moi")
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    row = dict(zip(rows[0], rows[1]))
    assert row["Điểm"] == "92,5"
    assert row["Ngày cấp"] == ISSUED.strftime("%d/%m/%Y")
    assert row["Số sao"] == "5"
    goal = _report(client, area.officer, format="csv", section="chi-tieu").data.decode("utf-8-sig")
    shares = [line.split(";")[3] for line in goal.splitlines()[1:]]
    assert shares and all(share.endswith("%") and "." not in share for share in shares)


def test_the_csv_zip_says_which_convention_its_files_follow(client, area, certified):
    archive = zipfile.ZipFile(io.BytesIO(_report(client, area.officer, format="csv").data))
    guide = archive.read(archive.namelist()[0]).decode("utf-8-sig")
    assert archive.namelist()[0] == "00-huong-dan.txt"
    assert "dấu chấm phẩy (;)" in guide and "120,5" in guide and "giờ Việt Nam" in guide
    english = _report(client, area.officer, format="csv", lang="en")
    guide = zipfile.ZipFile(io.BytesIO(english.data)).read("00-huong-dan.txt").decode("utf-8-sig")
    assert "semicolons" in guide


def _pdf_text(pdf: bytes) -> str:
    return "".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf))


class _LateEvening(datetime):
    """The clock at 20:30 UTC on 30 November: already 1 December in Vietnam."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return LATE_EVENING_UTC.astimezone(tz) if tz else LATE_EVENING_UTC.replace(tzinfo=None)


def test_the_notice_letter_is_dated_in_vietnam_time(client, area, certified, monkeypatch):
    monkeypatch.setattr(clock, "datetime", _LateEvening)
    login(client, area.officer)
    response = client.get(f"/officer/certificates/{certified.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    assert "ngày 01 tháng 12 năm 2026" in text
    assert f"{certified.expires_on:%d/%m/%Y}" in text


def test_the_handover_record_shows_its_times_in_vietnam_time():
    record = HandoverRecord(
        number="BG-000001", made_on=LATE_EVENING_UTC, producer_name="Hợp tác xã Tỏi",
        producer_address="Xã An Hải", producer_tax_code=None, representative_name=None,
        issuer_name="Tư vấn Một", issuer_organisation=None, issuer_role="consultant",
        claim_url="https://trace.example.vn/claim/abc", default_validity_months=36,
        claim_expires_at=LATE_EVENING_UTC + timedelta(days=7),
        products=[RecordProduct("Tỏi đen", None, "T1", "https://trace.example.vn/t/T1",
                                date(2029, 12, 1))])
    text = _pdf_text(render_handover_pdf(record))
    assert "lập ngày 01/12/2026" in text
    assert "hết hạn lúc 03:30 ngày 08/12/2026" in text
    assert "01/12/2029" in text
