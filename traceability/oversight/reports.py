"""Officer dashboard figures and the periodic report (XLSX and CSV), scoped to regions."""
from __future__ import annotations

import io
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from .. import formats
from ..accounts.models import User
from ..accounts.services import HANDOVER_STATUS_LABELS, HandoverStatus, handover_statuses
from ..batches.models import Batch
from ..clock import VIETNAM, local_today
from ..codes.models import LabelRun
from ..errors import field_error
from ..extensions import db
from ..registry.labels import GROUP_LABELS, PRODUCER_KIND_LABELS
from ..registry.models import Certificate, CertificateStatus, Producer, Product, Region, RegionLevel
from ..registry.services import current_certificate, region_in_force_condition
from ..registry.status import certificate_status, stars_in_force, status_label
from ..render.cells import csv_value, vietnamese_csv, xlsx_cell
from ..resolver.models import CounterfeitReport, Scan
from ..resolver.trace import copy_suspected_condition, scan_window
from .models import Inspection, InspectionOutcome
from .services import (
    FOLLOW_UP_BUCKETS,
    LEVEL_LABELS,
    OUTCOME_LABELS,
    REPORT_STATUS_LABELS,
    VERDICT_LABELS,
    bucket_counts,
    report_regions,
)

DEFAULT_FOUR_STAR_TARGET = 1


def four_star_target() -> int:
    """Products of 4★ or more wanted in each commune (setting OCOP_FOUR_STAR_TARGET_PER_COMMUNE)."""
    return int(current_app.config.get("OCOP_FOUR_STAR_TARGET_PER_COMMUNE", DEFAULT_FOUR_STAR_TARGET))


# --- scope ---------------------------------------------------------------------------------

def _in_scope(stmt: sa.Select, regions: set[int] | None) -> sa.Select:
    return stmt if regions is None else stmt.where(Producer.region_id.in_(regions))


def _products(regions: set[int] | None) -> list[Product]:
    stmt = (sa.select(Product).join(Producer, Product.producer_id == Producer.id)
            .options(selectinload(Product.certificates),
                     selectinload(Product.producer).selectinload(Producer.region))
            .order_by(Producer.name, Product.name_vi, Product.id))
    return list(db.session.scalars(_in_scope(stmt, regions)))


def _regions_by_id() -> dict[int, Region]:
    return {r.id: r for r in db.session.scalars(sa.select(Region))}


def area_of(region: Region, regions: dict[int, Region]) -> Region:
    """The unit directly under the province (a district before the 2025 reform, a commune after)."""
    node = region
    while node.parent_id is not None:
        parent = regions[node.parent_id]
        if parent.level == RegionLevel.PROVINCE:
            return node
        node = parent
    return node


def product_stars(product: Product, on: date) -> int:
    """Stars of the product's certificate in force on `on`, 0 when there is none."""
    return stars_in_force(current_certificate(product), on) or 0


# --- dashboard -------------------------------------------------------------------------

@dataclass
class Dashboard:
    today: date
    product_count: int = 0
    by_area: list[dict[str, Any]] = field(default_factory=list)    # area, group, s3, s4, s5, none
    by_stars: dict[int, int] = field(default_factory=dict)
    certificates: dict[str, int] = field(default_factory=dict)     # per follow-up list (FOLLOW_UP_BUCKETS)
    handover: dict[HandoverStatus, int] = field(default_factory=dict)
    without_label_run: list[Product] = field(default_factory=list)
    short_runs: list[tuple[LabelRun, Product, Certificate]] = field(default_factory=list)
    scans_by_month: list[tuple[str, int]] = field(default_factory=list)
    counterfeit_by_status: dict[str, int] = field(default_factory=dict)
    copy_flags: list[dict[str, Any]] = field(default_factory=list)
    target: int = DEFAULT_FOUR_STAR_TARGET
    communes: list[dict[str, Any]] = field(default_factory=list)   # name, four_star, met

    @property
    def communes_met(self) -> int:
        return sum(1 for c in self.communes if c["met"])


def certificate_counts(regions: set[int] | None, today: date) -> dict[str, int]:
    """How many certificates each follow-up list holds (the same SQL as the lists)."""
    return bucket_counts(regions, today, FOLLOW_UP_BUCKETS)


def coverage(products: list[Product]) -> tuple[list[Product], list[tuple[LabelRun, Product, Certificate]]]:
    ids = [p.id for p in products]
    runs = list(db.session.execute(
        sa.select(LabelRun, Batch.product_id).join(Batch, LabelRun.batch_id == Batch.id)
        .where(Batch.product_id.in_(ids)).order_by(LabelRun.id)))
    with_runs = {pid for _run, pid in runs}
    by_id = {p.id: p for p in products}
    short: list[tuple[LabelRun, Product, Certificate]] = []
    for run, pid in runs:
        cert = current_certificate(by_id[pid])
        if cert is not None and cert.revoked_on is None and run.guaranteed_until < cert.expires_on:
            short.append((run, by_id[pid], cert))
    return [p for p in products if p.id not in with_runs], short


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local (Vietnam) days [start, end] as UTC instants [from, to)."""
    lo = datetime.combine(start, time(), VIETNAM).astimezone(timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), time(), VIETNAM).astimezone(timezone.utc)
    return lo, hi


def _local_month(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(VIETNAM).strftime("%Y-%m")


def scans_by_month(product_ids: list[int], start: date, end: date) -> list[tuple[str, int]]:
    lo, hi = _utc_bounds(start, end)
    counts: Counter[str] = Counter(
        _local_month(at) for at in db.session.scalars(
            sa.select(Scan.at).where(Scan.product_id.in_(product_ids), Scan.at >= lo, Scan.at < hi)))
    months: list[str] = []
    cursor = date(start.year, start.month, 1)
    while cursor <= end:
        months.append(cursor.strftime("%Y-%m"))
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return [(m, counts.get(m, 0)) for m in months]


def copy_flags(product_ids: list[int], start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:
    """Unit serials that look copied, by the trace page's own rule (trace.copy_suspected):
    possible copies of one genuine label."""
    networks = sa.func.count(sa.distinct(Scan.network_hash))
    windows = sa.func.count(sa.distinct(scan_window(Scan.at, Scan.network_hash)))
    stmt = (sa.select(Scan.product_id, Scan.batch_id, Scan.serial_index, sa.func.min(Scan.code),
                      sa.func.count(Scan.id), networks)
            .where(Scan.product_id.in_(product_ids), Scan.serial_index.is_not(None))
            .group_by(Scan.product_id, Scan.batch_id, Scan.serial_index)
            .having(copy_suspected_condition(current_app.config, windows, networks))
            .order_by(sa.func.count(Scan.id).desc()))
    if start and end:
        lo, hi = _utc_bounds(start, end)
        stmt = stmt.where(Scan.at >= lo, Scan.at < hi)
    return [{"product_id": pid, "batch_id": bid, "serial_index": idx, "code": code, "scans": n,
             "networks": nets} for pid, bid, idx, code, n, nets in db.session.execute(stmt)]


def commune_progress(products: list[Product], regions: set[int] | None, today: date,
                     target: int) -> list[dict[str, Any]]:
    """Communes in scope that are in force today or hold a producer, with their 4★+ products."""
    four: Counter[int] = Counter()
    holding: set[int] = set()
    for product in products:
        holding.add(product.producer.region_id)
        if product_stars(product, today) >= 4:
            four[product.producer.region_id] += 1
    stmt = sa.select(Region).where(Region.level == RegionLevel.COMMUNE).where(sa.or_(
        Region.id.in_(holding), region_in_force_condition(today)))
    if regions is not None:
        stmt = stmt.where(Region.id.in_(regions))
    rows = [{"region": r, "name": r.name, "four_star": four.get(r.id, 0),
             "met": four.get(r.id, 0) >= target} for r in db.session.scalars(stmt.order_by(Region.code))]
    return rows


def dashboard(user: User, region_id: int | None = None, today: date | None = None) -> Dashboard:
    today = today or local_today()
    regions = report_regions(user, region_id)
    products = _products(regions)
    all_regions = _regions_by_id()
    board = Dashboard(today=today, product_count=len(products), target=four_star_target())
    cells: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    for product in products:
        stars = product_stars(product, today)
        board.by_stars[stars] = board.by_stars.get(stars, 0) + 1
        area = area_of(product.producer.region, all_regions)
        cells[(area.name, product.group.value)][stars] += 1
    for (area, group), counter in sorted(cells.items()):
        board.by_area.append({"area": area, "group": group, "group_label": GROUP_LABELS[group],
                              "s3": counter[3], "s4": counter[4], "s5": counter[5],
                              "none": counter[0], "total": sum(counter.values())})
    board.certificates = certificate_counts(regions, today)
    statuses = Counter(handover_statuses(sorted({p.producer_id for p in products})).values())
    board.handover = {state: statuses[state] for state in HandoverStatus}
    board.without_label_run, board.short_runs = coverage(products)
    product_ids = [p.id for p in products]
    first_month = date(today.year - 1, today.month, 1) if today.month == 12 else \
        date(today.year - 1, today.month + 1, 1)
    board.scans_by_month = scans_by_month(product_ids, first_month, today)
    statuses = db.session.execute(
        sa.select(CounterfeitReport.status, sa.func.count(CounterfeitReport.id))
        .where(CounterfeitReport.product_id.in_(product_ids) if regions is not None else sa.true())
        .group_by(CounterfeitReport.status))
    board.counterfeit_by_status = {s.value: n for s, n in statuses}
    board.copy_flags = copy_flags(product_ids)
    board.communes = commune_progress(products, regions, today, board.target)
    return board


# --- the periodic report --------------------------------------------------------------------

@dataclass
class Column:
    heading: str
    kind: str = "text"   # text, int, date, decimal, percent


@dataclass
class Section:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class PeriodicReport:
    start: date
    end: date
    region_name: str
    sections: list[Section]


def _status_label(cert: Certificate | None, on: date) -> str:
    if cert is None:
        return str(_t("Chưa có giấy chứng nhận"))
    return status_label(certificate_status(cert, on))


def _t(text: str) -> str:
    """Translate report text now, in the requesting user's language.

    `_t` is an extraction keyword (see traceability/translations/update_en.py), so every
    literal passed to it reaches the catalogue."""
    from flask_babel import gettext

    return gettext(text)


def periodic_report(user: User, start: date, end: date, region_id: int | None = None) -> PeriodicReport:
    if end < start:
        raise field_error("end", "Ngày cuối kỳ phải sau ngày đầu kỳ.")
    if (end - start).days > 366 * 5:
        raise field_error("end", "Kỳ báo cáo dài tối đa 5 năm.")
    regions = report_regions(user, region_id)
    region_name = db.session.get(Region, region_id).name if region_id else _t("Toàn bộ phạm vi quản lý")
    products = _products(regions)
    all_regions = _regions_by_id()
    product_ids = [p.id for p in products]
    by_id = {p.id: p for p in products}
    lo, hi = _utc_bounds(start, end)

    scan_counts = dict(db.session.execute(
        sa.select(Scan.product_id, sa.func.count(Scan.id))
        .where(Scan.product_id.in_(product_ids), Scan.at >= lo, Scan.at < hi).group_by(Scan.product_id)).all())

    def area(product: Product) -> str:
        return area_of(product.producer.region, all_regions).name

    products_section = Section("san-pham", _t("Sản phẩm"), [
        Column(_t("Đơn vị hành chính")), Column(_t("Xã/phường")), Column(_t("Chủ thể")),
        Column(_t("Mã số thuế")), Column(_t("Sản phẩm")), Column(_t("Nhóm sản phẩm")),
        Column(_t("Số sao"), "int"), Column(_t("Tình trạng")), Column(_t("Số quyết định")),
        Column(_t("Ngày cấp"), "date"), Column(_t("Ngày hết hạn"), "date"),
        Column(_t("Lượt quét trong kỳ"), "int")])
    for p in products:
        cert = current_certificate(p)
        products_section.rows.append([
            area(p), p.producer.region.name, p.producer.name, p.producer.tax_code, p.name_vi,
            str(GROUP_LABELS[p.group.value]), cert.stars if cert else None, _status_label(cert, end),
            cert.decision_number if cert else None, cert.issued_on if cert else None,
            cert.expires_on if cert else None, scan_counts.get(p.id, 0)])

    certs = [c for p in products for c in p.certificates]
    issued = Section("cap-moi", _t("Cấp mới, đánh giá lại"), [
        Column(_t("Sản phẩm")), Column(_t("Chủ thể")), Column(_t("Số sao"), "int"),
        Column(_t("Điểm"), "decimal"), Column(_t("Cơ quan cấp")), Column(_t("Số quyết định")),
        Column(_t("Ngày cấp"), "date"), Column(_t("Ngày hết hạn"), "date"), Column(_t("Đánh giá lại")),
        Column(_t("Cấp ban hành"))])
    for c in sorted((c for c in certs if start <= c.issued_on <= end), key=lambda c: (c.issued_on, c.id)):
        reevaluation = any(o.superseded_by_id == c.id for o in c.product.certificates)
        issued.rows.append([c.product.name_vi, c.product.producer.name, c.stars, c.score,
                            c.issuing_authority, c.decision_number, c.issued_on, c.expires_on,
                            _t("Có") if reevaluation else _t("Không"), str(LEVEL_LABELS[c.issuing_level.value])])

    revoked = Section("thu-hoi", _t("Thu hồi"), [
        Column(_t("Sản phẩm")), Column(_t("Chủ thể")), Column(_t("Số sao"), "int"),
        Column(_t("Quyết định công nhận")), Column(_t("Quyết định thu hồi")),
        Column(_t("Ngày thu hồi"), "date"), Column(_t("Lý do"))])
    for c in sorted((c for c in certs if c.revoked_on and start <= c.revoked_on <= end),
                    key=lambda c: (c.revoked_on, c.id)):
        revoked.rows.append([c.product.name_vi, c.product.producer.name, c.stars, c.decision_number,
                             c.revocation_decision, c.revoked_on, c.revocation_reason])

    expiry = Section("het-han", _t("Hết hạn, sắp hết hạn"), [
        Column(_t("Sản phẩm")), Column(_t("Chủ thể")), Column(_t("Số sao"), "int"),
        Column(_t("Số quyết định")), Column(_t("Ngày hết hạn"), "date"),
        Column(_t("Số ngày còn lại (tính từ cuối kỳ)"), "int"), Column(_t("Tình trạng cuối kỳ"))])
    # Expired during the period, or expiring at its end.
    expiry_statuses: Counter[CertificateStatus] = Counter()
    for c in sorted(certs, key=lambda c: (c.expires_on, c.id)):
        status = certificate_status(c, end)
        if status == CertificateStatus.EXPIRING or (status == CertificateStatus.EXPIRED and c.expires_on >= start):
            expiry_statuses[status] += 1
            expiry.rows.append([c.product.name_vi, c.product.producer.name, c.stars, c.decision_number,
                                c.expires_on, (c.expires_on - end).days, status_label(status)])

    inspections = Section("kiem-tra", _t("Kiểm tra"), [
        Column(_t("Ngày kiểm tra"), "date"), Column(_t("Chủ thể")), Column(_t("Sản phẩm")),
        Column(_t("Kết luận")), Column(_t("Đề nghị thu hồi")), Column(_t("Nội dung phát hiện"))])
    stmt = (sa.select(Inspection).join(Producer, Inspection.producer_id == Producer.id)
            .where(Inspection.inspected_on >= start, Inspection.inspected_on <= end)
            .order_by(Inspection.inspected_on, Inspection.id))
    outcomes: Counter[InspectionOutcome] = Counter()
    for i in db.session.scalars(_in_scope(stmt, regions)):
        outcomes[i.outcome] += 1
        inspections.rows.append([i.inspected_on, i.producer.name, i.product.name_vi if i.product else None,
                                 str(OUTCOME_LABELS[i.outcome.value]),
                                 _t("Có") if i.propose_revocation else _t("Không"), i.findings])

    reports = Section("phan-anh", _t("Phản ánh hàng giả"), [
        Column(_t("Thời điểm"), "date"), Column(_t("Mã")), Column(_t("Sản phẩm")),
        Column(_t("Kết quả xác thực")), Column(_t("Nơi mua")), Column(_t("Nội dung")), Column(_t("Trạng thái"))])
    rstmt = (sa.select(CounterfeitReport).where(CounterfeitReport.created_at >= lo,
                                                CounterfeitReport.created_at < hi)
             .order_by(CounterfeitReport.created_at, CounterfeitReport.id))
    if regions is not None:
        rstmt = rstmt.where(CounterfeitReport.product_id.in_(product_ids))
    for r in db.session.scalars(rstmt):
        product = by_id.get(r.product_id) if r.product_id else None
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=timezone.utc)
        reports.rows.append([created.astimezone(VIETNAM).date(), r.code,
                             product.name_vi if product else None, str(VERDICT_LABELS[r.verdict]),
                             r.place_of_purchase, r.message, str(REPORT_STATUS_LABELS[r.status])])

    producers = sorted({p.producer for p in products}, key=lambda pr: (pr.name, pr.id))
    statuses = handover_statuses([pr.id for pr in producers])
    handover = Section("ban-giao", _t("Bàn giao tài khoản"), [
        Column(_t("Chủ thể")), Column(_t("Mã số thuế")), Column(_t("Xã/phường")),
        Column(_t("Tình trạng bàn giao")), Column(_t("Loại hình chủ thể"))])
    for pr in producers:
        handover.rows.append([pr.name, pr.tax_code, pr.region.name, str(HANDOVER_STATUS_LABELS[statuses[pr.id]]),
                              str(PRODUCER_KIND_LABELS[pr.kind])])

    missing, short = coverage(products)
    codes = Section("ma-truy-xuat", _t("Mã truy xuất"), [
        Column(_t("Sản phẩm")), Column(_t("Chủ thể")), Column(_t("Vấn đề")), Column(_t("Lô")),
        Column(_t("Mã bảo đảm đến"), "date"), Column(_t("Giấy chứng nhận hết hạn"), "date")])
    for p in missing:
        codes.rows.append([p.name_vi, p.producer.name, _t("Chưa in tem truy xuất"), None, None,
                           (current_certificate(p).expires_on if current_certificate(p) else None)])
    for run, p, cert in short:
        codes.rows.append([p.name_vi, p.producer.name, _t("Thời hạn bảo đảm của mã ngắn hơn giấy chứng nhận"),
                           run.batch.lot, run.guaranteed_until, cert.expires_on])

    target = four_star_target()
    communes = commune_progress(products, regions, end, target)
    goal = Section("chi-tieu", _t("Chỉ tiêu sản phẩm 4 sao"), [
        Column(_t("Xã/phường")), Column(_t("Sản phẩm từ 4 sao còn hiệu lực"), "int"),
        Column(_t("Chỉ tiêu"), "int"), Column(_t("Tỷ lệ hoàn thành"), "percent"), Column(_t("Đạt chỉ tiêu"))])
    for c in communes:
        goal.rows.append([c["name"], c["four_star"], target,
                          min(c["four_star"] / target, 1.0) if target else 1.0,
                          _t("Đã đạt") if c["met"] else _t("Chưa đạt")])

    stars = Counter(product_stars(p, end) for p in products)
    summary = Section("tong-hop", _t("Tổng hợp"), [Column(_t("Chỉ tiêu")), Column(_t("Giá trị"), "int")])
    summary.rows = [
        [_t("Số sản phẩm"), len(products)],
        [_t("Sản phẩm 5 sao còn hiệu lực cuối kỳ"), stars[5]],
        [_t("Sản phẩm 4 sao còn hiệu lực cuối kỳ"), stars[4]],
        [_t("Sản phẩm 3 sao còn hiệu lực cuối kỳ"), stars[3]],
        [_t("Sản phẩm không có giấy chứng nhận còn hiệu lực"), stars[0]],
        [_t("Giấy chứng nhận cấp trong kỳ"), len(issued.rows)],
        [_t("Giấy chứng nhận thu hồi trong kỳ"), len(revoked.rows)],
        [_t("Giấy chứng nhận hết hạn trong kỳ"), expiry_statuses[CertificateStatus.EXPIRED]],
        [_t("Giấy chứng nhận sắp hết hạn (trong 90 ngày sau kỳ)"), expiry_statuses[CertificateStatus.EXPIRING]],
        [_t("Lượt kiểm tra trong kỳ"), len(inspections.rows)],
        [_t("Kiểm tra có vi phạm"), outcomes[InspectionOutcome.VIOLATION]],
        [_t("Lượt quét trong kỳ"), sum(scan_counts.values())],
        [_t("Phản ánh hàng giả trong kỳ"), len(reports.rows)],
        [_t("Chủ thể đã bàn giao tài khoản"), sum(1 for s in statuses.values() if s == HandoverStatus.HANDED_OVER)],
        [_t("Chủ thể chưa bàn giao tài khoản"), sum(1 for s in statuses.values() if s != HandoverStatus.HANDED_OVER)],
        [_t("Sản phẩm chưa in tem truy xuất"), len(missing)],
        [_t("Xã/phường đạt chỉ tiêu 4 sao"), sum(1 for c in communes if c["met"])],
    ]
    return PeriodicReport(start, end, region_name, [
        summary, products_section, issued, revoked, expiry, inspections, reports, handover, codes, goal])


NUMBER_FORMATS = {"int": "#,##0", "date": "DD/MM/YYYY", "decimal": "0.00", "percent": "0%"}


def report_xlsx(report: PeriodicReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="14532D")
    for section in report.sections:
        ws = wb.create_sheet(section.title[:31])
        ws.append([c.heading for c in section.columns])
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in section.rows:
            ws.append([xlsx_cell(ws, float(v) if hasattr(v, "as_tuple") else v) for v in row])
        for index, column in enumerate(section.columns, start=1):
            letter = get_column_letter(index)
            fmt = NUMBER_FORMATS.get(column.kind)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
            longest = max([len(str(column.heading))] + [len(str(r[index - 1] or "")) for r in section.rows[:200]])
            ws.column_dimensions[letter].width = min(max(10, longest + 2), 60)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(section.columns))}{max(len(section.rows) + 1, 1)}"
    title = _t("Báo cáo OCOP")
    locale = formats.current_locale()
    period = f"{formats.date(report.start, locale)} - {formats.date(report.end, locale)}"
    wb.properties.title = f"{title} {period}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def section_csv(section: Section) -> bytes:
    """The Vietnamese CSV convention (render/cells.py: `;`, `120,5`, `30/11/2026`, UTF-8 with
    a BOM); a share as a percentage (`50%`), which Excel reads as the number 0.5."""
    percent = {i for i, c in enumerate(section.columns) if c.kind == "percent"}
    rows = ([f"{csv_value(round(v * 100, 1))}%" if i in percent and v is not None else v
             for i, v in enumerate(row)] for row in section.rows)
    return vietnamese_csv([c.heading for c in section.columns], rows)


def csv_guide() -> str:
    """The README beside the CSV files: how they are written and how to open them."""
    return _t("Các tệp CSV này theo quy ước Việt Nam: bảng mã UTF-8, các cột cách nhau bằng "
              "dấu chấm phẩy (;), số thập phân dùng dấu phẩy (120,5) và không có dấu phân cách "
              "hàng nghìn, ngày viết ngày/tháng/năm (30/11/2026), giờ là giờ Việt Nam (UTC+7). "
              "Excel với định dạng vùng Tiếng Việt mở thẳng được. Nếu Excel dùng định dạng vùng "
              "khác, hãy vào Dữ liệu > Từ văn bản/CSV, chọn dấu phân cách «Dấu chấm phẩy» và "
              "vùng Tiếng Việt. Tệp XLSX của cùng báo cáo không cần bước này.") + "\r\n"


CSV_GUIDE_NAME = "00-huong-dan.txt"


def report_csv_zip(report: PeriodicReport) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(CSV_GUIDE_NAME, ("\ufeff" + csv_guide()).encode("utf-8"))
        for i, section in enumerate(report.sections, start=1):
            zf.writestr(f"{i:02d}-{section.key}.csv", section_csv(section))
    return out.getvalue()


def find_section(report: PeriodicReport, key: str) -> Section:
    for section in report.sections:
        if section.key == key:
            return section
    raise field_error("section", "Không có mục báo cáo này. Các mục: "
                      + ", ".join(s.key for s in report.sections) + ".")
