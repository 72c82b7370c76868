"""Import an existing OCOP product register (XLSX or CSV): dry run, then all-or-nothing."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.vn import mst

from ..accounts.models import Role, User
from ..accounts.permissions import Action, can, region_scope
from ..clock import local_today
from ..errors import DomainError, ValidationFailed, field_error
from ..extensions import db
from ..registry.models import Certificate, Producer, ProducerKind, Product, ProductGroup, Region
from ..registry.services import check_score, create_producer, create_product, register_certificate
from ..registry.status import VALIDITY_MONTHS
from .mail import _region_names
from .services import GROUP_LABELS, audit, default_issuer, require_officer

MAX_ROWS = 5000

# (key, Vietnamese heading, required)
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


# --- reading ------------------------------------------------------------------------------

def read_table(filename: str, content: bytes) -> tuple[list[Any], list[list[Any]]]:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(content)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(content)
    raise field_error("file", "Chỉ nhận tệp .xlsx hoặc .csv.")


def _read_xlsx(content: bytes) -> tuple[list[Any], list[list[Any]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, xml, key) for a damaged file
        raise field_error("file", "Không đọc được tệp Excel (.xlsx): tệp hỏng hoặc sai định dạng.") from None
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    wb.close()
    return (rows[0] if rows else []), rows[1:]


def _read_csv(content: bytes) -> tuple[list[Any], list[list[Any]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise field_error("file", "Tệp CSV phải được lưu với bảng mã UTF-8.") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    return (rows[0] if rows else []), rows[1:]


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
    return matches[0] if len(matches) == 1 else None


def check_rows(user: User, headings: list[Any], rows: list[list[Any]],
               today: date | None = None) -> ImportReport:
    today = today or local_today()
    report = ImportReport(rows=[])
    keys = [_heading_key(h) for h in headings]
    missing = [heading for key, heading, required in COLUMNS if required and key not in keys]
    if missing:
        report.file_errors.append("Thiếu cột: " + ", ".join(missing) + ". Hãy dùng tệp mẫu.")
        return report
    data_rows = [(i, r) for i, r in enumerate(rows, start=2) if any(_text(v) for v in r)]
    if not data_rows:
        report.file_errors.append("Tệp không có dòng dữ liệu nào.")
        return report
    if len(data_rows) > MAX_ROWS:
        report.file_errors.append(f"Tệp có {len(data_rows)} dòng; mỗi lần nhập tối đa {MAX_ROWS} dòng.")
        return report
    scope = None if user.role == Role.ADMIN else region_scope(user)
    seen: dict[tuple[str, str, str], int] = {}
    for number, raw in data_rows:
        values = {key: raw[i] if i < len(raw) else None for i, key in enumerate(keys) if key}
        result = RowResult(number=number, values={k: _text(v) if not isinstance(v, (date, datetime))
                                                  else v for k, v in values.items()})
        _check_row(user, result, values, scope, today)
        if not result.errors:
            key = (result.clean["tax_code"], fold(result.clean["product_name"]),
                   fold(result.clean["decision_number"]))
            if key in seen:
                result.errors.append(f"Trùng với dòng {seen[key]} (cùng mã số thuế, sản phẩm và số quyết định).")
            else:
                seen[key] = number
        report.rows.append(result)
    return report


def _check_row(user: User, result: RowResult, values: dict[str, Any], scope: set[int] | None,
               today: date) -> None:
    errors = result.errors
    text = {k: _text(v) for k, v in values.items() if not isinstance(v, (date, datetime))}
    for key, heading, required in COLUMNS:
        if required and not text.get(key) and not isinstance(values.get(key), (date, datetime)):
            errors.append(f"Thiếu «{heading}».")
    if errors:
        return
    clean: dict[str, Any] = {"producer_name": text["producer_name"][:200],
                             "product_name": text["product_name"][:200],
                             "decision_number": text["decision_number"][:60]}
    try:
        clean["tax_code"] = mst.validate(text["tax_code"].replace(" ", ""))
    except StdnumError:
        errors.append("Mã số thuế không hợp lệ (phải gồm 10 hoặc 13 chữ số và đúng chữ số kiểm tra).")
    kind = _kind(text.get("producer_kind", ""), clean["producer_name"])
    if kind is None:
        errors.append("Loại hình chủ thể không hợp lệ (Hợp tác xã, Tổ hợp tác, Doanh nghiệp, Hộ kinh doanh).")
    clean["producer_kind"] = kind
    region = _find_region(text["region"])
    if region is None:
        errors.append(f"Không tìm thấy địa bàn «{text['region']}» (ghi mã hoặc đúng tên xã/phường).")
    elif scope is not None and region.id not in scope:
        errors.append(f"Địa bàn «{region.name}» nằm ngoài phạm vi quản lý của bạn.")
    clean["region"] = region
    group = _group(text["group"])
    if group is None:
        errors.append(f"Nhóm sản phẩm «{text['group']}» không hợp lệ (Thực phẩm, Đồ uống, Thảo dược, "
                      "Thủ công mỹ nghệ, Sinh vật cảnh, Dịch vụ du lịch).")
    clean["group"] = group
    stars_text = re.sub(r"\s*(sao|★)\s*$", "", text["stars"], flags=re.IGNORECASE)
    stars = int(stars_text) if stars_text.isdigit() else None
    if stars not in (3, 4, 5):
        errors.append("Số sao phải là 3, 4 hoặc 5.")
    clean["stars"] = stars
    score = None
    if text.get("score"):
        try:
            score = Decimal(text["score"].replace(",", "."))
        except InvalidOperation:
            errors.append("Điểm phải là một số từ 0 đến 100.")
    clean["score"] = score
    if stars in (3, 4, 5) and score is not None:
        try:
            check_score(stars, score)
        except DomainError as exc:
            errors.append(exc.message)
    for key in ("issued_on", "expires_on"):
        try:
            clean[key] = parse_date(values.get(key))
        except ValueError:
            errors.append(f"«{HEADINGS[key]}» không đúng định dạng ngày (dd/mm/yyyy).")
            clean[key] = None
    if clean.get("issued_on") and clean["issued_on"] > today:
        errors.append("Ngày cấp không được ở tương lai.")
    if clean.get("issued_on") and clean.get("expires_on") and clean["expires_on"] <= clean["issued_on"]:
        errors.append("Ngày hết hạn phải sau ngày cấp.")
    clean["address"] = text.get("address") or (region.name if region else "")
    clean["issuing_authority"] = text.get("issuing_authority", "")[:200]
    if errors:
        return
    result.clean = clean
    producer = db.session.scalar(sa.select(Producer).where(Producer.tax_code == clean["tax_code"]))
    if producer is not None and not can(user, Action.CERTIFY, producer):
        errors.append("Mã số thuế thuộc một chủ thể ngoài phạm vi quản lý của bạn.")
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


def dry_run(user: User, filename: str, content: bytes) -> ImportReport:
    require_officer(user)
    headings, rows = read_table(filename, content)
    return check_rows(user, headings, rows)


def run_import(user: User, filename: str, content: bytes) -> ImportReport:
    """Import every row or none: any problem raises before anything is written, and the
    caller commits once (a database error rolls the whole file back)."""
    report = dry_run(user, filename, content)
    if not report.ok:
        raise ValidationFailed("Tệp có lỗi; chưa nhập dòng nào. Hãy sửa theo danh sách lỗi rồi nhập lại.",
                               report.as_errors())
    producers: dict[str, Producer] = {}
    for row in report.rows:
        if row.action != "create":
            continue
        clean = row.clean
        producer = producers.get(clean["tax_code"]) or db.session.scalar(
            sa.select(Producer).where(Producer.tax_code == clean["tax_code"]))
        if producer is None:
            producer = create_producer({"name": clean["producer_name"], "kind": clean["producer_kind"],
                                        "tax_code": clean["tax_code"], "address": clean["address"][:300],
                                        "region_id": clean["region"].id})
            report.created["producers"] += 1
        producers[clean["tax_code"]] = producer
        product = _existing_product(producer, clean)
        if product is None:
            product = create_product(producer, {"group": clean["group"], "name_vi": clean["product_name"]})
            report.created["products"] += 1
        level, authority = default_issuer(clean["stars"], clean["issued_on"],
                                          _region_names(producer.region))
        cert = register_certificate(product, {
            "stars": clean["stars"], "score": clean["score"], "issuing_level": level,
            "issuing_authority": clean["issuing_authority"] or authority,
            "decision_number": clean["decision_number"], "issued_on": clean["issued_on"],
            "expires_on": clean["expires_on"]})
        _link_history(product, cert)
        report.created["certificates"] += 1
        audit(user, "certificate.import", cert, producer.id, {"row": row.number})
    db.session.flush()
    return report


def _link_history(product: Product, new: Certificate) -> None:
    """Keep one live certificate per product: the newest supersedes the older ones."""
    live = [c for c in product.certificates if c.superseded_by_id is None and c.id != new.id]
    for other in live:
        if (other.issued_on, other.id) < (new.issued_on, new.id):
            other.superseded_by_id = new.id
        else:
            new.superseded_by_id = other.id


# --- templates --------------------------------------------------------------------------------

EXAMPLE_ROW = ["Hợp tác xã Nông nghiệp Ví Dụ", "4300000007", "Hợp tác xã", "Thôn Một, xã Ví Dụ",
               "Xã An Hải", "Tỏi Lý Sơn", "Thực phẩm", 4, 75.5, "123/QĐ-UBND",
               "Ủy ban nhân dân tỉnh Quảng Ngãi", date(2025, 3, 15), date(2028, 3, 15)]


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách sản phẩm OCOP"
    ws.append([heading for _k, heading, _r in COLUMNS])
    ws.append(EXAMPLE_ROW)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column in ("L", "M"):
        ws[f"{column}2"].number_format = "DD/MM/YYYY"
    for i, (_k, heading, _r) in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = max(14, len(heading) + 2)
    ws.freeze_panes = "A2"
    guide = wb.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Bắt buộc", "Ghi chú"])
    notes = {
        "tax_code": "10 chữ số (13 với đơn vị phụ thuộc); dùng để nhận ra chủ thể đã có.",
        "producer_kind": "Hợp tác xã, Tổ hợp tác, Doanh nghiệp, Hộ kinh doanh; bỏ trống thì suy từ tên.",
        "region": "Mã địa bàn hoặc đúng tên xã/phường.",
        "group": "Thực phẩm, Đồ uống, Thảo dược, Thủ công mỹ nghệ, Sinh vật cảnh, Dịch vụ du lịch.",
        "stars": "3, 4 hoặc 5.",
        "score": "Theo Quyết định 148/QĐ-TTg: 3 sao 50–<70, 4 sao 70–<90, 5 sao 90–100.",
        "issuing_authority": "Bỏ trống thì lấy theo hạng sao (5 sao: Trung ương; 4 sao: tỉnh).",
        "issued_on": "Ngày/tháng/năm (dd/mm/yyyy).",
        "expires_on": f"Bỏ trống thì tính {VALIDITY_MONTHS} tháng kể từ ngày cấp.",
    }
    for key, heading, required in COLUMNS:
        guide.append([heading, "Có" if required else "Không", notes.get(key, "")])
    guide.append([])
    guide.append(["Nhập lại cùng một tệp không tạo thêm dữ liệu: dòng được nhận ra theo mã số thuế, "
                  "tên sản phẩm và số quyết định."])
    guide.column_dimensions["A"].width = 34
    guide.column_dimensions["C"].width = 90
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([heading for _k, heading, _r in COLUMNS])
    writer.writerow([v.strftime("%d/%m/%Y") if isinstance(v, date) else v for v in EXAMPLE_ROW])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
