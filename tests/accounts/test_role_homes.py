"""Each role lands on its own home after sign-in, and every staff page carries its role's bar."""
from __future__ import annotations

import re

import pytest

from tests.factories import make_certificate, make_producer, make_product, make_region, make_user
from traceability.accounts.home import NAVIGATION
from traceability.accounts.models import Role
from traceability.accounts.services import hash_password
from traceability.extensions import db

PASSWORD = "mat-khau-dai-du-1"

HOMES = {"producer": "/producer/", "consultant": "/setup/producers", "officer": "/officer/",
         "admin": "/officer/", "inspector": "/inspector/"}


def _user(role: str):
    region = make_region()
    producer = make_producer(region=region)
    make_certificate(make_product(producer=producer))
    user = make_user(role, email=f"{role}@example.vn", password_hash=hash_password(PASSWORD),
                     regions=[region] if role in ("officer", "inspector") else None,
                     producer=producer if role in ("producer", "consultant") else None)
    db.session.commit()
    return user


def _nav_hrefs(html: str) -> list[str]:
    bar = re.search(r'<nav class="staff"[^>]*>(.*?)</nav>', html, re.S)
    assert bar, "no navigation bar on the page"
    return re.findall(r'href="([^"]+)"', bar.group(1))


@pytest.mark.parametrize("role", sorted(HOMES))
def test_sign_in_lands_on_the_roles_home_and_every_bar_link_opens(client, role):
    _user(role)
    answer = client.post("/login", data={"login": f"{role}@example.vn", "password": PASSWORD})
    assert answer.status_code == 302
    assert answer.headers["Location"] == HOMES[role]

    home = client.get(HOMES[role])
    assert home.status_code == 200
    hrefs = _nav_hrefs(home.get_data(as_text=True))
    assert hrefs[0] == HOMES[role]
    assert len(hrefs) == len(NAVIGATION[Role(role)])
    for href in hrefs:
        page = client.get(href)
        assert page.status_code == 200, href
        html = page.get_data(as_text=True)
        # The bar is on every page it leads to, with this page marked as the current one.
        assert _nav_hrefs(html) == hrefs
        assert f'href="{href}" aria-current="page"' in html


def test_a_public_page_has_no_staff_bar_for_anonymous_visitors(client):
    assert 'class="staff"' not in client.get("/").get_data(as_text=True)


def test_the_producer_home_says_the_certificate_status_in_plain_words(client):
    from datetime import date, timedelta
    from decimal import Decimal

    from tests.factories import login

    region = make_region()
    producer = make_producer(region=region)
    expiring = make_product(producer=producer, name_vi="Mật ong hoa cà phê")
    make_certificate(expiring, stars=4, issued_on=date.today() - timedelta(days=1000),
                     expires_on=date.today() + timedelta(days=20))
    revoked = make_product(producer=producer, name_vi="Trà xanh Tân Cương")
    cert = make_certificate(revoked, stars=3, score=Decimal("60"))
    cert.revoked_on = date.today()
    cert.revocation_reason = "Không duy trì chất lượng"
    cert.revocation_decision = "12/QĐ-UBND"
    make_product(producer=producer, name_vi="Bánh tráng")
    owner = make_user("producer", producer=producer)
    login(client, owner)

    html = client.get("/producer/").get_data(as_text=True)
    assert "OCOP 4 sao, hết hạn sau 20 ngày" in html
    assert "Nộp hồ sơ đề nghị đánh giá lại" in html
    assert "đã bị thu hồi ngày" in html and "Không duy trì chất lượng" in html and "12/QĐ-UBND" in html
    assert "Sản phẩm chưa có giấy chứng nhận OCOP." in html
