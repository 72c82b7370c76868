"""Demo data for the province of Quảng Ngãi: real 2024 districts, invented (demo) producers."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from stdnum.vn import mst

from .batches.media import StoredFile
from .batches.models import Attachment, Batch, DiaryEvent
from .batches.services import append_event, create_batch
from .clock import VIETNAM, local_today
from .demo_media import store_lab_report, store_product_photo
from .extensions import db
from .registry.models import (
    Certificate,
    IssuingLevel,
    Producer,
    ProducerKind,
    Product,
    ProductGroup,
    Region,
    RegionLevel,
)
from .registry.services import register_certificate, register_producer, register_product
from .registry.status import VALIDITY_MONTHS, add_months

DEMO_MARK = "[DEMO] "
REFORM_DAY = date(2025, 7, 1)  # Resolution 1677/NQ-UBTVQH15: districts abolished
DEMO_PREFIX_BASE = "89399"     # demo company prefixes 89399000NN: never licensed to anyone

PROVINCE = ("51", "Tỉnh Quảng Ngãi")
# (code, name, communes) — 2024 district-level units; commune codes are demo codes.
DISTRICTS: list[tuple[str, str, list[str]]] = [
    ("522", "Thành phố Quảng Ngãi", ["Phường Trần Phú", "Xã Nghĩa Dõng", "Xã Tịnh Khê"]),
    ("534", "Thị xã Đức Phổ", ["Phường Phổ Thạnh", "Phường Nguyễn Nghiêm", "Xã Phổ An"]),
    ("524", "Huyện Bình Sơn", ["Thị trấn Châu Ổ", "Xã Bình Hải", "Xã Bình Châu"]),
    ("527", "Huyện Sơn Tịnh", ["Xã Tịnh Hà", "Xã Tịnh Sơn", "Xã Tịnh Bắc"]),
    ("528", "Huyện Tư Nghĩa", ["Thị trấn La Hà", "Xã Nghĩa Hiệp", "Xã Nghĩa Kỳ"]),
    ("532", "Huyện Nghĩa Hành", ["Thị trấn Chợ Chùa", "Xã Hành Thiện", "Xã Hành Tín Đông"]),
    ("533", "Huyện Mộ Đức", ["Thị trấn Mộ Đức", "Xã Đức Nhuận", "Xã Đức Lợi"]),
    ("535", "Huyện Ba Tơ", ["Thị trấn Ba Tơ", "Xã Ba Thành", "Xã Ba Vì"]),
    ("531", "Huyện Minh Long", ["Xã Long Hiệp", "Xã Thanh An", "Xã Long Sơn"]),
    ("529", "Huyện Sơn Hà", ["Thị trấn Di Lăng", "Xã Sơn Hạ", "Xã Sơn Thành"]),
    ("530", "Huyện Sơn Tây", ["Xã Sơn Dung", "Xã Sơn Tân", "Xã Sơn Mùa"]),
    ("525", "Huyện Trà Bồng", ["Thị trấn Trà Xuân", "Xã Trà Bình", "Xã Trà Thủy"]),
    ("536", "Huyện Lý Sơn", ["Xã An Vĩnh", "Xã An Hải", "Xã An Bình"]),
]
# After the reform the commune level reports straight to the province.
POST_REFORM_UNITS = [("51.LS", "Đặc khu Lý Sơn"), ("51.TB", "Xã Trà Bồng"), ("51.DP", "Phường Đức Phổ")]

# status: which certificate status this demo product shows (relative to the load date).
DEMO_PRODUCTS: list[dict[str, Any]] = [
    dict(key="toi", producer="Hợp tác xã Nông nghiệp Tổng hợp An Hải", kind="cooperative",
         commune="Xã An Hải", address="Thôn Đông, xã An Hải, huyện Lý Sơn",
         name_vi="Tỏi cô đơn Lý Sơn", name_en="Ly Son single-clove garlic", group="food",
         stars=5, score="91.5", status="valid", shelf_life_days=365, standards="TCCS 01:2023/AH; VietGAP",
         lot="TOI2026-10", unit="kg", desc="Tỏi một tép trồng trên đất cát núi lửa Lý Sơn, phơi nắng tự nhiên."),
    dict(key="mach-nha", producer="Cơ sở sản xuất Mạch nha Thi Phổ Bà Tư", kind="household",
         commune="Xã Đức Nhuận", address="Thôn Thi Phổ 2, xã Đức Nhuận, huyện Mộ Đức",
         name_vi="Mạch nha Thi Phổ", name_en="Thi Pho malt syrup", group="food",
         stars=5, score="90", status="valid", shelf_life_days=540, standards="TCCS 02:2022/TP",
         lot="MN2026-09", unit="hũ", desc="Mạch nha nấu từ gạo nếp và mầm lúa theo cách truyền thống."),
    dict(key="keo-gung", producer="Hợp tác xã Sản xuất Kẹo gương Tịnh Khê", kind="cooperative",
         commune="Xã Tịnh Khê", address="Thôn Cổ Lũy, xã Tịnh Khê, thành phố Quảng Ngãi",
         name_vi="Kẹo gương Quảng Ngãi", name_en="Quang Ngai malt candy", group="food",
         stars=4, score="78", status="valid", shelf_life_days=180, standards="TCCS 03:2023/TK",
         lot="KG2026-11", unit="hộp", desc="Kẹo gương làm từ mạch nha, đậu phộng rang và mè."),
    dict(key="nuoc-mam", producer="Công ty TNHH Nước mắm Sa Huỳnh", kind="company",
         commune="Phường Phổ Thạnh", address="Tổ dân phố Thạnh Đức 1, phường Phổ Thạnh, thị xã Đức Phổ",
         name_vi="Nước mắm cá cơm Sa Huỳnh 40 độ đạm", name_en="Sa Huynh anchovy fish sauce, 40°N",
         group="food", stars=4, score="82.5", status="valid", shelf_life_days=730,
         standards="TCVN 5107:2018; HACCP", lot="NM2026-08", unit="chai",
         desc="Cá cơm và muối ủ chượp 12 tháng trong thùng gỗ."),
    dict(key="que", producer="Hợp tác xã Quế Trà Bồng", kind="cooperative",
         commune="Xã Trà Bình", address="Thôn Bình Tân, xã Trà Bình, huyện Trà Bồng",
         name_vi="Quế thanh Trà Bồng", name_en="Tra Bong cinnamon sticks", group="herbal",
         stars=4, score="75", status="valid", shelf_life_days=730, standards="TCVN 10396:2015",
         lot="QUE2026-07", unit="gói", desc="Vỏ quế Trà Bồng cuộn thanh, sấy khô, hàm lượng tinh dầu cao."),
    dict(key="muoi", producer="Tổ hợp tác Muối sạch Sa Huỳnh", kind="cooperative_group",
         commune="Xã Phổ An", address="Thôn Thạch By, xã Phổ An, thị xã Đức Phổ",
         name_vi="Muối biển sạch Sa Huỳnh", name_en="Sa Huynh clean sea salt", group="food",
         stars=3, score="62", status="valid", shelf_life_days=1095, standards="TCVN 9639:2013",
         lot="MUOI2026-06", unit="kg", desc="Muối phơi trên ruộng trải bạt, rửa sạch và sấy."),
    dict(key="linh-chi", producer="Hộ kinh doanh Nấm linh chi Tịnh Hà", kind="household",
         commune="Xã Tịnh Hà", address="Thôn Trung Sơn, xã Tịnh Hà, huyện Sơn Tịnh",
         name_vi="Nấm linh chi đỏ sấy khô", name_en="Dried red lingzhi mushroom", group="herbal",
         stars=3, score="58", status="expiring_30", shelf_life_days=730, standards="TCCS 01:2021/LC",
         lot="LC2026-05", unit="hộp", desc="Nấm linh chi đỏ trồng trên giá thể mùn cưa, sấy lạnh."),
    dict(key="tho-cam", producer="Hợp tác xã Dệt thổ cẩm Làng Teng", kind="cooperative",
         commune="Xã Ba Thành", address="Làng Teng, xã Ba Thành, huyện Ba Tơ",
         name_vi="Túi thổ cẩm Hrê Làng Teng", name_en="Lang Teng Hre brocade bag", group="handicrafts",
         stars=3, score="55", status="expired", shelf_life_days=None, standards="TCCS 01:2020/LT",
         lot="TC2023-03", unit="chiếc", desc="Túi dệt tay trên khung dệt truyền thống của đồng bào Hrê."),
    dict(key="bo-mot-nang", producer="Cơ sở Bò một nắng Di Lăng", kind="household",
         commune="Thị trấn Di Lăng", address="Tổ dân phố Gò Da, thị trấn Di Lăng, huyện Sơn Hà",
         name_vi="Bò một nắng Sơn Hà", name_en="Son Ha sun-dried beef", group="food",
         stars=3, score="60", status="revoked", shelf_life_days=90, standards="TCCS 01:2022/DL",
         lot="BO2025-12", unit="gói", desc="Thịt bò tẩm gia vị, phơi một nắng."),
    dict(key="tra-day", producer="Hợp tác xã Dược liệu Minh Long", kind="cooperative",
         commune="Xã Long Sơn", address="Thôn Ruộng Gò, xã Long Sơn, huyện Minh Long",
         name_vi="Trà dây Minh Long", name_en="Minh Long ampelopsis tea", group="drinks",
         stars=3, score="65", status="valid", shelf_life_days=540, standards="TCCS 02:2023/ML",
         lot="TD2026-10", unit="gói", desc="Lá trà dây rừng hái tay, sao khô."),
    dict(key="duong-phoi", producer="Cơ sở Đường phổi Nghĩa Hiệp", kind="household",
         commune="Xã Nghĩa Hiệp", address="Thôn Phú Mỹ, xã Nghĩa Hiệp, huyện Tư Nghĩa",
         name_vi="Đường phổi Quảng Ngãi", name_en="Quang Ngai puffed sugar", group="food",
         stars=4, score="71", status="expiring_90", shelf_life_days=365, standards="TCCS 01:2022/NH",
         lot="DP2026-09", unit="hộp", desc="Đường mía nấu và kéo thủ công thành từng phiến xốp."),
    dict(key="hanh", producer="Hợp tác xã Hành tỏi An Vĩnh", kind="cooperative",
         commune="Xã An Vĩnh", address="Thôn Tây, xã An Vĩnh, huyện Lý Sơn",
         name_vi="Hành tím Lý Sơn", name_en="Ly Son shallots", group="food",
         stars=4, score="72", status="reevaluated", shelf_life_days=180, standards="VietGAP",
         lot="HANH2026-03", unit="kg", desc="Hành tím trồng trên cát biển, phơi khô tự nhiên."),
    dict(key="ca-bong", producer="Cơ sở Cá bống sông Trà Bà Hai", kind="household",
         commune="Phường Trần Phú", address="Số 12 đường Trần Hưng Đạo, phường Trần Phú, TP. Quảng Ngãi",
         name_vi="Cá bống sông Trà kho tiêu", name_en="Tra Khuc river goby braised with pepper",
         group="food", stars=3, score="66", status="valid", shelf_life_days=30,
         standards="TCCS 01:2023/CB", lot="CB2026-11", unit="hũ",
         desc="Cá bống sông Trà Khúc kho tiêu theo công thức gia truyền."),
    dict(key="mat-ong", producer="Tổ hợp tác Mật ong rừng Sơn Tây", kind="cooperative_group",
         commune="Xã Sơn Dung", address="Thôn Tang, xã Sơn Dung, huyện Sơn Tây",
         name_vi="Mật ong rừng Sơn Tây", name_en="Son Tay wild forest honey", group="food",
         stars=3, score="63.5", status="valid", shelf_life_days=730, standards="TCVN 12605:2019",
         lot="MO2026-04", unit="chai", desc="Mật ong khai thác từ tổ ong rừng tự nhiên."),
    dict(key="mai", producer="Hợp tác xã Hoa kiểng Nghĩa Hành", kind="cooperative",
         commune="Xã Hành Thiện", address="Thôn Xuân Đình, xã Hành Thiện, huyện Nghĩa Hành",
         name_vi="Mai vàng bonsai Nghĩa Hành", name_en="Nghia Hanh yellow apricot bonsai",
         group="plants_animals", stars=3, score="57", status="valid", shelf_life_days=None,
         standards="TCCS 01:2024/HK", lot="MAI2026-01", unit="chậu",
         desc="Mai vàng ghép, tạo dáng bonsai trong chậu sứ."),
]


# Invented representatives, one per demo producer, in the order of DEMO_PRODUCTS.
REPRESENTATIVES = [
    "Võ Văn Thành", "Phạm Thị Tư", "Nguyễn Thị Hồng", "Lê Quang Huy", "Đinh Văn Rô",
    "Trương Thị Lài", "Huỳnh Văn Nam", "Đinh Thị Blin", "Phạm Văn Sơn", "Đinh Văn Lía",
    "Bùi Thị Mai", "Dương Văn Ba", "Nguyễn Thị Hai", "Hồ Văn Đang", "Trần Văn Hoa",
]


def demo_tax_code(index: int) -> str:
    """A valid-format tax code; 43 is Quảng Ngãi's tax-office prefix, the numbers are demo."""
    for number in range(index, index + 10_000_000, 1000):
        body = f"43{number:07d}"
        check = mst.calc_check_digit(body)
        if len(check) == 1:  # a remainder giving check "10" has no valid code: skip it
            return body + check
    raise ValueError(index)


def _gtin13(prefix: str, item: int) -> str:
    from .gs1 import make_gtin13

    return make_gtin13(prefix, item)


def _ensure_region(code: str, name: str, level: RegionLevel, parent: Region | None,
                   valid_from: date | None = None, valid_to: date | None = None) -> Region:
    region = db.session.scalar(sa.select(Region).where(Region.code == code))
    if region is None:
        region = Region(code=code, name=name, level=level, parent=parent,
                        valid_from=valid_from, valid_to=valid_to)
        db.session.add(region)
        db.session.flush()
    return region


def load_regions() -> dict[str, Region]:
    province = _ensure_region(PROVINCE[0], PROVINCE[1], RegionLevel.PROVINCE, None)
    communes: dict[str, Region] = {}
    last_day = REFORM_DAY - timedelta(days=1)
    for code, name, commune_names in DISTRICTS:
        district = _ensure_region(code, name, RegionLevel.DISTRICT, province, date(2020, 1, 1), last_day)
        for i, commune_name in enumerate(commune_names, start=1):
            communes[commune_name] = _ensure_region(f"{code}.{i:02d}", commune_name, RegionLevel.COMMUNE,
                                                    district, date(2020, 1, 1), last_day)
    for code, name in POST_REFORM_UNITS:
        _ensure_region(code, name, RegionLevel.COMMUNE, province, REFORM_DAY, None)
    return communes


def _certificate_dates(status: str, today: date) -> tuple[date, date | None]:
    """(issued_on, revoked_on) that give the wanted status on `today`."""
    if status == "expiring_30":
        return add_months(today + timedelta(days=20), -VALIDITY_MONTHS), None
    if status == "expiring_90":
        return add_months(today + timedelta(days=75), -VALIDITY_MONTHS), None
    if status == "expired":
        return add_months(today - timedelta(days=45), -VALIDITY_MONTHS), None
    if status == "revoked":
        return today - timedelta(days=400), today - timedelta(days=30)
    return today - timedelta(days=200), None


def _issuer(stars: int, issued_on: date) -> tuple[IssuingLevel, str]:
    if stars == 5:
        return IssuingLevel.CENTRAL, "Bộ Nông nghiệp và Môi trường"
    if stars == 4 or issued_on >= REFORM_DAY:
        return IssuingLevel.PROVINCE, "Ủy ban nhân dân tỉnh Quảng Ngãi"
    return IssuingLevel.DISTRICT, "Ủy ban nhân dân huyện (cấp huyện trước 7/2025)"


def _diary(batch: Batch, spec: dict[str, Any], start: date, place: str) -> None:
    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), VIETNAM).astimezone(timezone.utc)

    steps = [
        ("planting" if spec["group"] in ("food", "herbal", "drinks", "plants_animals") else "other",
         -120, "Chuẩn bị nguyên liệu, gieo trồng/thu mua nguyên liệu đạt chuẩn.", {}),
        ("input", -90, "Bón phân hữu cơ vi sinh theo quy trình.",
         {"input_name": "Phân hữu cơ vi sinh Sông Gianh", "dose": "500 kg/ha",
          "pre_harvest_interval_days": 30}),
        ("harvest", -30, "Thu hoạch nguyên liệu.", {}),
        ("processing", -20, "Sơ chế và chế biến theo quy trình của cơ sở.", {}),
        ("lab_test", -12, "Kiểm nghiệm chỉ tiêu an toàn thực phẩm: đạt.",
         {"laboratory": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Quảng Ngãi", "result": "Đạt"}),
        ("packing", -10, "Đóng gói, dán tem truy xuất.", {}),
    ]
    for kind, offset, notes, details in steps:
        event = append_event(batch, {
            "kind": kind, "occurred_at": at(start + timedelta(days=offset), 8), "place": place,
            "notes": notes, "details": details,
            "quantity": batch.quantity if kind == "packing" else None,
            "unit": batch.unit if kind == "packing" else None})
        if kind == "lab_test":
            _attach(event, store_lab_report(spec["name_vi"], batch.lot, details["laboratory"],
                                            start + timedelta(days=offset)))


def _attach(event: DiaryEvent, stored: StoredFile) -> None:
    """A demo file on a diary step (the producer's upload does this through its service)."""
    db.session.add(Attachment(event_id=event.id, path=stored.name, content_type=stored.content_type,
                              size_bytes=stored.size_bytes, sha256=stored.sha256))


def load_demo(today: date | None = None) -> dict[str, int]:
    """Create what is missing; existing rows (matched on natural keys) are left alone."""
    today = today or local_today()
    communes = load_regions()
    created = {"producers": 0, "products": 0, "certificates": 0, "batches": 0}
    for index, spec in enumerate(DEMO_PRODUCTS, start=1):
        tax_code = demo_tax_code(index)
        producer = db.session.scalar(sa.select(Producer).where(Producer.tax_code == tax_code))
        prefix = f"{DEMO_PREFIX_BASE}{index:05d}"
        if producer is None:
            producer = register_producer({
                "name": DEMO_MARK + spec["producer"], "kind": ProducerKind(spec["kind"]),
                "tax_code": tax_code, "address": spec["address"] + ", tỉnh Quảng Ngãi",
                "region_id": communes[spec["commune"]].id, "representative": REPRESENTATIVES[index - 1],
                "phone": f"0255 3{index:06d}", "gs1_company_prefix": prefix, "is_demo": True,
            })
            created["producers"] += 1
        gtin = "0" + _gtin13(prefix, 1)
        product = db.session.scalar(sa.select(Product).where(Product.gtin == gtin))
        if product is None:
            product = register_product(producer, {
                "group": ProductGroup(spec["group"]), "name_vi": spec["name_vi"],
                "name_en": spec["name_en"], "description_vi": spec["desc"], "gtin": gtin,
                "standards": spec["standards"], "shelf_life_days": spec["shelf_life_days"],
                "trace_code": f"DEMO{index:04d}",
            })
            created["products"] += 1
        if product.image_path is None:
            product.image_path = store_product_photo(spec["key"]).name
        if not product.certificates:
            _demo_certificates(product, spec, today)
            created["certificates"] += 1
        batch = db.session.scalar(sa.select(Batch).where(Batch.product_id == product.id,
                                                         Batch.lot == spec["lot"]))
        if batch is None:
            produced = today - timedelta(days=8)
            expiry = produced + timedelta(days=spec["shelf_life_days"]) if spec["shelf_life_days"] else None
            batch = create_batch(product, {"lot": spec["lot"], "production_date": produced,
                                           "expiry_date": expiry, "quantity": Decimal(500),
                                           "unit": spec["unit"]})
            _diary(batch, spec, produced, spec["address"])
            created["batches"] += 1
    from .accounts.demo import load_demo_accounts
    from .codes.demo import load_demo_label_runs
    from .resolver.demo import load_demo_scans

    load_demo_label_runs()
    load_demo_scans()
    load_demo_accounts()
    return created


def _demo_certificates(product: Product, spec: dict[str, Any], today: date) -> None:
    stars, score, status = spec["stars"], Decimal(spec["score"]), spec["status"]
    if status == "reevaluated":
        old_issue = today - timedelta(days=1200)
        level, authority = _issuer(3, old_issue)
        old = register_certificate(product, {
            "stars": 3, "score": Decimal("64"), "issuing_level": level, "issuing_authority": authority,
            "decision_number": f"{1000 + product.id}/QĐ-UBND", "issued_on": old_issue})
        issued_on = today - timedelta(days=60)
    else:
        old = None
        issued_on, _revoked = _certificate_dates(status, today)
    level, authority = _issuer(stars, issued_on)
    cert = register_certificate(product, {
        "stars": stars, "score": score, "issuing_level": level, "issuing_authority": authority,
        "decision_number": f"{2000 + product.id}/QĐ-UBND", "issued_on": issued_on})
    if old is not None:
        old.superseded_by_id = cert.id
    if status == "revoked":
        cert.revoked_on = _certificate_dates(status, today)[1]
        cert.revocation_decision = f"{3000 + product.id}/QĐ-UBND"
        cert.revocation_reason = ("Kiểm tra định kỳ phát hiện cơ sở không duy trì điều kiện "
                                  "an toàn thực phẩm; sản phẩm không còn đáp ứng tiêu chí OCOP.")
    db.session.flush()


def demo_certificate_counts() -> dict[str, int]:
    today = local_today()
    counts: dict[str, int] = {}
    for cert in db.session.scalars(sa.select(Certificate)):
        status = cert.status_on(today).value
        counts[status] = counts.get(status, 0) + 1
    return counts
