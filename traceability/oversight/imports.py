"""Import an existing OCOP product register (XLSX or CSV): dry run, then all-or-nothing."""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from ..accounts.models import User
from ..accounts.permissions import Action, can
from ..clock import local_today
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..registry.labels import GROUP_LABELS
from ..registry.models import Certificate, Producer, ProducerKind, Product, ProductGroup, Region
from ..registry.services import (
    create_producer,
    create_product,
    current_certificate,
    region_in_force,
    validate_tax_code,
)
from ..registry.status import VALIDITY_MONTHS
from ..render.cells import vietnamese_csv
from ..services_common import savepoint
from ..text import CONTROL_MESSAGE, has_control_characters
from .mail import _region_names
from .services import default_issuer, re_evaluate, register, require_officer
from .sheets import Row, read_table

# (key, Vietnamese heading, required). The headings are the file format, so they stay
# Vietnamese whatever the reader's language.
COLUMNS: list[tuple[str, str, bool]] = [
    ("producer_name", "Tên chủ thể", True),
    ("tax_code", "Mã số thuế", True),
    ("producer_kind", "Loại hình chủ thể", False),
    ("address", "Địa chỉ", False),
    ("region", "Địa bàn (mã hoặc tên xã/phường)", True),
    ("product_name", "Tên sản phẩm", True),
    ("group", "Nhóm sản phẩm", True),
    ("stars", "Số sao", True),
    ("score", "Điểm", False),
    ("decision_number", "Số quyết định", True),
    ("issuing_authority", "Cơ quan cấp", False),
    ("issued_on", "Ngày cấp", True),
    ("expires_on", "Ngày hết hạn", False),
]
HEADINGS = {key: heading for key, heading, _r in COLUMNS}

KIND_WORDS = [("to hop tac", ProducerKind.COOPERATIVE_GROUP), ("hop tac xa", ProducerKind.COOPERATIVE),
              ("htx", ProducerKind.COOPERATIVE), ("cong ty", ProducerKind.COMPANY),
              ("doanh nghiep", ProducerKind.COMPANY), ("ho kinh doanh", ProducerKind.HOUSEHOLD),
              ("ho san xuat", ProducerKind.HOUSEHOLD), ("co so", ProducerKind.HOUSEHOLD)]

GROUP_WORDS = {"thuc pham": ProductGroup.FOOD, "do uong": ProductGroup.DRINKS,
               "thao duoc": ProductGroup.HERBAL, "thu cong my nghe": ProductGroup.HANDICRAFTS,
               "thu cong": ProductGroup.HANDICRAFTS, "sinh vat canh": ProductGroup.PLANTS_ANIMALS,
               "du lich": ProductGroup.TOURISM, "dich vu du lich": ProductGroup.TOURISM}


def fold(text: Any) -> str:
    """Lower case, no diacritics, single spaces: how headings and names are compared."""
    value = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "d")
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"\s+", " ", value).strip()


def _heading_key(heading: Any) -> str | None:
    folded = fold(heading)
    for key, label, _r in COLUMNS:
        base = fold(label.split("(")[0])
        if folded == fold(label) or folded == base or folded == key:
            return key
    return None


@dataclass
class RowResult:
    number: int                       # the spreadsheet row number (headings are row 1)
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    action: str = ""                  # create, unchanged
    clean: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list[RowResult]
    file_errors: list[str] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: {"producers": 0, "products": 0, "certificates": 0})

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(not r.errors for r in self.rows)

    @property
    def error_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    def counts(self) -> dict[str, int]:
        return {"rows": len(self.rows), "errors": len(self.error_rows),
                "create": sum(r.action == "create" for r in self.rows if not r.errors),
                "unchanged": sum(r.action == "unchanged" for r in self.rows if not r.errors)}

    def as_errors(self) -> dict[str, list[str]]:
        errors = {"file": self.file_errors} if self.file_errors else {}
        errors.update({f"row_{r.number}": r.errors for r in self.error_rows})
        return errors


# --- checking -------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _kind(raw: str, producer_name: str) -> ProducerKind | None:
    """The kind as written, else guessed from how the name starts, else a household."""
    if raw:
        folded = fold(raw)
        try:
            return ProducerKind(folded)
        except ValueError:
            pass
        return next((kind for word, kind in KIND_WORDS if word in folded), None)
    folded = fold(producer_name)
    return next((kind for word, kind in KIND_WORDS if folded.startswith(word)), ProducerKind.HOUSEHOLD)


def _group(raw: str) -> ProductGroup | None:
    folded = fold(raw)
    try:
        return ProductGroup(folded)
    except ValueError:
        pass
    for value, label in GROUP_LABELS.items():
        if folded == fold(str(label)):
            return ProductGroup(value)
    for word, group in GROUP_WORDS.items():
        if folded.startswith(word):
            return group
    return None


def _find_region(raw: str) -> Region | None:
    region = db.session.scalar(sa.select(Region).where(Region.code == raw))
    if region is not None:
        return region
    matches = [r for r in db.session.scalars(sa.select(Region).where(Region.level == "commune"))
               if fold(r.name) == fold(raw)]
    # A name shared by an abolished commune and the one that replaced it means today's.
    today = local_today()
    current = [r for r in matches if region_in_force(r, today)]
    if len(current) == 1:
        return current[0]
    return matches[0] if len(matches) == 1 else None


def check_rows(user: User, headings: list[Any], rows: list[Row]) -> ImportReport:
    """Read every row into the services' terms; what the services decide is left to them."""
    report = ImportReport(rows=[])
    keys = [_heading_key(h) for h in headings]
    missing = [heading for key, heading, required in COLUMNS if required and key not in keys]
    if missing:
        report.file_errors.append(_("Thiếu cột: %(columns)s. Hãy dùng tệp mẫu.", columns=", ".join(missing)))
        return report
    if not rows:
        report.file_errors.append(_("Tệp không có dòng dữ liệu nào."))
        return report
    seen: dict[tuple[str, str, str], int] = {}
    for number, raw in rows:
        values = {key: raw[i] if i < len(raw) else None for i, key in enumerate(keys) if key}
        result = RowResult(number=number, values={k: _text(v) if not isinstance(v, (date, datetime))
                                                  else v for k, v in values.items()})
        _check_row(user, result, values)
        if not result.errors:
            key = (result.clean["tax_code"], fold(result.clean["product_name"]),
                   fold(result.clean["decision_number"]))
            if key in seen:
                result.errors.append(_("Trùng với dòng %(row)s (cùng mã số thuế, sản phẩm và số quyết định).",
                                       row=seen[key]))
            else:
                seen[key] = number
        report.rows.append(result)
    return report


def _check_row(user: User, result: RowResult, values: dict[str, Any]) -> None:
    errors = result.errors
    text = {k: _text(v) for k, v in values.items() if not isinstance(v, (date, datetime))}
    for key, heading, required in COLUMNS:
        if required and not text.get(key) and not isinstance(values.get(key), (date, datetime)):
            errors.append(_("Thiếu «%(column)s».", column=heading))
        if has_control_characters(text.get(key, "")):
            errors.append(_("«%(column)s»: %(problem)s", column=heading, problem=CONTROL_MESSAGE))
    if errors:
        return
    clean: dict[str, Any] = {"producer_name": text["producer_name"][:200],
                             "product_name": text["product_name"][:200],
                             "decision_number": text["decision_number"][:60]}
    try:
        clean["tax_code"] = validate_tax_code(text["tax_code"])
    except DomainError as exc:
        errors.append(exc.message)
    kind = _kind(text.get("producer_kind", ""), clean["producer_name"])
    if kind is None:
        errors.append(_("Loại hình chủ thể không hợp lệ (Hợp tác xã, Tổ hợp tác, Doanh nghiệp, "
                        "Hộ kinh doanh)."))
    clean["producer_kind"] = kind
    region = _find_region(text["region"])
    if region is None:
        errors.append(_("Không tìm thấy địa bàn «%(region)s» (ghi mã hoặc đúng tên xã/phường).",
                        region=text["region"]))
    clean["region"] = region
    group = _group(text["group"])
    if group is None:
        errors.append(_("Nhóm sản phẩm «%(group)s» không hợp lệ (Thực phẩm, Đồ uống, Thảo dược, "
                        "Thủ công mỹ nghệ, Sinh vật cảnh, Dịch vụ du lịch).", group=text["group"]))
    clean["group"] = group
    stars_text = re.sub(r"\s*(sao|★)\s*$", "", text["stars"], flags=re.IGNORECASE)
    stars = int(stars_text) if stars_text.isdigit() else None
    if stars not in (3, 4, 5):
        errors.append(_("Số sao phải là 3, 4 hoặc 5."))
    clean["stars"] = stars
    score = None
    if text.get("score"):
        try:
            score = Decimal(text["score"].replace(",", "."))
        except InvalidOperation:
            pass
        if score is None or not score.is_finite():
            errors.append(_("Điểm phải là một số từ 0 đến 100."))
    clean["score"] = score
    for key in ("issued_on", "expires_on"):
        try:
            clean[key] = parse_date(values.get(key))
        except ValueError:
            errors.append(_("«%(column)s» không đúng định dạng ngày (dd/mm/yyyy).", column=HEADINGS[key]))
            clean[key] = None
    clean["address"] = text.get("address") or (region.name if region else "")
    clean["issuing_authority"] = text.get("issuing_authority", "")[:200]
    if errors:
        return
    result.clean = clean
    producer = db.session.scalar(sa.select(Producer).where(Producer.tax_code == clean["tax_code"]))
    if producer is not None and not can(user, Action.CERTIFY, producer):
        errors.append(_("Mã số thuế thuộc một chủ thể ngoài phạm vi quản lý của bạn."))
        return
    cert = _existing_certificate(producer, clean)
    result.action = "unchanged" if cert is not None else "create"


def _existing_product(producer: Producer | None, clean: dict[str, Any]) -> Product | None:
    if producer is None:
        return None
    for product in producer.products:
        if fold(product.name_vi) == fold(clean["product_name"]):
            return product
    return None


def _existing_certificate(producer: Producer | None, clean: dict[str, Any]) -> Certificate | None:
    product = _existing_product(producer, clean)
    if product is None:
        return None
    for cert in product.certificates:
        if fold(cert.decision_number) == fold(clean["decision_number"]):
            return cert
    return None


# --- writing ---------------------------------------------------------------------------------

def dry_run(user: User, filename: str, content: bytes, today: date | None = None) -> ImportReport:
    """Check a file by importing it and rolling back: the verdicts are run_import's own."""
    return _import(user, filename, content, today, keep=False)


def run_import(user: User, filename: str, content: bytes, today: date | None = None) -> ImportReport:
    """Import every row or none: a file with any refused row writes nothing and raises with
    the rows' problems. The caller commits once."""
    report = _import(user, filename, content, today, keep=True)
    if not report.ok:
        raise ValidationFailed(_("Tệp có lỗi; chưa nhập dòng nào. Hãy sửa theo danh sách lỗi rồi nhập lại."),
                               report.as_errors())
    return report


def _import(user: User, filename: str, content: bytes, today: date | None, *, keep: bool) -> ImportReport:
    require_officer(user)
    report = check_rows(user, *read_table(filename, content))
    if report.file_errors:
        return report
    attempt = savepoint()
    try:
        created = _write_rows(user, report, today or local_today())
    except BaseException:
        attempt.rollback()
        raise
    if keep and report.ok:
        attempt.commit()
        report.created = created
    else:
        attempt.rollback()
    return report


def _write_rows(user: User, report: ImportReport, today: date) -> dict[str, int]:
    """Each new row through the services a typed entry uses, oldest certificate first so a
    newer one re-evaluates it; a service's refusal becomes the row's error."""
    created = {"producers": 0, "products": 0, "certificates": 0}
    rows = [r for r in report.rows if not r.errors and r.action == "create"]
    for row in sorted(rows, key=lambda r: (r.clean["issued_on"], r.number)):
        try:
            _write_row(user, row.clean, created, today)
        except DomainError as exc:
            row.errors.append(exc.message)
    return created


def _write_row(user: User, clean: dict[str, Any], created: dict[str, int], today: date) -> None:
    producer = db.session.scalar(sa.select(Producer).where(Producer.tax_code == clean["tax_code"]))
    if producer is None:
        producer = create_producer(user, {
            "name": clean["producer_name"], "kind": clean["producer_kind"], "tax_code": clean["tax_code"],
            "address": clean["address"][:300], "region_id": clean["region"].id})
        created["producers"] += 1
    product = _existing_product(producer, clean)
    if product is None:
        product = create_product(user, producer, {"group": clean["group"], "name_vi": clean["product_name"]})
        created["products"] += 1
    level, authority = default_issuer(clean["stars"], clean["issued_on"], _region_names(producer.region))
    data = {"stars": clean["stars"], "score": clean["score"], "issuing_level": level,
            "issuing_authority": clean["issuing_authority"] or authority,
            "decision_number": clean["decision_number"], "issued_on": clean["issued_on"],
            "expires_on": clean["expires_on"]}
    current = current_certificate(product)
    if current is not None and current.revoked_on is None:
        re_evaluate(user, current, data, today)
    else:
        register(user, product, data, today)
    created["certificates"] += 1


# --- templates --------------------------------------------------------------------------------

EXAMPLE_ROW = ["Hợp tác xã Nông nghiệp Ví Dụ", "4300000007", "Hợp tác xã", "Thôn Một, xã Ví Dụ",
               "Xã An Hải", "Tỏi Lý Sơn", "Thực phẩm", 4, 75.5, "123/QĐ-UBND",
               "Ủy ban nhân dân tỉnh Quảng Ngãi", date(2025, 3, 15), date(2028, 3, 15)]


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Danh sách sản phẩm OCOP")
    ws.append([heading for _k, heading, _r in COLUMNS])
    ws.append(EXAMPLE_ROW)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column in ("L", "M"):
        ws[f"{column}2"].number_format = "DD/MM/YYYY"
    for i, (_k, heading, _r) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = max(14, len(heading) + 2)
    ws.freeze_panes = "A2"
    guide = wb.create_sheet(_("Hướng dẫn"))
    guide.append([_("Cột"), _("Bắt buộc"), _("Ghi chú")])
    notes = {
        "tax_code": _("10 chữ số (13 với đơn vị phụ thuộc); dùng để nhận ra chủ thể đã có."),
        "producer_kind": _("Hợp tác xã, Tổ hợp tác, Doanh nghiệp, Hộ kinh doanh; bỏ trống thì suy từ tên."),
        "region": _("Mã địa bàn hoặc đúng tên xã/phường."),
        "group": _("Thực phẩm, Đồ uống, Thảo dược, Thủ công mỹ nghệ, Sinh vật cảnh, Dịch vụ du lịch."),
        "stars": _("3, 4 hoặc 5."),
        "score": _("Theo Quyết định 148/QĐ-TTg: 3 sao 50–<70, 4 sao 70–<90, 5 sao 90–100."),
        "issuing_authority": _("Bỏ trống thì lấy theo hạng sao (5 sao: Trung ương; 4 sao: tỉnh)."),
        "issued_on": _("Ngày/tháng/năm (dd/mm/yyyy)."),
        "expires_on": _("Bỏ trống thì tính %(months)s tháng kể từ ngày cấp.", months=VALIDITY_MONTHS),
    }
    for key, heading, required in COLUMNS:
        guide.append([heading, _("Có") if required else _("Không"), notes.get(key, "")])
    guide.append([])
    guide.append([_("Nhập lại cùng một tệp không tạo thêm dữ liệu: dòng được nhận ra theo mã số thuế, "
                    "tên sản phẩm và số quyết định.")])
    guide.column_dimensions["A"].width = 34
    guide.column_dimensions["C"].width = 90
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """In the exports' Vietnamese CSV convention (render/cells.py), which the import reads."""
    return vietnamese_csv([heading for _k, heading, _r in COLUMNS], [EXAMPLE_ROW])
