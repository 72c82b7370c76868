"""Producer and product rules: tax codes, GTIN uniqueness."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from stdnum.vn import mst

from tests.factories import make_producer, make_product, make_region, tax_code
from traceability.errors import Conflict, ValidationFailed
from traceability.extensions import db
from traceability.registry.models import Product


@pytest.mark.parametrize("bad", ["430000001", "4300000016", "43000000AB", "4300000000", "12345678901"])
def test_invalid_tax_codes_are_refused_naming_the_field(bad):
    with pytest.raises(ValidationFailed) as err:
        make_producer(tax_code=bad)
    assert list(err.value.errors) == ["tax_code"]
    assert "Mã số thuế" in err.value.message


def test_valid_tax_code_is_stored_compact_and_passes_stdnum():
    code = tax_code()
    producer = make_producer(tax_code=code[:5] + " " + code[5:])
    assert producer.tax_code == code
    assert mst.is_valid(producer.tax_code)


def test_a_branch_tax_code_of_13_digits_is_accepted():
    code = tax_code() + "001"
    assert make_producer(tax_code=code).tax_code == code


def test_the_same_tax_code_cannot_be_registered_twice():
    code = tax_code()
    make_producer(tax_code=code)
    with pytest.raises(Conflict) as err:
        make_producer(tax_code=code)
    assert "tax_code" in err.value.errors


def test_producer_in_an_unknown_region_is_refused():
    with pytest.raises(ValidationFailed) as err:
        make_producer(region=make_region(), region_id=999_999)
    assert "region_id" in err.value.errors


def test_gtin_is_normalised_to_14_digits():
    product = make_product(gtin="8939900001010")
    assert product.gtin == "08939900001010"


def test_a_gtin_can_belong_to_one_product_only():
    make_product(gtin="8939900001010")
    with pytest.raises(Conflict) as err:
        make_product(gtin="08939900001010")
    assert "gtin" in err.value.errors


def test_the_database_itself_refuses_a_duplicate_gtin():
    first = make_product()
    second = make_product()
    first.gtin = second.gtin = "08939900001010"
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


def test_a_gtin_with_a_bad_check_digit_is_refused():
    with pytest.raises(ValidationFailed) as err:
        make_product(gtin="8939900001011")
    assert "gtin" in err.value.errors


def test_every_product_gets_a_unique_trace_code():
    products = [make_product() for _ in range(5)]
    codes = {p.trace_code for p in products}
    assert len(codes) == 5
    stored = db.session.scalars(sa.select(Product.trace_code)).all()
    assert sorted(stored) == sorted(codes)


@pytest.mark.parametrize("field, value", [("gs1_company_prefix", "8939912"), ("gln", "8939912000018")])
def test_a_gs1_prefix_or_gln_belongs_to_one_producer_only(field, value):
    from tests.factories import make_user
    from traceability.registry.services import update_producer

    make_producer(**{field: value})
    with pytest.raises(Conflict) as err:
        make_producer(**{field: value})
    assert list(err.value.errors) == [field]
    other = make_producer()
    with pytest.raises(Conflict) as err:
        update_producer(make_user("admin"), other, {field: value})
    assert list(err.value.errors) == [field]


def test_a_gln_needs_its_check_digit_and_a_prefix_its_893_on_both_doors(client):
    from tests.factories import make_token, make_user

    with pytest.raises(ValidationFailed) as err:
        make_producer(gln="8939912000017")
    assert err.value.errors == {"gln": ["Số kiểm tra của GLN không đúng (phải là 8)."]}
    with pytest.raises(ValidationFailed) as err:
        make_producer(gs1_company_prefix="893991234567")
    assert list(err.value.errors) == ["gs1_company_prefix"]
    assert make_producer(gln="8939912000018").gln == "8939912000018"

    region = make_region()
    token = make_token(make_user("admin"))
    db.session.commit()
    answer = client.post("/api/v1/producers", headers={"Authorization": f"Bearer {token}"}, json={
        "name": "HTX Một", "kind": "cooperative", "address": "Thôn Một, xã A",
        "region_id": region.id, "gln": "8939912000017"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"gln": ["Số kiểm tra của GLN không đúng (phải là 8)."]}


def test_only_officers_and_admins_move_a_producer_and_officers_only_inside_their_regions():
    from tests.factories import make_user
    from traceability.errors import Forbidden
    from traceability.registry.services import update_producer

    home, elsewhere = make_region(), make_region()
    producer = make_producer(home)
    consultant = make_user("consultant", producer=producer)
    with pytest.raises(Forbidden) as err:
        update_producer(consultant, producer, {"region_id": elsewhere.id})
    assert list(err.value.errors) == ["region_id"]
    update_producer(consultant, producer, {"region_id": home.id, "name": "HTX Đổi Tên"})
    assert (producer.region_id, producer.name) == (home.id, "HTX Đổi Tên")

    officer = make_user("officer", regions=[home])
    with pytest.raises(Forbidden):
        update_producer(officer, producer, {"region_id": elsewhere.id})
    update_producer(make_user("admin"), producer, {"region_id": elsewhere.id})
    assert producer.region_id == elsewhere.id
