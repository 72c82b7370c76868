"""GS1-Conformant Resolver rules: status codes, headers, linksets, walk-up, 400s."""
from __future__ import annotations

import json
from pathlib import Path

import biip
import jsonschema
import pytest

from tests.resolver.conftest import GTIN

SCHEMAS = Path(__file__).parent / "schemas"
BASE = "https://trace.example.vn"
VOC = "https://ref.gs1.org/voc/"


def _linkset_entry(client, path: str) -> dict:
    """The linkset's context object for the deepest level of `path` that exists."""
    return client.get(path + "?linkType=linkset").get_json()["linkset"][0]


def _biip_ok(uri: str) -> None:
    result = biip.parse(uri)
    assert result.gs1_digital_link_uri is not None, (uri, result)
    for element in result.gs1_digital_link_uri.element_strings:
        if element.ai.ai == "01":
            assert element.gtin_error is None


def test_a_code_redirects_to_its_default_link_the_trace_page(client, shelf):
    """GS1-Conformant Resolver 1.2, 2.6.1: the resolver SHALL redirect to the default link
    unless the request says better; the Location is exactly the linkset's default link."""
    for path in (shelf.lot_path, shelf.unit_path(3), f"/01/{GTIN}"):
        response = client.get(path)
        assert response.status_code == 307, path
        default = _linkset_entry(client, path)[VOC + "defaultLink"][0]["href"]
        assert response.headers["Location"] == default == BASE + "/trace" + path
        page = client.get("/trace" + path)
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert "Tỏi cô đơn Lý Sơn" in page.get_data(as_text=True)
    assert client.get(shelf.lot_path + "?linkType=gs1:defaultLink").headers["Location"] == \
        BASE + "/trace" + shelf.lot_path


def test_an_unknown_lot_has_its_own_page_which_walks_up_to_the_product(client, shelf):
    path = f"/01/{GTIN}/10/NOLOT/21/ABC"
    entry = _linkset_entry(client, path)
    assert entry["anchor"] == BASE + path and VOC + "epcis" not in entry
    assert client.get(path).headers["Location"] == entry[VOC + "defaultLink"][0]["href"] \
        == f"{BASE}/trace{path}"


def test_an_unknown_product_is_a_404_not_a_redirect(client, shelf):
    assert client.get("/01/08939900009993").status_code == 404
    assert client.get("/01/08939900009993?linkType=linkset").status_code == 404


def test_redirects_pass_the_query_string_on_as_it_came(client, shelf):
    """2.12: the entire query string is passed on, repeated keys, order, separators and
    escapes included; only linkType, the resolver's own, is left out."""
    query = "x=1&x=2;y=a%20b&17=271231&flag"
    for link_type, target in (("", "/trace" + shelf.lot_path), ("linkType=gs1:epcis&", "/epcis" + shelf.lot_path)):
        response = client.get(f"{shelf.lot_path}?{link_type}{query}")
        assert response.status_code == 307
        assert response.headers["Location"] == f"{BASE}{target}?{query}"
    response = client.get(f"{shelf.lot_path}?x=1&linkType=gs1:epcis&x=2")
    assert response.headers["Location"] == f"{BASE}/epcis{shelf.lot_path}?x=1&x=2"


def test_every_response_announces_its_linkset(client, shelf):
    for path in (shelf.lot_path, f"/01/{GTIN}", "/01/08939900001011", f"/01/{GTIN}?linkType=gs1:pip"):
        response = client.get(path)
        link = response.headers.get("Link", "")
        assert 'rel="linkset"' in link and "linkType=linkset" in link, (path, response.status_code)
        assert 'type="application/linkset+json"' in link


def test_cors_head_and_options(client, shelf):
    for path in (shelf.lot_path, "/trace" + shelf.lot_path):
        assert client.get(path).headers["Access-Control-Allow-Origin"] == "*"
    head = client.head(shelf.lot_path)
    assert head.status_code == 307 and head.data == b""
    head = client.head("/trace" + shelf.lot_path)
    assert head.status_code == 200 and head.data == b""
    options = client.options(shelf.lot_path)
    assert options.status_code == 204
    assert "GET" in options.headers["Access-Control-Allow-Methods"]
    assert options.headers["Access-Control-Allow-Origin"] == "*"


def test_trailing_slash_is_tolerated(client, shelf):
    with_slash, without = client.get(shelf.lot_path + "/"), client.get(shelf.lot_path)
    assert (with_slash.status_code, with_slash.headers["Location"]) == \
        (without.status_code, without.headers["Location"])
    assert client.get("/trace" + shelf.lot_path + "/").status_code == 200


@pytest.mark.parametrize("short", ["8939900001010", "08939900001010"])
def test_gtin13_and_gtin14_name_the_same_product(client, shelf, short):
    assert client.get(f"/01/{short}/10/{shelf.batch.lot}").headers["Location"] == \
        BASE + "/trace" + shelf.lot_path
    response = client.get(f"/trace/01/{short}/10/{shelf.batch.lot}")
    assert response.status_code == 200
    assert "Tỏi cô đơn Lý Sơn" in response.get_data(as_text=True)


@pytest.mark.parametrize("path,fragment", [
    ("/01/08939900001011", "kiểm tra"),              # bad check digit
    ("/01/08939900001", ""),                         # wrong length
    ("/01/08939900001010/21/X/10/LOT", ""),          # qualifier order
    ("/01/08939900001010/99/X", ""),                 # unknown AI
    ("/01/08939900001010/10/" + "L" * 21, ""),       # over-long lot
])
def test_bad_syntax_is_a_400_with_an_explanation(client, shelf, path, fragment):
    response = client.get(path)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Mã không hợp lệ" in html
    assert fragment in html


def test_bad_syntax_answers_json_to_a_json_client(client):
    response = client.get("/01/08939900001011", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["errors"]["gtin"]


def test_unknown_lot_walks_up_to_the_product(client, shelf):
    response = client.get(f"/trace/01/{GTIN}/10/NOLOT")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Không tìm thấy lô NOLOT" in html
    assert "Tỏi cô đơn Lý Sơn" in html


def test_unknown_but_well_formed_serial_walks_up_and_is_reported_invalid(client, shelf):
    response = client.get(f"/trace/01/{GTIN}/10/{shelf.batch.lot}/21/999AAAAAA")
    assert response.status_code == 200
    assert "mã sê-ri không hợp lệ" in response.get_data(as_text=True)


def test_unknown_gtin_gets_a_warning_page_with_a_report_form(client, shelf):
    response = client.get("/01/08939900009993")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "không tìm thấy sản phẩm" in html
    assert 'action="/report"' in html


def test_linkset_by_query_and_by_accept(client, shelf):
    """2.10: the linkset, by linkType=linkset or by Accept, valid by the linkset schema in
    tests/resolver/schemas/: each context with its description (and the older
    itemDescription), exactly one default link with a title and nothing else (2.5.8)."""
    validator = jsonschema.Draft7Validator(_schema("linkset.schema.json"))
    for response in (client.get(shelf.unit_path(3) + "?linkType=linkset"),
                     client.get(shelf.unit_path(3), headers={"Accept": "application/linkset+json"})):
        assert response.status_code == 200
        assert response.mimetype == "application/linkset+json"
        body = response.get_json()
        assert sorted(e.message for e in validator.iter_errors(body)) == []
        anchors = [entry["anchor"] for entry in body["linkset"]]
        assert anchors == [BASE + shelf.unit_path(3), BASE + shelf.lot_path, f"{BASE}/01/{GTIN}"]
        assert [entry["description"] for entry in body["linkset"]] == [
            f"Tỏi cô đơn Lý Sơn, lô TOI2026-10, sê-ri {shelf.serial(3)}",
            "Tỏi cô đơn Lý Sơn, lô TOI2026-10", "Tỏi cô đơn Lý Sơn"]
        for entry in body["linkset"]:
            assert entry["itemDescription"] == entry["description"]
            assert entry[VOC + "defaultLink"] == [{"href": BASE + "/trace" + entry["anchor"].removeprefix(BASE),
                                                    "title": entry[VOC + "defaultLink"][0]["title"]}]
        assert VOC + "epcis" in body["linkset"][1]
        assert VOC + "pip" in body["linkset"][2]
        assert VOC + "certificationInfo" in body["linkset"][2]
    english = client.get(f"/01/{GTIN}?linkType=linkset", headers={"Accept-Language": "en"})
    assert english.get_json()["linkset"][0]["description"] == "Ly Son single-clove garlic"
    # The schema holds the default link to its two attributes: it would refuse the old one.
    wrong = client.get(f"/01/{GTIN}?linkType=linkset").get_json()
    wrong["linkset"][0][VOC + "defaultLink"][0]["hreflang"] = ["vi"]
    assert not validator.is_valid(wrong)


def test_the_linksets_context_and_relation_are_one_link_header(client, shelf):
    """RFC 8288 and 2.10: one Link field, its links comma-separated."""
    response = client.get(shelf.lot_path + "?linkType=linkset")
    assert len(response.headers.getlist("Link")) == 1
    context, linkset = response.headers["Link"].split(", ")
    assert context == ('<https://ref.gs1.org/standards/resolver/linkset-context>; '
                       'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"')
    assert linkset == (f'<{BASE}{shelf.lot_path}?linkType=linkset>; rel="linkset"; '
                       'type="application/linkset+json"')


def test_every_uri_the_linkset_emits_parses_with_biip(client, shelf):
    body = client.get(shelf.unit_path(1) + "?linkType=linkset").get_json()
    for entry in body["linkset"]:
        _biip_ok(entry["anchor"])
        for key, links in entry.items():
            if key.startswith(VOC):
                for link in links:
                    if "/01/" in link["href"] and "/verify/" not in link["href"]:
                        _biip_ok(link["href"])


def test_existing_link_type_redirects_and_keeps_the_query(client, shelf):
    response = client.get(shelf.lot_path + "?linkType=gs1:epcis&lang=en")
    assert response.status_code == 307
    assert response.headers["Location"] == f"https://trace.example.vn/epcis{shelf.lot_path}?lang=en"


def test_the_epcis_link_is_the_lots_digital_link_under_epcis_and_resolves(client, shelf):
    base = "https://trace.example.vn"
    for path in (shelf.lot_path, shelf.unit_path(2)):
        body = client.get(path + "?linkType=linkset").get_json()
        hrefs = {link["href"] for entry in body["linkset"]
                 for link in entry.get("https://ref.gs1.org/voc/epcis", [])}
        assert hrefs == {f"{base}/epcis{shelf.lot_path}"}, path
    response = client.get(f"/epcis{shelf.lot_path}")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    doc = response.get_json(force=True)
    assert len(doc["epcisBody"]["eventList"]) == 2
    text = response.get_data(as_text=True)
    assert "Ruộng tỏi An Hải" in text and "ocop:notes" not in text


def test_full_vocabulary_uri_is_accepted_as_link_type(client, shelf):
    response = client.get(f"/01/{GTIN}?linkType=https://ref.gs1.org/voc/certificationInfo")
    assert response.status_code == 307
    assert response.headers["Location"].endswith(f"/api/v1/certificates/{shelf.cert.id}")


def test_link_type_that_does_not_exist_is_a_404(client, shelf):
    response = client.get(shelf.lot_path + "?linkType=gs1:recallStatus")
    assert response.status_code == 404
    assert 'rel="linkset"' in response.headers["Link"]


def test_trace_code_form_resolves_before_and_after_a_gtin_is_assigned(client, db):
    from tests.factories import make_batch, make_product

    product = make_product(name_vi="Muối Sa Huỳnh")
    batch = make_batch(product, lot="M1")
    db.session.commit()
    path = f"/trace/t/{product.trace_code}/10/M1"
    assert client.get(path).status_code == 200
    product.gtin = GTIN
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 200
    assert "Muối Sa Huỳnh" in response.get_data(as_text=True)
    assert client.get(f"/trace/01/{GTIN}/10/M1").status_code == 200
    assert batch.id


def test_percent_encoded_lot_reaches_the_parser_encoded(client, db):
    from tests.factories import make_batch, make_product

    product = make_product(gtin=GTIN)
    make_batch(product, lot="A/B")
    db.session.commit()
    assert client.get(f"/01/{GTIN}/10/A%2FB").headers["Location"] == \
        f"{BASE}/trace/01/{GTIN}/10/A%2FB"
    response = client.get(f"/trace/01/{GTIN}/10/A%2FB")
    assert response.status_code == 200
    assert "Không tìm thấy lô" not in response.get_data(as_text=True)


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def test_the_description_file_validates_against_the_resolver_description_schema(client):
    """GS1-Conformant Resolver 1.2, section 3: the file at /.well-known/gs1resolver validates
    against the description-file schema (primary keys as AIs, the linkset's JSON-LD context,
    a vCard contact); tests/resolver/schemas/ holds the schema, stricter than GS1's."""
    response = client.get("/.well-known/gs1resolver")
    body = response.get_json()
    validator = jsonschema.Draft7Validator(_schema("resolver-description.schema.json"),
                                           format_checker=jsonschema.FormatChecker())
    assert sorted(e.message for e in validator.iter_errors(body)) == []
    assert body["resolverRoot"] == "https://trace.example.vn"
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["jsonLdContextLocation"] == "https://ref.gs1.org/standards/resolver/linkset-context"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # The schema refuses what it does not define: the test's schema is not a rubber stamp.
    wrong = dict(body, supportedPrimaryKeys=["gtin"], contact={"organizationName": "x"})
    assert len(list(validator.iter_errors(wrong))) == 2


@pytest.mark.parametrize("path", ["/.well-known/gs1resolver", f"/01/{GTIN}",
                                  f"/verify/01/{GTIN}", f"/epcis/01/{GTIN}/10/L1"])
def test_every_resolver_address_answers_a_cors_preflight(client, shelf, path):
    response = client.options(path, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "accept-language"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"GET", "HEAD", "OPTIONS"} <= set(response.headers["Access-Control-Allow-Methods"].split(", "))
    allowed = response.headers["Access-Control-Allow-Headers"].lower().split(", ")
    assert "accept" in allowed and "accept-language" in allowed


def test_verification_service_answers_a_json_verdict(client, shelf):
    good = client.get("/verify" + shelf.unit_path(2)).get_json()
    assert good["serial"] == "genuine" and good["label_run"] == shelf.run.id
    assert good["certificate"]["status"] == "valid" and good["certificate"]["stars_allowed"] == 4
    bad = client.get("/verify" + shelf.unit_path(2)[:-1] + "Q").get_json()
    assert bad["serial"] == "forged"
