"""The certificate life cycle, inspections and the officer's follow-up lists."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from .. import formats
from ..accounts.models import Role, User
from ..accounts.permissions import (
    Action,
    allowed_actions,
    region_scope,
    require,
    require_role,
    visible_producer_ids,
)
from ..clock import local_today
from ..errors import Conflict, Forbidden, InvalidState, ValidationFailed, field_error
from ..extensions import db
from ..models_base import utcnow
from ..registry.models import (
    Certificate,
    CertificateStatus,
    IssuingLevel,
    Producer,
    Product,
    Region,
)
from ..registry.services import (
    current_certificate,
    current_certificate_id,
    region_in_force,
    region_in_force_condition,
    register_certificate,
)
from ..registry.status import (
    NOTICE_DAYS_BEFORE_EXPIRY,
    certificate_status,
    in_force,
    status_condition,
)
from ..resolver.models import CounterfeitReport, ReportStatus, Scan, ScanVerdict
from ..services_common import audit, get_or_404
from .models import ExpiryNotice, Inspection, InspectionOutcome, NoticeStatus

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

# What a scanned code turned out to be, and where a consumer's report stands.
VERDICT_LABELS: dict[ScanVerdict, Any] = {
    ScanVerdict.GENUINE: _l("Mã thật"),
    ScanVerdict.LOT: _l("Mã lô"),
    ScanVerdict.FORGED: _l("Mã giả"),
    ScanVerdict.UNKNOWN: _l("Mã lạ"),
}

REPORT_STATUS_LABELS: dict[ReportStatus, Any] = {
    ReportStatus.OPEN: _l("Mới"),
    ReportStatus.INVESTIGATING: _l("Đang xác minh"),
    ReportStatus.CLOSED: _l("Đã xử lý"),
}

NOTICE_STATUS_LABELS: dict[NoticeStatus, Any] = {
    NoticeStatus.PENDING: _l("Chờ gửi"),
    NoticeStatus.SENDING: _l("Đang gửi"),
    NoticeStatus.SENT: _l("Đã gửi"),
    NoticeStatus.FAILED: _l("Thất bại"),
}

# The officer's follow-up lists and the status each shows; expiring_30 is the expiring ones
# inside the notice window. A lapsed certificate stays listed after its product got a new one
# by registration (the page says so beside it).
BUCKET_STATUS = {"expiring_90": CertificateStatus.EXPIRING, "expiring_30": CertificateStatus.EXPIRING,
                 "lapsed": CertificateStatus.EXPIRED, "revoked": CertificateStatus.REVOKED}
FOLLOW_UP_BUCKETS = tuple(BUCKET_STATUS)
# The follow-up page's tabs: the lists above, and every current certificate.
LIST_BUCKETS = (*FOLLOW_UP_BUCKETS, "all")
# The products list's certificate filter: a status of the current certificate, or none at all.
PRODUCT_STATUSES = (CertificateStatus.VALID.value, CertificateStatus.EXPIRING.value,
                    CertificateStatus.EXPIRED.value, CertificateStatus.REVOKED.value, "none")
PAGE_SIZE = 50
RECENT_DAYS = 90  # "revoked lately" on the officer's home


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


# --- regions: scope and pickers ----------------------------------------------------------

def subtree(root_ids: set[int]) -> set[int]:
    tree = sa.select(Region.id).where(Region.id.in_(root_ids)).cte("subtree", recursive=True)
    tree = tree.union_all(sa.select(Region.id).where(Region.parent_id == tree.c.id))
    return set(db.session.scalars(sa.select(tree.c.id)))


def report_regions(user: User, region_id: int | None) -> set[int] | None:
    """The region ids a list or report covers; None = everything (admin without a region)."""
    require_officer(user)
    allowed = None if user.role == Role.ADMIN else region_scope(user)
    if region_id is None:
        return allowed
    if db.session.get(Region, region_id) is None:
        raise field_error("region_id", _("Không tìm thấy địa bàn này."))
    if allowed is not None and region_id not in allowed:
        raise Forbidden(_("Địa bàn này nằm ngoài phạm vi quản lý của bạn."))
    return subtree({region_id})


@dataclass(frozen=True)
class RegionChoice:
    id: int
    code: str
    name: str
    depth: int          # 0 for the top of the officer's tree
    in_force: bool
    valid_to: date | None

    @property
    def label(self) -> str:
        """The name; an abolished unit's with its last day (the 2025 reform ended the districts)."""
        if self.in_force or self.valid_to is None:
            return self.name
        return _("%(name)s (đến %(day)s)", name=self.name, day=formats.date(self.valid_to, formats.current_locale()))


def region_choices(user: User, history: bool = False, keep: int | None = None,
                   on: date | None = None) -> list[RegionChoice]:
    """The administrative units an officer may pick, as a tree (parents first): only those in
    force on `on` (today), unless `history` asks for the abolished ones too (reports over past
    years). `keep` is a unit already chosen, kept in the list even when abolished."""
    require_officer(user)
    on = on or local_today()
    stmt = sa.select(Region).order_by(Region.code)
    if user.role != Role.ADMIN:
        stmt = stmt.where(Region.id.in_(region_scope(user)))
    if not history:
        stmt = stmt.where(sa.or_(region_in_force_condition(on), Region.id == keep))
    regions = list(db.session.scalars(stmt))
    ids = {r.id for r in regions}
    children: dict[int | None, list[Region]] = {}
    for region in regions:
        children.setdefault(region.parent_id if region.parent_id in ids else None, []).append(region)
    out: list[RegionChoice] = []

    def walk(parent: int | None, depth: int) -> None:
        for region in children.get(parent, []):
            out.append(RegionChoice(region.id, region.code, region.name, depth, region_in_force(region, on),
                                    region.valid_to))
            walk(region.id, depth + 1)

    walk(None, 0)
    return out


def bucket_condition(bucket: str, today: date) -> sa.ColumnElement[bool]:
    """A follow-up list as SQL: a certificate status, narrowed to the notice window for
    expiring_30; "all" is every certificate not superseded by a re-evaluation."""
    if bucket not in LIST_BUCKETS:
        raise field_error("bucket", _("Danh sách không hợp lệ."))
    if bucket == "all":
        return sa.not_(status_condition(CertificateStatus.SUPERSEDED, today))
    condition = status_condition(BUCKET_STATUS[bucket], today)
    if bucket == "expiring_30":
        return sa.and_(condition, Certificate.expires_on <= today + timedelta(days=NOTICE_DAYS_BEFORE_EXPIRY))
    return condition


def _certificates_in(regions: set[int] | None, *columns: Any) -> sa.Select:
    stmt = (sa.select(*columns).select_from(Certificate)
            .join(Product, Certificate.product_id == Product.id)
            .join(Producer, Product.producer_id == Producer.id))
    return stmt if regions is None else stmt.where(Producer.region_id.in_(regions))


def bucket_counts(regions: set[int] | None, today: date, buckets: tuple[str, ...] = FOLLOW_UP_BUCKETS,
                  stars: int | None = None) -> dict[str, int]:
    """How many certificates each follow-up list holds, in one query (the lists' own SQL);
    `regions` is a scope the caller has checked, None for everything."""
    columns = [sa.func.count(sa.case((bucket_condition(bucket, today), Certificate.id))).label(bucket)
               for bucket in buckets]
    stmt = _certificates_in(regions, *columns)
    if stars is not None:
        stmt = stmt.where(Certificate.stars == stars)
    return dict(db.session.execute(stmt).one()._mapping)


def _bucket_order(bucket: str) -> tuple[Any, ...]:
    if bucket == "lapsed":
        return (Certificate.expires_on.desc(), Certificate.id.desc())
    if bucket == "revoked":
        return (Certificate.revoked_on.desc(), Certificate.id.desc())
    return (Certificate.expires_on, Certificate.id)


def _follow_up_select(user: User, bucket: str, today: date, regions: set[int] | None,
                      stars: int | None = None) -> sa.Select:
    stmt = (_certificates_in(regions, Certificate).where(bucket_condition(bucket, today))
            .order_by(*_bucket_order(bucket))
            .options(selectinload(Certificate.product).selectinload(Product.producer)))
    if stars is not None:
        stmt = stmt.where(Certificate.stars == stars)
    return scoped(stmt, user)


def follow_up(user: User, bucket: str, today: date | None = None,
              region_ids: set[int] | None = None) -> list[Certificate]:
    require_officer(user)
    today = today or local_today()
    return list(db.session.scalars(_follow_up_select(user, bucket, today, region_ids)))


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list, with what the page links need."""

    items: list[T]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_of(stmt: sa.Select, number: int, size: int = PAGE_SIZE) -> Page[Any]:
    """A page of an ORM select, the total counted in SQL."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(size).offset((number - 1) * size)))
    return Page(items, total, number, size)


def _check_stars(stars: int | None) -> None:
    if stars is not None and stars not in (3, 4, 5):
        raise field_error("stars", _("Hạng sao chỉ gồm 3, 4 hoặc 5 sao."))


@dataclass
class FollowUpList:
    bucket: str
    counts: dict[str, int]     # per tab (LIST_BUCKETS), with the same region and stars filters
    page: Page[Certificate]


def follow_up_list(user: User, bucket: str, region_id: int | None = None, stars: int | None = None,
                   page: int = 1, today: date | None = None) -> FollowUpList:
    """The officer's follow-up page: one list, filtered by region and stars, paged, and the
    size of every tab under the same filters."""
    today = today or local_today()
    regions = report_regions(user, region_id)
    _check_stars(stars)
    if bucket not in LIST_BUCKETS:
        raise field_error("bucket", _("Danh sách không hợp lệ."))
    return FollowUpList(bucket, bucket_counts(regions, today, LIST_BUCKETS, stars),
                        page_of(_follow_up_select(user, bucket, today, regions, stars), page))


@dataclass
class ProductRow:
    product: Product
    certificate: Certificate | None
    status: CertificateStatus | None


def officer_products(user: User, q: str | None = None, region_id: int | None = None,
                     status: str | None = None, stars: int | None = None, page: int = 1,
                     today: date | None = None) -> Page[ProductRow]:
    """Products in the officer's regions, searched by product, producer or tax code, and
    filtered by region and by their current certificate's status and stars."""
    today = today or local_today()
    regions = report_regions(user, region_id)
    _check_stars(stars)
    if status is not None and status not in PRODUCT_STATUSES:
        raise field_error("status", _("Tình trạng không hợp lệ."))
    stmt = (sa.select(Product).join(Producer, Product.producer_id == Producer.id)
            .outerjoin(Certificate, Certificate.id == current_certificate_id(Product.id))
            .order_by(Producer.name, Product.name_vi, Product.id)
            .options(selectinload(Product.certificates), selectinload(Product.producer)))
    if regions is not None:
        stmt = stmt.where(Producer.region_id.in_(regions))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Product.name_vi.ilike(like), Producer.name.ilike(like),
                                 Producer.tax_code.ilike(like)))
    if status == "none":
        stmt = stmt.where(Certificate.id.is_(None))
    elif status is not None:
        stmt = stmt.where(status_condition(status, today))
    if stars is not None:
        stmt = stmt.where(Certificate.stars == stars)
    found = page_of(scoped(stmt, user), page)
    rows = []
    for product in found.items:
        cert = current_certificate(product)
        rows.append(ProductRow(product, cert, certificate_status(cert, today) if cert else None))
    return Page(rows, found.total, found.number, found.size)


def get_product_for(user: User, product_id: int, action: Action = Action.VIEW) -> Product:
    product = get_or_404(Product, product_id, _("sản phẩm"))
    require(user, action, product.producer)
    return product


def get_certificate_for(user: User, certificate_id: int, action: Action = Action.VIEW) -> Certificate:
    cert = get_or_404(Certificate, certificate_id, _("giấy chứng nhận"))
    require(user, action, cert.product.producer)
    return cert


def _notices_select(user: User, status: str | None = None) -> sa.Select:
    require_officer(user)
    stmt = (sa.select(ExpiryNotice).join(Certificate, ExpiryNotice.certificate_id == Certificate.id)
            .join(Product, Certificate.product_id == Product.id)
            .join(Producer, Product.producer_id == Producer.id)
            .order_by(ExpiryNotice.due_on.desc(), ExpiryNotice.id.desc()))
    if status:
        stmt = stmt.where(ExpiryNotice.status == status)
    return scoped(stmt, user)


def notices_for(user: User, status: str | None = None) -> list[ExpiryNotice]:
    """The expiry-notice outbox of the certificates in the user's regions."""
    return list(db.session.scalars(_notices_select(user, status)))


@dataclass
class NoticeOutbox:
    page: Page[ExpiryNotice]
    counts: dict[str, int]     # per NoticeStatus value, in the officer's regions
    due_now: int               # what "send the due notices" would send now


def notice_outbox(user: User, status: str | None = None, page: int = 1,
                  today: date | None = None, now: datetime | None = None) -> NoticeOutbox:
    """The notices page: one page of the outbox, the count of each state, and what is due."""
    from . import mail

    if status is not None and status not in {s.value for s in NoticeStatus}:
        raise field_error("status", _("Trạng thái không hợp lệ."))
    stmt = _notices_select(user, status).options(
        selectinload(ExpiryNotice.certificate).selectinload(Certificate.product)
        .selectinload(Product.producer))
    counts = dict(db.session.execute(scoped(
        sa.select(ExpiryNotice.status, sa.func.count(ExpiryNotice.id))
        .join(Certificate, ExpiryNotice.certificate_id == Certificate.id)
        .join(Product, Certificate.product_id == Product.id)
        .join(Producer, Product.producer_id == Producer.id)
        .group_by(ExpiryNotice.status), user)).all())
    return NoticeOutbox(page_of(stmt, page), {s.value: counts.get(s, 0) for s in NoticeStatus},
                        mail.due_count(today or local_today(), now or utcnow(), visible_producer_ids(user)))


# One click sends at most this many: each send may wait on the mail server, and the page must
# answer; what is left is said on the page and goes with the next click or the daily job.
SEND_DUE_PER_CLICK = 20


def send_due_notices(user: User, today: date | None = None, now: datetime | None = None):  # -> mail.SendResult
    """An officer sends the notices due now in its regions (an admin: everywhere) with the
    daily job's own code, so each notice still goes exactly once. It commits as it goes
    (each claim before its send, each result after): the request's own commit has nothing left."""
    from . import mail

    require_officer(user)
    return mail.send_due(today, now, producers=visible_producer_ids(user), limit=SEND_DUE_PER_CLICK)


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
            .options(joinedload(Inspection.producer), joinedload(Inspection.product),
                     joinedload(Inspection.inspector))
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


def _proposals_select(user: User) -> sa.Select:
    require_officer(user)
    stmt = (sa.select(Inspection).join(Producer, Inspection.producer_id == Producer.id)
            .where(Inspection.propose_revocation.is_(True), Inspection.proposal_handled_at.is_(None))
            .order_by(Inspection.inspected_on))
    return scoped(stmt, user)


def revocation_proposals(user: User) -> list[Inspection]:
    """Open proposals to revoke, for the officers who may act on them."""
    return list(db.session.scalars(_proposals_select(user)))


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


# Reports still to be dealt with: new, or being verified.
UNRESOLVED_REPORTS = (ReportStatus.OPEN, ReportStatus.INVESTIGATING)


def _reports_in_scope(stmt: sa.Select, user: User) -> sa.Select:
    """Limit a statement on counterfeit reports to those the user may see. Reports on
    unknown products belong to no producer: every inspector sees those."""
    stmt = (stmt.outerjoin(Product, CounterfeitReport.product_id == Product.id)
            .outerjoin(Producer, Product.producer_id == Producer.id))
    visible = visible_producer_ids(user)
    if visible is not None:
        stmt = stmt.where(sa.or_(CounterfeitReport.product_id.is_(None), Producer.id.in_(visible)))
    return stmt


def counterfeit_reports(user: User, status: str | None = None, limit: int = 200, *,
                        unresolved: bool = False) -> list[ReportWithScans]:
    """Reports from the trace page with the scan data of their code: those of one `status`,
    or the `unresolved` ones, or all."""
    require_inspector(user)
    stmt = (_reports_in_scope(sa.select(CounterfeitReport, Product), user)
            .order_by(CounterfeitReport.created_at.desc()).limit(limit))
    if status:
        stmt = stmt.where(CounterfeitReport.status == ReportStatus(status))
    if unresolved:
        stmt = stmt.where(CounterfeitReport.status.in_(UNRESOLVED_REPORTS))
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


@dataclass
class InspectorOverview:
    """The counts at the top of the inspector's home."""
    new_reports: int
    investigating_reports: int
    recent_inspections: int


RECENT_DAYS = 30


def inspector_overview(user: User, today: date | None = None) -> InspectorOverview:
    """Counterfeit reports waiting, by status, and inspections of the last RECENT_DAYS days
    (today included), in the user's regions."""
    require_inspector(user)
    today = today or local_today()
    reports = sa.select(CounterfeitReport.status, sa.func.count(CounterfeitReport.id))
    by_status = dict(db.session.execute(
        _reports_in_scope(reports, user).where(CounterfeitReport.status.in_(UNRESOLVED_REPORTS))
        .group_by(CounterfeitReport.status)).all())
    inspections = db.session.scalar(scoped(
        sa.select(sa.func.count(Inspection.id))
        .join(Producer, Inspection.producer_id == Producer.id)
        .where(Inspection.inspected_on > today - timedelta(days=RECENT_DAYS)), user))
    return InspectorOverview(by_status.get(ReportStatus.OPEN, 0),
                             by_status.get(ReportStatus.INVESTIGATING, 0), inspections or 0)


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


# --- the officer's producer page --------------------------------------------------------

@dataclass
class ProducerOverview:
    producer: Producer
    region_in_force: bool
    products: list[ProductRow]
    handover: Any              # accounts.services.ProducerHandoverRow
    can_handover: bool
    can_certify: bool


def producer_overview(user: User, producer_id: int, today: date | None = None) -> ProducerOverview:
    """A producer's facts, its products with their current certificates, and its handover."""
    from ..accounts.services import handover_status_query, handover_status_rows

    require_officer(user)
    today = today or local_today()
    producer = get_or_404(Producer, producer_id, _("chủ thể"))
    require(user, Action.VIEW, producer)
    products = list(db.session.scalars(
        sa.select(Product).where(Product.producer_id == producer.id).order_by(Product.name_vi, Product.id)
        .options(selectinload(Product.certificates))))
    rows = []
    for product in products:
        cert = current_certificate(product)
        rows.append(ProductRow(product, cert, certificate_status(cert, today) if cert else None))
    handover = handover_status_rows(db.session.execute(
        handover_status_query(user).where(Producer.id == producer.id)).all())
    actions = allowed_actions(user, producer)
    return ProducerOverview(producer, region_in_force(producer.region, today), rows,
                            handover[0] if handover else None,
                            Action.HANDOVER in actions, Action.CERTIFY in actions)


# --- the officer's home summary ---------------------------------------------------------

@dataclass(frozen=True)
class OfficerSummary:
    """What waits for an officer in its regions; each count is the size of a page it links to
    (templates/oversight/_officer_summary.html)."""

    expiring: int              # current certificates expiring within 90 days
    expired: int               # current certificates expired (products without a valid one)
    revoked_recently: int      # certificates revoked in the last RECENT_DAYS days
    notices_due: int           # notices the daily job (or the notices page's button) would send now
    notices_failed: int
    counterfeit_new: int       # consumers' reports not yet looked at
    handovers_pending: int     # a claim issued, not yet redeemed
    handovers_not_started: int
    proposals: int             # inspectors' proposals to revoke, not yet decided

    @property
    def total(self) -> int:
        return (self.expiring + self.expired + self.revoked_recently + self.notices_due
                + self.notices_failed + self.counterfeit_new + self.handovers_pending
                + self.handovers_not_started + self.proposals)


def officer_summary(user: User, today: date | None = None, now: datetime | None = None) -> OfficerSummary:
    """The counts an officer's home shows, each computed by the query of the page it links to."""
    from ..accounts.services import HandoverStatus, handover_status_query
    from . import mail

    require_officer(user)
    today = today or local_today()
    now = now or utcnow()
    regions = report_regions(user, None)
    buckets = bucket_counts(regions, today, ("expiring_90", "lapsed"))
    revoked = db.session.scalar(_certificates_in(regions, sa.func.count(Certificate.id)).where(
        bucket_condition("revoked", today), Certificate.revoked_on > today - timedelta(days=RECENT_DAYS))) or 0
    visible = visible_producer_ids(user)
    failed = db.session.scalar(sa.select(sa.func.count()).select_from(
        _notices_select(user, NoticeStatus.FAILED.value).order_by(None).subquery())) or 0
    reports = sa.select(sa.func.count(CounterfeitReport.id)).where(CounterfeitReport.status == ReportStatus.OPEN)
    if visible is not None:
        # As the inspector's list: reports on unknown products belong to no region, all see them.
        reports = (reports.outerjoin(Product, CounterfeitReport.product_id == Product.id)
                   .where(sa.or_(CounterfeitReport.product_id.is_(None), Product.producer_id.in_(visible))))
    handovers = handover_status_query(user).subquery()
    states = dict(db.session.execute(
        sa.select(handovers.c.state, sa.func.count()).group_by(handovers.c.state)).all())
    proposals = db.session.scalar(sa.select(sa.func.count()).select_from(
        _proposals_select(user).order_by(None).subquery())) or 0
    return OfficerSummary(
        expiring=buckets["expiring_90"], expired=buckets["lapsed"], revoked_recently=revoked,
        notices_due=mail.due_count(today, now, visible), notices_failed=failed,
        counterfeit_new=db.session.scalar(reports) or 0,
        handovers_pending=states.get(HandoverStatus.PENDING.value, 0),
        handovers_not_started=states.get(HandoverStatus.NOT_STARTED.value, 0),
        proposals=proposals)
