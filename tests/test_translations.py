"""The English catalog: in step with the source, complete, faithful to its placeholders, and
actually served when a reader asks for English.

After adding or changing a Vietnamese string, refresh the catalog with
    .venv/bin/python traceability/translations/update_en.py
(it lists what still needs English in traceability/translations/en_glossary.json).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "traceability" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
GLOSSARY = TRANSLATIONS / "en_glossary.json"
# The keywords of `pybabel extract -k _l -k lazy_gettext -k _t` (see update_en.py).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_t": None}
# %(name)s, %(n)d, %s ... and str.format / marshmallow fields such as {min}, {max}, {choices}.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]|\{[^{}]*\}")


def _ensure_mo() -> None:
    """The app reads the compiled catalog, which is build output (`make translations`).
    Compile it here when it is missing or older than the .po, atomically, because parallel
    workers may do the same. This runs at collection, before any test requests a page."""
    if MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime:
        return
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    partial = MO.with_name(f"messages.mo.{os.getpid()}.tmp")
    with partial.open("wb") as f:
        write_mo(f, catalog)
    os.replace(partial, MO)


_ensure_mo()


def _key(msgid: str | tuple) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def _forms(value: str | tuple) -> tuple:
    return (value,) if isinstance(value, str) else tuple(value)


@pytest.fixture(scope="module")
def source_msgids() -> set[str]:
    """The msgids `pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _t .` finds now."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    found = {_key(m.id) for m in catalog if m.id}
    assert len(found) > 100  # the extraction really ran over the templates and the code
    return found


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f, locale="en")


@pytest.fixture(scope="module")
def english(catalog) -> dict:  # type: ignore[no-untyped-def]
    return {_key(m.id): m.string for m in catalog if m.id}


def test_every_message_of_the_source_has_english(source_msgids, english):
    missing = sorted(msgid for msgid in source_msgids
                     if msgid not in english or not all(_forms(english[msgid])))
    assert missing == [], "run traceability/translations/update_en.py"


def test_the_template_is_up_to_date(source_msgids):
    with POT.open("rb") as f:
        template = {_key(m.id) for m in read_po(f) if m.id}
    assert sorted(source_msgids - template) == [], "run traceability/translations/update_en.py"
    assert sorted(template - source_msgids) == [], "run traceability/translations/update_en.py"


def test_no_entry_is_fuzzy_or_half_translated(catalog):
    assert not catalog.fuzzy
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    assert [m.id for m in catalog if m.id and not all(_forms(m.string))] == []


@pytest.mark.parametrize("kind", ["named", "format"])
def test_translations_keep_their_placeholders(catalog, kind):
    wanted = (lambda p: p.startswith("%")) if kind == "named" else (lambda p: p.startswith("{"))
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = _forms(message.id)
        for index, string in enumerate(_forms(message.string)):
            source = ids[min(index, len(ids) - 1)]
            expected = sorted(p for p in PLACEHOLDER.findall(source) if wanted(p))
            got = sorted(p for p in PLACEHOLDER.findall(string) if wanted(p))
            if expected != got:
                wrong.append((source, string))
    assert wrong == []


def test_babel_finds_no_problem_in_the_catalog(catalog):
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def test_the_glossary_agrees_with_the_catalog(english):
    """update_en.py overwrites messages.po from en_glossary.json: a fix made only in the
    .po would be undone by the next refresh."""
    glossary = json.loads(GLOSSARY.read_text(encoding="utf-8"))
    differ = sorted(msgid for msgid, string in english.items()
                    if msgid in glossary and _forms(glossary[msgid]) != _forms(string))
    assert differ == [], "put the same English in en_glossary.json and messages.po"
    assert sorted(set(english) - set(glossary)) == [], "add these to en_glossary.json"


def test_the_home_page_reads_in_english_when_asked(client):
    response = client.get("/?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "OCOP product traceability" in html
    assert "Scan the QR code on the package to see who made the product" in html
    assert "Quét mã QR trên bao bì" not in html
    assert "Truy xuất nguồn gốc sản phẩm OCOP" not in html


def test_the_home_page_stays_vietnamese_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Quét mã QR trên bao bì" in html
    assert "Scan the QR code on the package" not in html


def test_the_trace_page_reads_in_english_when_asked(client, db):
    from tests.factories import make_batch, make_certificate, make_product

    product = make_product(gtin="08939900001010", name_vi="Tỏi Lý Sơn", name_en="Ly Son garlic")
    make_certificate(product, stars=5, score=None)
    make_batch(product, lot="L1")
    db.session.commit()
    location = client.get("/01/08939900001010/10/L1?lang=en").headers["Location"]
    assert location.endswith("/trace/01/08939900001010/10/L1?lang=en")
    html = client.get("/trace/01/08939900001010/10/L1?lang=en").get_data(as_text=True)
    assert "Production diary" in html and "OCOP 5 stars — valid" in html and "Ly Son garlic" in html
    assert "Nhật ký sản xuất" not in html


# GS1 errors (traceability/gs1/ knows no Flask) are read in the request's language.
BAD_CHECK_DIGIT_VI = "Số kiểm tra của GTIN không đúng (phải là 0)."
BAD_CHECK_DIGIT_EN = "Wrong GTIN check digit (it should be 0)."


@pytest.mark.parametrize("query,headers,expected,other", [
    ("", {}, BAD_CHECK_DIGIT_VI, BAD_CHECK_DIGIT_EN),
    ("?lang=en", {}, BAD_CHECK_DIGIT_EN, BAD_CHECK_DIGIT_VI),
    ("", {"Accept-Language": "en-GB,en;q=0.9"}, BAD_CHECK_DIGIT_EN, BAD_CHECK_DIGIT_VI),
])
def test_the_bad_code_page_explains_in_the_readers_language(client, query, headers, expected, other):
    response = client.get("/01/08939900001011" + query, headers=headers)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert expected in html and other not in html


def test_a_gs1_message_built_from_parts_is_translated_whole(client):
    response = client.get("/01/08939900001010?17=261232&lang=en", headers={"Accept": "application/json"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"] == "Expiry date (AI 17): 12/2026 has no day 32."
    assert body["errors"] == {"expiry_date": [body["message"]]}
    verify = client.get("/verify/t/AB", headers={"Accept-Language": "en", "Accept": "application/json"})
    assert verify.status_code == 400
    assert verify.get_json()["message"] == "A trace code has 4 to 16 characters (this one has 2)."


def test_an_api_error_from_a_gs1_rule_follows_the_request_language(client, db):
    from tests.factories import make_producer, make_token, make_user

    producer = make_producer()
    token = make_token(make_user("consultant", producer=producer))
    db.session.commit()
    url = f"/api/v1/producers/{producer.id}/products"
    body = {"group": "food", "name_vi": "Nước mắm", "gtin": "8939900001 11"}
    for language, expected in [("vi", "ký tự dấu cách ở vị trí 11 không hợp lệ"),
                               ("en", "a space at position 11 is not allowed")]:
        response = client.post(url, json=body, headers={"Authorization": f"Bearer {token}",
                                                        "Accept-Language": language})
        assert response.status_code == 422
        assert expected in response.get_json()["errors"]["gtin"][0]
