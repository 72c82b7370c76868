"""GS1 Digital Link URIs: building, parsing, percent-encoding and the errors a resolver returns."""

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlsplit

import biip
import pytest
from stdnum import ean

from traceability.gs1 import (
    SET_82,
    DigitalLink,
    GS1Error,
    build_uri,
    canonical_path,
    gs1_date,
    parse_path,
    validate_lot,
    validate_serial,
    validate_trace_code,
    validate_variant,
)

BASE = "https://trace.example.vn"
GTIN_13 = "893456789012" + ean.calc_check_digit("893456789012")
GTIN_14 = "0" + GTIN_13
GTIN_8 = "9638507" + ean.calc_check_digit("9638507")
GTIN_12 = "614141123452"
PUNCTUATION_82 = "".join(sorted(c for c in SET_82 if not c.isalnum()))


def biip_elements(uri: str) -> list[tuple[str, str]]:
    """Parse ``uri`` with biip, an independent implementation, and list its AIs and values."""
    result = biip.parse(uri)
    assert result.gs1_digital_link_uri is not None, result.gs1_digital_link_uri_error
    elements = result.gs1_digital_link_uri.element_strings
    for element in elements:
        # biip reports a bad check digit here instead of failing the parse.
        assert element.gtin_error is None
    return [(element.ai.ai, element.value) for element in elements]


def parse_uri(uri: str) -> DigitalLink:
    parts = urlsplit(uri)
    return parse_path(parts.path, parts.query)


def test_set_82_has_82_characters_and_20_of_them_are_punctuation() -> None:
    assert len(SET_82) == 82
    assert PUNCTUATION_82 == "!\"%&'()*+,-./:;<=>?_"


@pytest.mark.parametrize(
    ("link", "expected_elements"),
    [
        (DigitalLink(gtin=GTIN_13), [("01", GTIN_14)]),
        (DigitalLink(gtin=GTIN_14, lot="L2026-01"), [("01", GTIN_14), ("10", "L2026-01")]),
        (DigitalLink(gtin=GTIN_13, serial="123ABCDEF"), [("01", GTIN_14), ("21", "123ABCDEF")]),
        (
            DigitalLink(
                gtin=GTIN_13, variant="500g", lot="A1", serial="9", attributes={"17": "271231"}
            ),
            [("01", GTIN_14), ("22", "500g"), ("10", "A1"), ("21", "9"), ("17", "271231")],
        ),
        (
            DigitalLink(gtin=GTIN_8, lot="X", attributes={"11": "260115", "15": "260700"}),
            [("01", "000000" + GTIN_8), ("10", "X"), ("11", "260115"), ("15", "260700")],
        ),
    ],
)
def test_every_built_uri_is_read_back_identically_by_biip_and_by_parse_path(
    link: DigitalLink, expected_elements: list[tuple[str, str]]
) -> None:
    uri = build_uri(BASE, link)
    assert biip_elements(uri) == expected_elements
    assert parse_uri(uri) == link


def test_the_uri_is_uncompressed_with_qualifiers_in_order_and_attributes_in_the_query() -> None:
    link = DigitalLink(
        gtin=GTIN_13, serial="7", lot="L1", variant="V", attributes={"17": "261231", "11": "260101"}
    )
    assert build_uri(BASE + "/", link) == (
        f"{BASE}/01/{GTIN_14}/22/V/10/L1/21/7?11=260101&17=261231"
    )


def test_set_82_punctuation_is_percent_encoded_except_hyphen_dot_and_underscore() -> None:
    path = canonical_path(DigitalLink(gtin=GTIN_13, lot=PUNCTUATION_82))
    assert path == f"/01/{GTIN_14}/10/%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_"


@pytest.mark.parametrize(
    "lot",
    ["A/B", "50%", "R&D", "1+1", "L=2?x", "a,b;c:d", "(1)*'2'", '"Q"<>!', PUNCTUATION_82, "%2F"],
)
def test_lots_with_reserved_characters_survive_a_round_trip(lot: str) -> None:
    link = DigitalLink(gtin=GTIN_13, lot=lot, serial="1/2")
    uri = build_uri(BASE, link)
    assert biip_elements(uri) == [("01", GTIN_14), ("10", lot), ("21", "1/2")]
    assert parse_uri(uri) == link


def test_parse_accepts_sub_delimiters_left_raw_and_lower_case_hex() -> None:
    link = parse_path(f"/01/{GTIN_14}/10/A!B(1)*%2f%3a")
    assert link.lot == "A!B(1)*/:"


@pytest.mark.parametrize("gtin", [GTIN_8, GTIN_12, GTIN_13, GTIN_14])
def test_parse_accepts_short_gtins_and_stores_the_14_digit_form(gtin: str) -> None:
    link = parse_path(f"/01/{gtin}/10/L1")
    assert link.gtin == gtin.zfill(14)
    assert canonical_path(link) == f"/01/{gtin.zfill(14)}/10/L1"


def test_one_trailing_slash_is_tolerated_but_not_two() -> None:
    assert parse_path(f"/01/{GTIN_14}/10/L1/") == DigitalLink(gtin=GTIN_14, lot="L1")
    assert parse_path(f"/01/{GTIN_14}/") == DigitalLink(gtin=GTIN_14)
    with pytest.raises(GS1Error) as caught:
        parse_path(f"/01/{GTIN_14}/10/L1//")
    assert caught.value.field == "path"


def test_a_serial_without_a_lot_is_valid_because_each_qualifier_is_optional() -> None:
    assert parse_path(f"/01/{GTIN_14}/21/5").serial == "5"
    assert parse_path(f"/01/{GTIN_14}/22/V/21/5").variant == "V"


@pytest.mark.parametrize(
    ("path", "query", "field", "words"),
    [
        (f"/01/{GTIN_13[:-1]}{(int(GTIN_13[-1]) + 1) % 10}", "", "gtin", "Số kiểm tra"),
        (f"/01/{GTIN_14}1", "", "gtin", "đang có 15"),
        ("/01/893456789", "", "gtin", "đang có 9"),
        ("/01/", "", "path", "Thiếu GTIN"),
        (f"/01/{GTIN_14}/10/L%C3%B41", "", "lot", "“ô” ở vị trí 2"),
        (f"/01/{GTIN_14}/10/L%201", "", "lot", "dấu cách ở vị trí 2"),
        (f"/01/{GTIN_14}/10/L1%", "", "path", "mã hoá phần trăm sai"),
        (f"/01/{GTIN_14}/10/%FF", "", "lot", "vị trí 1"),
        (f"/01/{GTIN_14}/21/" + "1" * 21, "", "serial", "tối đa 20 ký tự (đang có 21)"),
        (f"/01/{GTIN_14}/22/" + "v" * 21, "", "variant", "đang có 21"),
        (f"/01/{GTIN_14}/21/S/10/L", "", "path", "10 (số lô) phải đứng trước 21 (số sê-ri)"),
        (f"/01/{GTIN_14}/10/L/22/V", "", "path", "22 (mã biến thể) phải đứng trước 10"),
        (f"/01/{GTIN_14}/10/L/10/M", "", "path", "xuất hiện hai lần"),
        (f"/01/{GTIN_14}/01/{GTIN_14}", "", "path", "xuất hiện hai lần"),
        (f"/01/{GTIN_14}/17/261231", "", "path", "Mã AI “17” không được dùng"),
        (f"/01/{GTIN_14}/235/X", "", "path", "Mã AI “235” không được dùng"),
        (f"/01/{GTIN_14}/lot/L1", "", "path", "Mã AI “lot” không được dùng"),
        (f"/01/{GTIN_14}/10//21/S", "", "lot", "Số lô không được để trống"),
        (f"/01/{GTIN_14}/10", "", "path", "Thiếu giá trị sau /10/"),
        (f"/01/{GTIN_14}//10/L", "", "path", "dấu “/” thừa"),
        ("/gtin/" + GTIN_14, "", "path", "không phải /gtin/"),
        ("/00/106141412345678908", "", "path", "không phải /00/"),
        ("01/" + GTIN_14, "", "path", "phải bắt đầu bằng"),
        ("/", "", "path", "phải bắt đầu bằng"),
        ("/t/AB", "", "trace_code", "từ 4 đến 16 ký tự"),
        ("/t/AB-CD", "", "trace_code", "“-” ở vị trí 3"),
        ("/t/ABCD/22/V", "", "path", "sau mã truy xuất chỉ có 10 (số lô), 21 (số sê-ri)"),
        (f"/01/{GTIN_14}", "17=261232", "expiry_date", "không có ngày 32"),
        (f"/01/{GTIN_14}", "17=261301", "expiry_date", "Tháng 13"),
        (f"/01/{GTIN_14}", "11=2601", "production_date", "YYMMDD"),
        (f"/01/{GTIN_14}", "15=270229", "best_before_date", "không có ngày 29"),
        (f"/01/{GTIN_14}", "17=261231&17=271231", "expiry_date", "xuất hiện hai lần"),
        (f"/01/{GTIN_14}", "10=L1", "path", "phải nằm trong đường dẫn"),
    ],
)
def test_invalid_links_are_rejected_with_the_field_at_fault(
    path: str, query: str, field: str, words: str
) -> None:
    with pytest.raises(GS1Error) as caught:
        parse_path(path, query)
    assert caught.value.field == field
    assert words in caught.value.message
    assert "%(" not in caught.value.message  # every placeholder filled


def test_the_query_keeps_known_date_attributes_and_ignores_everything_else() -> None:
    link = parse_path(
        f"/01/{GTIN_14}/10/L1",
        "linkType=gs1%3Apip&lang=vi&17=280229&3103=000195&11=260100;15=270131&context=x",
    )
    assert link.attributes == {"17": "280229", "11": "260100", "15": "270131"}
    assert parse_path(f"/01/{GTIN_14}", None).attributes == {}
    assert parse_path(f"/01/{GTIN_14}", "?17=261231").attributes == {"17": "261231"}


def test_gs1_dates_use_the_last_day_for_day_00_and_the_sliding_century() -> None:
    today = dt.date(2026, 11, 28)
    assert gs1_date("260200", today) == dt.date(2026, 2, 28)
    assert gs1_date("280200", today) == dt.date(2028, 2, 29)
    assert gs1_date("761231", today) == dt.date(2076, 12, 31)  # 50 years ahead
    assert gs1_date("770101", today) == dt.date(1977, 1, 1)  # 51 ahead means 49 back
    assert gs1_date("010101", dt.date(2099, 6, 1)) == dt.date(2101, 1, 1)


def test_trace_code_links_use_the_services_own_t_path() -> None:
    link = DigitalLink(gtin=None, trace_code="AB12CD34", lot="L/1", serial="12ABCDEF")
    uri = build_uri(BASE, link)
    assert uri == f"{BASE}/t/AB12CD34/10/L%2F1/21/12ABCDEF"
    assert parse_uri(uri) == link
    assert parse_path("/t/ab12cd34/").trace_code == "AB12CD34"


def test_a_link_has_exactly_one_identifier_and_no_variant_without_a_gtin() -> None:
    with pytest.raises(GS1Error):
        DigitalLink(gtin=None)
    with pytest.raises(GS1Error):
        DigitalLink(gtin=GTIN_13, trace_code="ABCD")
    with pytest.raises(GS1Error) as caught:
        DigitalLink(gtin=None, trace_code="ABCD", variant="V")
    assert caught.value.field == "variant"
    with pytest.raises(GS1Error) as caught:
        DigitalLink(gtin=GTIN_13, attributes={"13": "260101"})
    assert caught.value.field == "attributes"


def test_links_are_values_that_cannot_be_changed_through_the_callers_dict() -> None:
    attributes = {"17": "261231"}
    link = DigitalLink(gtin=GTIN_13, lot="L1", attributes=attributes)
    attributes["17"] = "bad"
    assert link.attributes == {"17": "261231"}
    assert link == DigitalLink(gtin=GTIN_14, lot="L1", attributes={"17": "261231"})
    assert len({link, DigitalLink(gtin=GTIN_14, lot="L1", attributes={"17": "261231"})}) == 1
    assert link.subject == GTIN_14
    assert DigitalLink(gtin=None, trace_code="abcd").subject == "ABCD"


def test_walk_up_drops_serial_then_lot_then_variant() -> None:
    link = DigitalLink(gtin=GTIN_13, variant="V", lot="L", serial="S", attributes={"17": "261231"})
    assert [canonical_path(step) for step in link.walk_up()] == [
        f"/01/{GTIN_14}/22/V/10/L/21/S",
        f"/01/{GTIN_14}/22/V/10/L",
        f"/01/{GTIN_14}/22/V",
        f"/01/{GTIN_14}",
    ]
    bare = DigitalLink(gtin=None, trace_code="ABCD")
    assert bare.walk_up() == [bare]


@pytest.mark.parametrize(
    ("validate", "field"),
    [(validate_lot, "lot"), (validate_serial, "serial"), (validate_variant, "variant")],
)
def test_qualifier_validators_accept_set_82_and_name_the_first_bad_character(
    validate: Callable[[str], str], field: str
) -> None:
    assert validate("Az09" + PUNCTUATION_82[:16]) == "Az09" + PUNCTUATION_82[:16]
    for bad, words in [
        ("", "không được để trống"),
        ("x" * 21, "đang có 21"),
        ("AB~C", "“~” ở vị trí 3"),
        ("Lô 1", "“ô” ở vị trí 2"),
    ]:
        with pytest.raises(GS1Error) as caught:
            validate(bad)
        assert caught.value.field == field
        assert words in caught.value.message


def test_build_uri_refuses_a_base_url_that_is_not_http() -> None:
    with pytest.raises(ValueError, match="base_url"):
        build_uri("trace.example.vn", DigitalLink(gtin=GTIN_13))
    with pytest.raises(ValueError, match="base_url"):
        build_uri(BASE + "?x=1", DigitalLink(gtin=GTIN_13))


def test_validate_trace_code_upper_cases() -> None:
    assert validate_trace_code("ab12") == "AB12"
