"""The certificate life cycle, inspections and the officer's follow-up lists."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.models import Role, User
from ..accounts.permissions import Action, require, require_role, visible_producer_ids
from ..clock import local_today
from ..errors import Conflict, Forbidden, InvalidState, ValidationFailed, field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.labels import GROUP_LABELS  # noqa: F401  (imported from here by oversight)
from ..registry.models import Certificate, CertificateStatus, IssuingLevel, Producer, Product
from ..registry.services import current_certificate, register_certificate
from ..registry.status import NOTICE_DAYS_BEFORE_EXPIRY, in_force, status_condition
from ..resolver.models import CounterfeitReport, ReportStatus, Scan
from ..services_common import audit, get_or_404
from .models import ExpiryNotice, Inspection, InspectionOutcome

# The inspection checklist (the five checks); answers are True, False or None (not checked).
CHECKLIST: dict[str, Any] = {
    "certificate_valid": _l("Giấy chứng nhận OCOP còn hiệu lực"),
    "stars_match": _l("Số sao trên nhãn/logo khớp giấy chứng nhận"),
    "labels_resolve": _l("Tem/mã QR quét được và dẫn đúng sản phẩm"),
    "diary_current": _l("Nhật ký sản xuất được cập nhật"),
    "product_matches": _l("Sản phẩm đúng như hồ sơ đăng ký"),
}

OUTCOME_LABELS: dict[str, Any] = {
    "compliant": _l("Đạt"),
    "warning": _l("Nhắc nhở"),
    "violation": _l("Vi phạm"),
}

LEVEL_LABELS: dict[str, Any] = {
    "district": _l("Cấp huyện"),
    "province": _l("Cấp tỉnh"),
    "central": _l("Trung ương"),
}

# The officer's follow-up lists and the status each shows; expiring_30 is the expiring ones
# inside the notice window.
BUCKET_STATUS = {"expiring_90": CertificateStatus.EXPIRING, "expiring_30": CertificateStatus.EXPIRING,
                 "lapsed": CertificateStatus.EXPIRED, "revoked": CertificateStatus.REVOKED}
FOLLOW_UP_BUCKETS = tuple(BUCKET_STATUS)


# --- certificate life cycle -------------------------------------------------------------

def _check_dates(data: dict[str, Any], today: date) -> None:
    if data["issued_on"] > today:
        raise field_error("issued_on", _("Ngày cấp không được ở tương lai."))


def _check_decision_free(product: Product, data: dict[str, Any]) -> None:
    taken = db.session.scalar(sa.select(Certificate.id).where(
        Certificate.product_id == product.id,
        Certificate.issuing_authority == data["issuing_authority"],
        Certificate.decision_number == data["decision_number"]))
    if taken is not None:
        raise field_error("decision_number", _("Số quyết định này đã được ghi cho sản phẩm này."),
                          Conflict)


def register(user: User, product: Product, data: dict[str, Any],
             today: date | None = None) -> Certificate:
    """A first (or new, after a lapse or revocation) certificate for a product."""
    today = today or local_today()
    require(user, Action.CERTIFY, product.producer)
    _check_dates(data, today)
    current = current_certificate(product)
    if in_force(current, today):
        raise InvalidState(_("Sản phẩm đang có giấy chứng nhận còn hiệu lực; hãy ghi kết quả đánh "
                             "giá lại thay vì cấp mới."),
                           {"product_id": [_("Đã có giấy chứng nhận còn hiệu lực.")]})
    _check_decision_free(product, data)
    cert = register_certificate(product, data)
    audit(user, "certificate.register", cert, product.producer_id,
          stars=cert.stars, decision_number=cert.decision_number)
    return cert


def re_evaluate(user: User, old: Certificate, data: dict[str, Any],
                today: date | None = None) -> Certificate:
    """Record a re-evaluation: the new certificate supersedes the old, which stays in the history."""
    today = today or local_today()
    product = old.product
    require(user, Action.CERTIFY, product.producer)
    if old.superseded_by_id is not None:
        raise InvalidState(_("Giấy chứng nhận này đã được thay thế; hãy đánh giá lại giấy "
                             "hiện hành."))
    if old.revoked_on is not None:
        raise InvalidState(_("Giấy chứng nhận đã bị thu hồi; sản phẩm phải được đánh giá, "
                             "cấp mới."))
    _check_dates(data, today)
    if data["issued_on"] < old.issued_on:
        raise field_error("issued_on",
                          _("Ngày cấp mới không được trước ngày cấp của giấy chứng nhận cũ."))
    _check_decision_free(product, data)
    new = register_certificate(product, data)
    old.superseded_by_id = new.id
    old.updated_at = utcnow()
    db.session.flush()
    audit(user, "certificate.re_evaluate", new, product.producer_id,
          supersedes=old.id, stars=new.stars, previous_stars=old.stars)
    return new


def revoke(user: User, cert: Certificate, data: dict[str, Any], today: date | None = None) -> Certificate:
    """Revoke a certificate; the trace page reads the row, so the change shows at once."""
    today = today or local_today()
    require(user, Action.CERTIFY, cert.product.producer)
    if cert.revoked_on is not None:
        raise InvalidState(_("Giấy chứng nhận này đã bị thu hồi."))
    if cert.superseded_by_id is not None:
        raise InvalidState(_("Giấy chứng nhận này đã được thay thế; hãy thu hồi giấy hiện hành."))
    revoked_on: date = data["revoked_on"]
    if revoked_on < cert.issued_on:
        raise field_error("revoked_on", _("Ngày thu hồi không được trước ngày cấp."))
    if revoked_on > today:
        raise field_error("revoked_on", _("Ngày thu hồi không được ở tương lai."))
    cert.revoked_on = revoked_on
    cert.revocation_decision = data["decision_number"]
    cert.revocation_reason = data["reason"]
    cert.updated_at = utcnow()
    # Proposals to revoke this product are answered by the revocation.
    for inspection in db.session.scalars(sa.select(Inspection).where(
            Inspection.product_id == cert.product_id, Inspection.propose_revocation.is_(True),
            Inspection.proposal_handled_at.is_(None))):
        inspection.proposal_handled_at = utcnow()
    db.session.flush()
    audit(user, "certificate.revoke", cert, cert.product.producer_id,
          decision_number=cert.revocation_decision, revoked_on=revoked_on.isoformat())
    return cert


def certificate_history(product: Product) -> list[Certificate]:
    """Every certificate of the product, newest first."""
    return sorted(product.certificates, key=lambda c: (c.issued_on, c.id), reverse=True)


def default_issuer(stars: int, issued_on: date, region_names: dict[str, str]) -> tuple[IssuingLevel, str]:
    """The issuing level of Decision 148 (3★ by the district until Decision 1489 of 07/2025)."""
    if stars == 5:
        return IssuingLevel.CENTRAL, "Bộ Nông nghiệp và Môi trường"
    if stars == 3 and issued_on < date(2025, 7, 1) and region_names.get("district"):
        return IssuingLevel.DISTRICT, "Ủy ban nhân dân " + _lower_first(region_names["district"])
    return IssuingLevel.PROVINCE, "Ủy ban nhân dân " + _lower_first(region_names.get("province") or "Tỉnh")


def _lower_first(name: str) -> str:
    """'Tỉnh Quảng Ngãi' → 'tỉnh Quảng Ngãi' (after 'Ủy ban nhân dân')."""
    return name[:1].lower() + name[1:]


# --- scoping and follow-up lists -------------------------------------------------------

def scoped(stmt: sa.Select, user: User) -> sa.Select:
    """Limit a statement that joins Producer to what the user may see."""
    visible = visible_producer_ids(user)
    return stmt if visible is None else stmt.where(Producer.id.in_(visible))


def require_officer(user: User | None) -> None:
    require_role(user, (Role.OFFICER, Role.ADMIN))


def require_inspector(user: User | None) -> None:
    require_role(user, (Role.INSPECTOR, Role.OFFICER, Role.ADMIN))


def bucket_condition(bucket: str, today: date) -> sa.ColumnElement[bool]:
    """A follow-up list as SQL: a certificate status, narrowed to the notice window for expiring_30."""
    if bucket not in BUCKET_STATUS:
        raise field_error("bucket", _("Danh sách không hợp lệ."))
    condition = status_condition(BUCKET_STATUS[bucket], today)
    if bucket == "expiring_30":
        return sa.and_(condition, Certificate.expires_on <= today + timedelta(days=NOTICE_DAYS_BEFORE_EXPIRY))
    return condition


def follow_up(user: User, bucket: str, today: date | None = None,
              region_ids: set[int] | None = None) -> list[Certificate]:
    require_officer(user)
    today = today or local_today()
    stmt = (sa.select(Certificate).join(Product, Certificate.product_id == Product.id)
            .join(Producer, Product.producer_id == Producer.id)
            .where(bucket_condition(bucket, today)).order_by(Certificate.expires_on, Certificate.id))
    if region_ids is not None:
        stmt = stmt.where(Producer.region_id.in_(region_ids))
    return list(db.session.scalars(scoped(stmt, user)))


def officer_products(user: User, q: str | None = None, limit: int = 200) -> list[Product]:
    require_officer(user)
    stmt = sa.select(Product).join(Producer).order_by(Producer.name, Product.name_vi).limit(limit)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Product.name_vi.ilike(like), Producer.name.ilike(like),
                                 Producer.tax_code.ilike(like)))
    return list(db.session.scalars(scoped(stmt, user)))


def get_product_for(user: User, product_id: int, action: Action = Action.VIEW) -> Product:
    product = get_or_404(Product, product_id, _("sản phẩm"))
    require(user, action, product.producer)
    return product


def get_certificate_for(user: User, certificate_id: int, action: Action = Action.VIEW) -> Certificate:
    cert = get_or_404(Certificate, certificate_id, _("giấy chứng nhận"))
    require(user, action, cert.product.producer)
    return cert


def notices_for(user: User, status: str | None = None) -> list[ExpiryNotice]:
    """The expiry-notice outbox of the certificates in the user's regions."""
    require_officer(user)
    stmt = (sa.select(ExpiryNotice).join(Certificate, ExpiryNotice.certificate_id == Certificate.id)
            .join(Product, Certificate.product_id == Product.id)
            .join(Producer, Product.producer_id == Producer.id)
            .order_by(ExpiryNotice.due_on.desc(), ExpiryNotice.id.desc()))
    if status:
        stmt = stmt.where(ExpiryNotice.status == status)
    return list(db.session.scalars(scoped(stmt, user)))


# --- inspections ------------------------------------------------------------------------

def _checklist(raw: dict[str, Any]) -> dict[str, bool | None]:
    unknown = set(raw) - set(CHECKLIST)
    if unknown:
        raise field_error("checklist", _("Mục kiểm tra không hợp lệ: %(keys)s.",
                                         keys=", ".join(sorted(unknown))))
    answers: dict[str, bool | None] = {}
    for key in CHECKLIST:
        value = raw.get(key)
        if value is not None and not isinstance(value, bool):
            raise field_error("checklist",
                              _("Mục «%(key)s» chỉ nhận đúng/sai hoặc bỏ trống.", key=key))
        answers[key] = value
    return answers


def create_inspection(user: User, data: dict[str, Any], today: date | None = None) -> Inspection:
    """Record an inspection of a producer or one of its products."""
    today = today or local_today()
    product: Product | None = None
    if data.get("product_id"):
        product = get_or_404(Product, data["product_id"], _("sản phẩm"))
        producer = product.producer
        if data.get("producer_id") and data["producer_id"] != producer.id:
            raise field_error("product_id", _("Sản phẩm không thuộc chủ thể đã chọn."))
    elif data.get("producer_id"):
        producer = get_or_404(Producer, data["producer_id"], _("chủ thể"))
    else:
        raise field_error("producer_id", _("Hãy chọn chủ thể hoặc sản phẩm được kiểm tra."))
    require(user, Action.INSPECT, producer)
    if data["inspected_on"] > today:
        raise field_error("inspected_on", _("Ngày kiểm tra không được ở tương lai."))
    outcome = InspectionOutcome(data["outcome"])
    propose = bool(data.get("propose_revocation"))
    if propose and outcome != InspectionOutcome.VIOLATION:
        raise field_error("propose_revocation", _("Chỉ đề nghị thu hồi khi kết luận là vi phạm."))
    if propose and product is None:
        raise field_error("product_id", _("Đề nghị thu hồi phải gắn với một sản phẩm."))
    cert = current_certificate(product) if product is not None else None
    inspection = Inspection(
        inspector_id=user.id, producer_id=producer.id, product_id=product.id if product else None,
        certificate_id=cert.id if cert else None, inspected_on=data["inspected_on"],
        place=data.get("place") or None, checklist=_checklist(data.get("checklist") or {}),
        findings=data.get("findings") or None, outcome=outcome, propose_revocation=propose,
        photos=list(data.get("photos") or []))
    db.session.add(inspection)
    db.session.flush()
    audit(user, "inspection.create", inspection, producer.id,
          outcome=outcome.value, propose_revocation=propose)
    return inspection


def add_inspection_photos(user: User, inspection: Inspection, paths: list[str]) -> Inspection:
    if inspection.inspector_id != user.id and user.role != Role.ADMIN:
        raise Forbidden(_("Chỉ người lập biên bản kiểm tra mới được thêm ảnh."))
    inspection.photos = list(inspection.photos or []) + paths
    db.session.flush()
    return inspection


def list_inspections(user: User, *, mine: bool = False, producer_id: int | None = None,
                     limit: int = 200) -> list[Inspection]:
    require_inspector(user)
    stmt = (sa.select(Inspection).join(Producer, Inspection.producer_id == Producer.id)
            .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()).limit(limit))
    if mine:
        stmt = stmt.where(Inspection.inspector_id == user.id)
    if producer_id:
        stmt = stmt.where(Inspection.producer_id == producer_id)
    return list(db.session.scalars(scoped(stmt, user)))


def get_inspection_for(user: User, inspection_id: int) -> Inspection:
    inspection = get_or_404(Inspection, inspection_id, _("biên bản kiểm tra"))
    require(user, Action.VIEW, inspection.producer)
    require_inspector(user)
    return inspection


def revocation_proposals(user: User) -> list[Inspection]:
    """Open proposals to revoke, for the officers who may act on them."""
    require_officer(user)
    stmt = (sa.select(Inspection).join(Producer, Inspection.producer_id == Producer.id)
            .where(Inspection.propose_revocation.is_(True), Inspection.proposal_handled_at.is_(None))
            .order_by(Inspection.inspected_on))
    return list(db.session.scalars(scoped(stmt, user)))


def dismiss_proposal(user: User, inspection: Inspection) -> Inspection:
    require(user, Action.CERTIFY, inspection.producer)
    if not inspection.propose_revocation or inspection.proposal_handled_at is not None:
        raise InvalidState(_("Không có đề nghị thu hồi đang chờ xử lý."))
    inspection.proposal_handled_at = utcnow()
    db.session.flush()
    audit(user, "inspection.dismiss_proposal", inspection, inspection.producer_id)
    return inspection


# --- counterfeit reports -----------------------------------------------------------------

@dataclass
class ScanSummary:
    count: int
    networks: int
    first_at: Any
    last_at: Any


@dataclass
class ReportWithScans:
    report: CounterfeitReport
    product: Product | None
    scans: ScanSummary


def counterfeit_reports(user: User, status: str | None = None, limit: int = 200) -> list[ReportWithScans]:
    """Reports from the trace page with the scan data of their code. Reports on unknown
    products belong to no producer: every inspector sees those."""
    require_inspector(user)
    stmt = (sa.select(CounterfeitReport, Product)
            .outerjoin(Product, CounterfeitReport.product_id == Product.id)
            .outerjoin(Producer, Product.producer_id == Producer.id)
            .order_by(CounterfeitReport.created_at.desc()).limit(limit))
    visible = visible_producer_ids(user)
    if visible is not None:
        stmt = stmt.where(sa.or_(CounterfeitReport.product_id.is_(None), Producer.id.in_(visible)))
    if status:
        stmt = stmt.where(CounterfeitReport.status == ReportStatus(status))
    rows = list(db.session.execute(stmt))
    codes = {r.code for r, _p in rows}
    stats: dict[str, ScanSummary] = {}
    if codes:
        for code, count, networks, first_at, last_at in db.session.execute(
                sa.select(Scan.code, sa.func.count(Scan.id), sa.func.count(sa.distinct(Scan.network_hash)),
                          sa.func.min(Scan.at), sa.func.max(Scan.at))
                .where(Scan.code.in_(codes)).group_by(Scan.code)):
            stats[code] = ScanSummary(count, networks, _aware(first_at), _aware(last_at))
    empty = ScanSummary(0, 0, None, None)
    return [ReportWithScans(r, p, stats.get(r.code, empty)) for r, p in rows]


def _aware(value: Any) -> Any:
    from datetime import datetime, timezone

    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def set_report_status(user: User, report: CounterfeitReport, status: str) -> CounterfeitReport:
    require_inspector(user)
    if report.product_id is not None:
        product = get_or_404(Product, report.product_id, _("sản phẩm"))
        require(user, Action.VIEW, product.producer)
    try:
        report.status = ReportStatus(status)
    except ValueError:
        raise field_error("status", _("Trạng thái không hợp lệ.")) from None
    db.session.flush()
    return report


def ensure_valid(errors: dict[str, list[str]]) -> None:
    if errors:
        fields = ", ".join(sorted(errors))
        raise ValidationFailed(_("Dữ liệu không hợp lệ: %(fields)s.", fields=fields), errors)
