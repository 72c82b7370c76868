"""The periodic report says every value in words (statuses, verdicts, producer kinds, issuing
levels), never an enum's name: on the page, in the XLSX and in the CSV files."""
from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import load_workbook

from tests.factories import login
from tests.oversight.test_reports import PERIOD, world  # noqa: F401  (the hand-made province)
from traceability.accounts.services import HandoverStatus
from traceability.oversight.models import InspectionOutcome, NoticeStatus
from traceability.registry.models import CertificateStatus, IssuingLevel, ProducerKind, ProductGroup
from traceability.resolver.models import ReportStatus, ScanVerdict

# Every enum value a report row could carry if a label were forgotten.
RAW = {e.value for enum in (CertificateStatus, IssuingLevel, ProducerKind, ProductGroup, ReportStatus,
                            ScanVerdict, HandoverStatus, InspectionOutcome, NoticeStatus) for e in enum}


def _report(client, world, fmt: str, lang: str = "vi"):
    login(client, world.officer)
    query = f"start={PERIOD['start']}&end={PERIOD['end']}&format={fmt}&lang={lang}"
    response = client.get(f"/officer/reports?{query}", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response


def test_the_xlsx_has_words_where_the_database_has_enums(client, world):
    wb = load_workbook(io.BytesIO(_report(client, world, "xlsx").data))
    cells = {str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if v is not None}
    assert not cells & RAW, cells & RAW
    [report] = list(wb["Phản ánh hàng giả"].iter_rows(min_row=2, values_only=True))
    assert (report[3], report[6]) == ("Mã giả", "Mới")
    handover = wb["Bàn giao tài khoản"]
    assert handover.cell(row=1, column=5).value == "Loại hình chủ thể"
    assert {row[4] for row in handover.iter_rows(min_row=2, values_only=True)} == {"Hợp tác xã"}
    issued = wb["Cấp mới, đánh giá lại"]
    assert [(r[0], r[9]) for r in issued.iter_rows(min_row=2, values_only=True)] == [("Trà xanh", "Cấp tỉnh")]


def test_the_csv_files_have_the_same_words(client, world):
    archive = zipfile.ZipFile(io.BytesIO(_report(client, world, "csv").data))
    values = set()
    for name in archive.namelist():
        if not name.endswith(".csv"):
            continue  # the guide beside the CSV files
        for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")), delimiter=";"):
            values.update(row)
    assert not values & RAW, values & RAW
    assert {"Mã giả", "Mới", "Hợp tác xã", "Cấp tỉnh", "Đang chờ nhận bàn giao"} <= values


def test_the_report_on_the_page_has_the_same_words_and_fits_a_phone(client, world):
    html = _report(client, world, "html").get_data(as_text=True)
    assert "Phản ánh hàng giả" in html and ">Mã giả<" in html and ">Cấp tỉnh<" in html
    assert 'class="stack"' in html and 'data-label="Tình trạng bàn giao"' in html
    assert not any(f">{raw}<" in html for raw in RAW)


def test_the_english_report_translates_the_words_too(client, world):
    wb = load_workbook(io.BytesIO(_report(client, world, "xlsx", lang="en").data))
    [report] = list(wb["Counterfeit reports"].iter_rows(min_row=2, values_only=True))
    assert report[6] == "New"
    kinds = {row[4] for row in wb["Account handover"].iter_rows(min_row=2, values_only=True)}
    assert kinds == {"Cooperative"}
