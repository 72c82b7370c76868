"""The officer's pages: products list with filters, the producer page, the follow-up lists,
and region pickers that offer only the administrative units in force."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.factories import make_certificate, make_producer, make_product, make_region, make_user
from traceability.accounts.services import issue_handover
from traceability.clock import local_today
from traceability.extensions import db as _db
from traceability.oversight import charts
from traceability.registry.models import ProducerKind, RegionLevel

TODAY = local_today()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _options(html: str, select_id: str = "region_id") -> list[str]:
    select = re.search(rf'<select id="{select_id}" name="{select_id}">(.*?)</select>', html, re.S).group(1)
    return [re.sub(r"&nbsp;", "", label).strip() for label in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)]


@pytest.fixture()
def office(area):
    """Besides communes A and B (undated): a district abolished by the 2025 reform with its old
    commune, and a commune created by it. Products in A: one per certificate state."""
    old_district = make_region(parent_id=area.province.id, level=RegionLevel.DISTRICT, name="Huyện Cũ",
                               valid_from=date(2020, 1, 1), valid_to=date(2025, 6, 30))
    old_commune = make_region(parent_id=old_district.id, name="Xã Cũ Sáp Nhập",
                              valid_from=date(2020, 1, 1), valid_to=date(2025, 6, 30))
    new_commune = make_region(parent_id=area.province.id, name="Xã Mới Lập", valid_from=date(2025, 7, 1))
    garlic_co = make_producer(area.a, name="HTX Tỏi Lý Sơn", kind=ProducerKind.COOPERATIVE,
                              representative="Võ Văn Thành", email="toi@example.vn")
    garlic = make_product(garlic_co, name_vi="Tỏi cô đơn")
    make_certificate(garlic, stars=5, score=None, issued_on=TODAY - timedelta(days=100))          # valid
    sauce = make_product(garlic_co, name_vi="Nước mắm")
    make_certificate(sauce, stars=4, score=None, issued_on=TODAY - timedelta(days=1000),
                     expires_on=TODAY + timedelta(days=40))                                      # expiring
    old_co = make_producer(old_commune, name="Cơ sở Xã Cũ")
    paste = make_product(old_co, name_vi="Mắm ruốc")
    make_certificate(paste, stars=3, score=None, issued_on=TODAY - timedelta(days=1200),
                     expires_on=TODAY - timedelta(days=3))                                       # expired
    cloth = make_product(old_co, name_vi="Thổ cẩm")
    revoked = make_certificate(cloth, stars=3, score=None, issued_on=TODAY - timedelta(days=300))
    revoked.revoked_on, revoked.revocation_decision = TODAY - timedelta(days=2), "9/QĐ-UBND"
    revoked.revocation_reason = "Không duy trì điều kiện."
    make_product(make_producer(area.b, name="HTX Xã B"), name_vi="Bánh tráng xã B")               # officer B's
    _db.session.flush()
    return dict(old_district=old_district, old_commune=old_commune, new_commune=new_commune,
                garlic_co=garlic_co, garlic=garlic, sauce=sauce, paste=paste, cloth=cloth,
                province_officer=make_user("officer", regions=[area.province]))


# --- products list -----------------------------------------------------------------------------

def test_products_list_filters_by_certificate_status_stars_and_region(client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    found = lambda query: re.findall(r'<a href="/officer/products/\d+">([^<]+)</a>',  # noqa: E731
                                     _text(client.get("/officer/products" + query)))
    assert sorted(found("")) == ["Bánh tráng xã B", "Mắm ruốc", "Nước mắm", "Thổ cẩm", "Tỏi cô đơn"]
    assert found("?status=valid") == ["Tỏi cô đơn"]
    assert found("?status=expiring") == ["Nước mắm"]
    assert found("?status=expired") == ["Mắm ruốc"]
    assert found("?status=revoked") == ["Thổ cẩm"]
    assert found("?status=none") == ["Bánh tráng xã B"]
    assert sorted(found("?stars=3")) == ["Mắm ruốc", "Thổ cẩm"]
    assert found(f"?region_id={area.a.id}&stars=4") == ["Nước mắm"]
    # A district covers the communes under it, even an abolished one's.
    assert sorted(found(f"?region_id={office['old_district'].id}")) == ["Mắm ruốc", "Thổ cẩm"]
    assert found("?q=cô đơn") == ["Tỏi cô đơn"]
    assert sorted(found("?q=HTX Tỏi")) == ["Nước mắm", "Tỏi cô đơn"]   # by the producer too


def test_products_list_refuses_bad_filters_and_foreign_regions(client, sign_in, area, office):
    sign_in(client, area.officer)
    assert client.get("/officer/products?stars=6").status_code == 400
    assert client.get("/officer/products?status=superseded").status_code == 400
    assert client.get("/officer/products?page=0").status_code == 400
    assert client.get(f"/officer/products?region_id={area.b.id}").status_code == 403
    html = _text(client.get("/officer/products"))
    assert "Bánh tráng xã B" not in html and "Tỏi cô đơn" in html


def test_products_list_is_paged_by_fifty(client, sign_in, area):
    producer = make_producer(area.a)
    for n in range(51):
        make_product(producer, name_vi=f"Sản phẩm {n:02d}")
    sign_in(client, area.officer)
    first, second = _text(client.get("/officer/products")), _text(client.get("/officer/products?page=2"))
    assert first.count('href="/officer/products/') == 50 and "Trang 1/2" in first
    assert second.count('href="/officer/products/') == 1 and "Sản phẩm 50" in second
    assert 'href="/officer/products?page=2"' in first and 'rel="prev"' in second


def test_products_list_and_product_page_link_the_producer_page(client, sign_in, area, office):
    sign_in(client, area.officer)
    producer_link = f'href="/officer/producers/{office["garlic_co"].id}"'
    assert producer_link in _text(client.get("/officer/products"))
    assert producer_link in _text(client.get(f"/officer/products/{office['garlic'].id}"))


# --- the producer page ---------------------------------------------------------------------------

def test_the_producer_page_shows_facts_products_with_their_certificates_and_the_handover(
        client, sign_in, area, office):
    producer = office["garlic_co"]
    sign_in(client, area.officer)
    response = client.get(f"/officer/producers/{producer.id}")
    assert response.status_code == 200
    html = _text(response)
    assert "HTX Tỏi Lý Sơn" in html and "Hợp tác xã" in html and "cooperative" not in html
    assert "Võ Văn Thành" in html and "toi@example.vn" in html and producer.tax_code in html
    garlic_cert, sauce_cert = office["garlic"].certificates[0], office["sauce"].certificates[0]
    assert "Còn hiệu lực" in html and "Sắp hết hạn" in html
    for cert in (garlic_cert, sauce_cert):
        assert f'href="/officer/certificates/{cert.id}/re-evaluate"' in html
        assert f'href="/officer/certificates/{cert.id}/revoke"' in html
    assert "Chưa bàn giao" in html
    assert f'href="/account/producers/{producer.id}/handover"' in html and "Cấp mã nhận bàn giao" in html


def test_the_producer_page_says_when_a_claim_is_waiting(client, sign_in, area, office):
    producer = office["garlic_co"]
    issue_handover(area.officer, producer)
    sign_in(client, area.officer)
    html = _text(client.get(f"/officer/producers/{producer.id}"))
    assert "Đang chờ nhận bàn giao" in html and "hết hạn lúc" in html


def test_an_expired_or_revoked_product_offers_a_new_certificate_on_the_old_units_producer(
        client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    html = _text(client.get(f"/officer/producers/{office['paste'].producer_id}"))
    assert "đơn vị cũ, đến 30/06/2025" in html
    assert html.count("#cap-moi") == 2
    assert f'href="/officer/certificates/{office["cloth"].certificates[0].id}/revoke"' not in html
    page = _text(client.get(f"/officer/products/{office['paste'].id}"))
    assert 'id="cap-moi"' in page and 'action="/officer/products/' in page


def test_an_officer_of_another_region_or_an_inspector_cannot_open_the_producer_page(
        client, sign_in, area, office):
    url = f"/officer/producers/{office['garlic_co'].id}"
    sign_in(client, area.officer_b)
    assert client.get(url).status_code == 403
    sign_in(client, area.inspector)
    assert client.get(url).status_code == 403
    sign_in(client, area.admin)
    assert client.get(url).status_code == 200
    assert client.get("/officer/producers/999999").status_code == 404


# --- the follow-up lists ---------------------------------------------------------------------------

def _listed(client, query: str) -> list[str]:
    return re.findall(r'<td data-label="Sản phẩm"><a href="/officer/products/\d+">([^<]+)</a>',
                      _text(client.get("/officer/certificates" + query)))


def test_follow_up_tabs_hold_their_certificates_and_say_how_many(client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    assert _listed(client, "?bucket=expiring_90") == ["Nước mắm"]
    assert _listed(client, "?bucket=lapsed") == ["Mắm ruốc"]
    assert _listed(client, "?bucket=revoked") == ["Thổ cẩm"]
    assert sorted(_listed(client, "?bucket=all")) == ["Mắm ruốc", "Nước mắm", "Thổ cẩm", "Tỏi cô đơn"]
    html = _text(client.get("/officer/certificates"))
    counts = dict(re.findall(r'bucket=(\w+)"[^>]*>[^<]+<span class="n">(\d+)</span>', html))
    assert counts == {"expiring_90": "1", "expiring_30": "0", "lapsed": "1", "revoked": "1", "all": "4"}
    # Dates the Vietnamese way, and each row's actions.
    sauce = office["sauce"].certificates[0]
    assert sauce.expires_on.strftime("%d/%m/%Y") in html and "còn 40 ngày" in html
    for action in ("re-evaluate", "revoke", "notice.pdf"):
        assert f'href="/officer/certificates/{sauce.id}/{action}"' in html
    assert f'href="/officer/producers/{office["garlic_co"].id}"' in html


def test_follow_up_filters_by_region_and_stars_and_counts_under_the_filters(client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    assert sorted(_listed(client, f"?bucket=all&region_id={area.a.id}")) == ["Nước mắm", "Tỏi cô đơn"]
    assert _listed(client, "?bucket=all&stars=5") == ["Tỏi cô đơn"]
    html = _text(client.get(f"/officer/certificates?bucket=all&region_id={office['old_district'].id}&history=1"))
    counts = dict(re.findall(r'bucket=(\w+)[^"]*"[^>]*>[^<]+<span class="n">(\d+)</span>', html))
    assert counts["all"] == "2" and counts["expiring_90"] == "0" and counts["lapsed"] == "1"
    # The tab links keep the filters.
    assert f"region_id={office['old_district'].id}" in re.search(r'href="([^"]*bucket=lapsed[^"]*)"', html).group(1)


def test_follow_up_refuses_a_region_outside_the_officers_scope(client, sign_in, area, office):
    sign_in(client, area.officer)
    assert client.get(f"/officer/certificates?region_id={area.b.id}").status_code == 403
    assert client.get("/officer/certificates?stars=2").status_code == 400
    assert client.get("/officer/certificates?bucket=nope").status_code == 404


def test_follow_up_is_paged(client, sign_in, area):
    producer = make_producer(area.a)
    for n in range(51):
        make_certificate(make_product(producer, name_vi=f"SP {n:02d}"), stars=3, score=None,
                         issued_on=TODAY - timedelta(days=1000), expires_on=TODAY + timedelta(days=30 + n % 50))
    sign_in(client, area.officer)
    assert len(_listed(client, "?bucket=expiring_90")) == 50
    assert len(_listed(client, "?bucket=expiring_90&page=2")) == 1


# --- region pickers --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/officer/", "/officer/products", "/officer/certificates", "/officer/reports"])
def test_region_pickers_offer_only_units_in_force_unless_asked_for_history(client, sign_in, area, office, path):
    sign_in(client, office["province_officer"])
    current = _options(_text(client.get(path)))
    assert "Xã Mới Lập" in current and "Xã A" in current and "Tỉnh Thử" in current
    assert not any("Huyện Cũ" in o or "Xã Cũ Sáp Nhập" in o for o in current)
    history = _options(_text(client.get(path + "?history=1")))
    assert "Huyện Cũ (đến 30/06/2025)" in history and "Xã Cũ Sáp Nhập (đến 30/06/2025)" in history


def test_a_chosen_former_unit_stays_in_the_picker(client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    options = _options(_text(client.get(f"/officer/products?region_id={office['old_district'].id}")))
    assert "Huyện Cũ (đến 30/06/2025)" in options and "Xã Cũ Sáp Nhập (đến 30/06/2025)" not in options


def test_the_report_form_lists_former_units_when_the_box_is_ticked(client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    html = _text(client.get(f"/officer/reports?start={TODAY.isoformat()}&end={TODAY.isoformat()}"
                            f"&region_id={office['old_district'].id}&history=y&format=html"))
    assert "Huyện Cũ (đến 30/06/2025)" in _options(html)
    assert "Báo cáo từ" in html and "Mắm ruốc" in html


def test_the_import_page_lists_only_current_units(client, sign_in, area, office):
    sign_in(client, office["province_officer"])
    html = _text(client.get("/officer/imports"))
    assert "Xã Mới Lập" in html and "Huyện Cũ" not in html and "Xã Cũ Sáp Nhập" not in html


def test_an_officer_sees_only_its_own_regions_in_the_picker(client, sign_in, area, office):
    sign_in(client, area.officer)
    assert _options(_text(client.get("/officer/products?history=1"))) == ["Toàn bộ phạm vi quản lý", "Xã A"]


# --- dashboard at 360 px -----------------------------------------------------------------------------

def test_dashboard_charts_are_drawn_for_a_phone_and_long_codes_wrap(client, sign_in, area, office):
    sign_in(client, area.officer)
    html = _text(client.get("/officer/"))
    assert html.count(f'viewBox="0 0 {charts.WIDTH} ') == 4 and charts.WIDTH <= 360
    # Grid items may shrink below their content (a long code used to widen the page to 454 px).
    assert ".grid>*{min-width:0}" in html and "Việc cần làm" in html


def test_a_long_label_goes_above_its_bar_so_bars_keep_the_width():
    chart = charts.bar_chart([("Thành phố Quảng Ngãi (đến 30/06/2025)", 3)], "t")
    assert '<text x="0" y="17">Thành phố Quảng Ngãi (đến 30/06/2025)</text>' in chart
    assert '<rect x="0" y="22" width="280"' in chart
    months = charts.bar_chart([("11/2026", 1), ("12/2026", 2)], "t")
    assert 'text-anchor="end">11/2026</text>' in months
