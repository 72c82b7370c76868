"""A trace page opens with one verdict in one colour, combining the label and the certificate;
stars are drawn there only, and only where the OCOP claim stands."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.resolver.conftest import BASE, scan
from traceability.cli import sample_urls
from traceability.clock import local_today
from traceability.demo import load_demo
from traceability.extensions import db
from traceability.resolver.services import LabelStanding, Tone, page_verdict

VERDICT = re.compile(
    r'<main id="main">\s*<section class="alert verdict (ok|warn|bad)"(.*?)</section>', re.S)


def _verdict(html: str) -> tuple[str, str]:
    """The page's verdict block, which must come first in the page, and its colour."""
    found = VERDICT.search(html)
    assert found, "the page does not open with its verdict"
    assert html.count('class="alert verdict') == 1
    return found.group(1), found.group(2)


def _page(client, url: str, **kw) -> str:
    response = scan(client, url.removeprefix(BASE), **kw)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture()
def demo(db, upload_folder) -> dict[str, str]:
    load_demo()
    db.session.commit()
    return dict(sample_urls())


# case: (colour, stars drawn, what the verdict says)
DEMO_CASES = {
    "valid": ("ok", 5, ["Tem chính hãng.", "OCOP 5 sao — còn hiệu lực",
                        "Giấy chứng nhận OCOP có hiệu lực đến ngày", "Đã quét 1 lần"]),
    "expiring": ("ok", 3, ["Tem chính hãng.", "OCOP 3 sao — còn hiệu lực",
                           "Giấy chứng nhận sắp hết hạn: còn"]),
    "expired": ("warn", 0, ["Tem chính hãng.", "Chứng nhận OCOP đã hết hạn.",
                            "Giấy chứng nhận OCOP đã hết hạn ngày"]),
    "revoked": ("warn", 0, ["Tem chính hãng.", "Chứng nhận OCOP đã bị thu hồi.",
                            "Giấy chứng nhận OCOP đã bị thu hồi ngày", "Lý do: Kiểm tra định kỳ"]),
    "forged": ("bad", 0, ["Cảnh báo: mã sê-ri không hợp lệ", "không khớp với tem"]),
    "copy-flagged": ("bad", 0, ["Cảnh báo: tem có thể đã bị sao chép.", "mạng khác nhau"]),
    "unknown lot": ("warn", 0, ["Không xác minh được tem", "Không tìm thấy lô KHONGCO",
                                "Giấy chứng nhận OCOP có hiệu lực đến ngày"]),
}


@pytest.mark.parametrize("case", list(DEMO_CASES))
def test_every_demo_case_opens_with_its_verdict(client, demo, case):
    colour, stars, says = DEMO_CASES[case]
    html = _page(client, demo[case])
    tone, block = _verdict(html)
    assert tone == colour
    for text in says:
        assert text in block, text
    # Stars are drawn in the verdict only, and only where the OCOP claim stands.
    assert html.count("★") == block.count("★") == stars
    assert ("sao — còn hiệu lực" in html) == (stars > 0)
    if colour == "bad":  # the report form right under the verdict, before the product
        assert html.index('action="/report"') < html.index("<h1>")
        assert "Tem chính hãng" not in html
    else:
        assert 'action="/report"' not in html and 'href="/report?code=' in html


def test_a_bad_code_gets_the_red_warning_page(client, demo):
    response = client.get(demo["bad code"].removeprefix(BASE))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<div class="alert bad" role="alert"><h1>Mã không hợp lệ</h1>' in html
    assert "★" not in html


def test_the_demo_has_every_case(demo):
    assert set(demo) == {*DEMO_CASES, "bad code"}


def test_the_verdict_speaks_english(client, demo):
    tone, block = _verdict(_page(client, demo["valid"], headers={"Accept-Language": "en"}))
    assert tone == "ok" and "Genuine label. OCOP 5 stars — valid" in block


def test_lot_and_product_pages_give_the_certificate_verdict_only(client, shelf):
    for path in (shelf.lot_path, shelf.lot_path.split("/10/")[0]):
        tone, block = _verdict(_page(client, path))
        assert tone == "ok" and "OCOP 4 sao — còn hiệu lực" in block and block.count("★") == 4
        assert "Tem chính hãng" not in block and "Số sê-ri" not in block
    shelf.cert.revoked_on = local_today() - timedelta(days=3)
    shelf.cert.revocation_reason = "Vi phạm an toàn thực phẩm."
    db.session.commit()
    html = _page(client, shelf.lot_path)
    tone, block = _verdict(html)
    day = (local_today() - timedelta(days=3)).strftime("%d/%m/%Y")
    assert tone == "warn" and "★" not in html
    assert f"Giấy chứng nhận OCOP đã bị thu hồi ngày {day}." in block
    assert "Vi phạm an toàn thực phẩm." in block


def test_an_expiring_certificate_says_until_when_and_keeps_its_stars(client, shelf):
    shelf.cert.expires_on = local_today() + timedelta(days=20)
    db.session.commit()
    tone, block = _verdict(_page(client, shelf.unit_path(3)))
    until = shelf.cert.expires_on.strftime("%d/%m/%Y")
    assert tone == "ok" and block.count("★") == 4
    assert f"còn 20 ngày (hết hạn ngày {until})" in block


def test_a_product_without_a_certificate_is_said_so_once(client, shelf):
    db.session.delete(shelf.cert)
    db.session.commit()
    html = _page(client, shelf.unit_path(4))
    tone, block = _verdict(html)
    assert tone == "warn" and "★" not in html
    assert block.count("chưa có giấy chứng nhận OCOP") == 1


def test_a_serial_without_a_lot_cannot_be_verified(client, shelf):
    html = _page(client, f"/01/{shelf.product.gtin}/21/{shelf.serial(5)}")
    tone, block = _verdict(html)
    assert tone == "warn" and "Không xác minh được tem" in block
    assert "tem không ghi số lô" in block and "★" not in html


VALID = {"status": "valid", "stars": 4, "is_valid": True}
EXPIRING = {"status": "expiring", "stars": 4, "is_valid": True}
EXPIRED = {"status": "expired", "stars": None, "is_valid": False}
NONE = {"status": None, "stars": None}


@pytest.mark.parametrize("serial, copy, lot_unknown, cert, tone, stars", [
    ("genuine", False, False, VALID, Tone.OK, 4),
    ("genuine", False, False, EXPIRING, Tone.OK, 4),
    ("genuine", False, False, EXPIRED, Tone.WARN, None),
    ("genuine", False, False, NONE, Tone.WARN, None),
    ("genuine", True, False, VALID, Tone.BAD, None),
    ("forged", False, False, VALID, Tone.BAD, None),
    ("unverified", False, True, VALID, Tone.WARN, None),
    (None, False, False, VALID, Tone.OK, 4),
    (None, False, True, VALID, Tone.WARN, None),
    (None, False, False, EXPIRED, Tone.WARN, None),
])
def test_the_verdict_rule(serial, copy, lot_unknown, cert, tone, stars):
    verdict = page_verdict(serial, copy, lot_unknown, cert)
    assert (verdict.tone, verdict.stars) == (tone, stars)
    if copy:
        assert verdict.label == LabelStanding.COPY


def test_the_verdict_is_never_stale_in_the_lanes_cache(client, shelf, flask_requests):
    """The unit fragment is cached by verdict: a revocation changes it on the next scan, the
    lane's included."""
    assert "★★★★" in _page(client, shelf.unit_path(6))
    shelf.cert.revoked_on = local_today()
    db.session.commit()
    html = _page(client, shelf.unit_path(7))
    assert "★" not in html and "Chứng nhận OCOP đã bị thu hồi." in html
    shelf.cert.revoked_on = None
    shelf.cert.issued_on = date(2021, 1, 1)
    shelf.cert.expires_on = date(2024, 1, 1)
    db.session.commit()
    assert "Chứng nhận OCOP đã hết hạn." in _page(client, shelf.unit_path(8))


def test_a_signed_in_inspector_gets_the_inspection_verdict_at_the_top(client, shelf):
    from tests.factories import login, make_user

    login(client, make_user("inspector", regions=[shelf.producer.region]))
    serial = shelf.serial(9)
    forged = shelf.unit_path(9).replace(serial, serial[:-1] + ("A" if serial[-1] != "A" else "B"))
    for path in (shelf.unit_path(9), shelf.lot_path, forged):
        html = _page(client, path)
        assert re.search(r'<main id="main">\s*<section class="card inspect"', html), path
        assert html.index('class="card inspect"') < html.index('class="alert verdict') \
            < html.index("<h1>")
        assert html.count('class="card inspect"') == 1
