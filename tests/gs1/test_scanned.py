"""Codes as people type them and readers return them, read into Digital Links."""

from __future__ import annotations

import biip
import pytest

from traceability.gs1 import DigitalLink, GS1Error
from traceability.gs1.scanned import read_code

GTIN = "08939900001010"
UNIT = DigitalLink(gtin=GTIN, lot="TOI2026-10", serial="5ABCDEF")


@pytest.mark.parametrize("text, host", [
    (f"https://trace.example.vn/01/{GTIN}/10/TOI2026-10/21/5ABCDEF", "trace.example.vn"),
    (f"HTTPS://Trace.Example.VN/01/{GTIN}/10/TOI2026-10/21/5ABCDEF", "trace.example.vn"),
    (f"https://id.gs1.org/01/{GTIN}/10/TOI2026-10/21/5ABCDEF?linkType=all", "id.gs1.org"),
    (f"https://brand.example.com/dl/01/{GTIN}/10/TOI2026-10/21/5ABCDEF", "brand.example.com"),
    (f"trace.example.vn/01/{GTIN}/10/TOI2026-10/21/5ABCDEF", "trace.example.vn"),
    (f"/01/{GTIN}/10/TOI2026-10/21/5ABCDEF", None),
    (f"(01){GTIN}(10)TOI2026-10(21)5ABCDEF", None),
    (f"(01) {GTIN} (10) TOI2026-10 (21) 5ABCDEF", None),
    (f"01{GTIN}10TOI2026-10\x1d215ABCDEF", None),
    (f"]d201{GTIN}10TOI2026-10\x1d215ABCDEF", None),
])
def test_a_unit_code_in_every_form_reads_the_same(text, host):
    scanned = read_code(text)
    assert scanned.link == UNIT and scanned.host == host


def test_date_attributes_are_kept_and_unused_elements_passed_over():
    scanned = read_code(f"(01){GTIN}(17)271231(3103)000500(10)L1")
    assert scanned.link == DigitalLink(gtin=GTIN, lot="L1", attributes={"17": "271231"})
    assert read_code(f"https://x.vn/01/{GTIN}?17=271231").link.attributes == {"17": "271231"}


@pytest.mark.parametrize("text", ["8939900001010", "893 9900 00101 0", "08939900001010",
                                  f"01{GTIN}", "]E08939900001010"])
def test_a_bare_gtin_reads_as_the_product(text):
    assert read_code(text).link == DigitalLink(gtin=GTIN)


def test_a_trace_code_reads_in_upper_case():
    assert read_code("ocop7k2q").link == DigitalLink(gtin=None, trace_code="OCOP7K2Q")


@pytest.mark.parametrize("raw", [f"01{GTIN}10TOI2026-10\x1d215ABCDEF",
                                 f"01{GTIN}17271231215ABCDEF", f"0108939900001010103"])
def test_raw_element_strings_read_as_an_independent_parser_reads_them(raw):
    parsed = biip.parse(raw).gs1_message
    values = {element.ai.ai: element.value for element in parsed.element_strings}
    link = read_code(raw).link
    mine = {"01": link.gtin, "10": link.lot, "21": link.serial, **link.attributes}
    assert values == {ai: value for ai, value in mine.items() if value is not None}


@pytest.mark.parametrize("text, message", [
    ("", "Chưa nhập mã."),
    ("   ", "Chưa nhập mã."),
    ("xin chào", "Không đọc được mã."),
    ("https://shop.example.com/san-pham/12", "không phải liên kết GS1 Digital Link của sản phẩm"),
    ("https://shop.example.com/01/123", "GTIN phải có 8, 12, 13 hoặc 14 chữ số (đang có 3)"),
    ("https://[oops/01/1", "Địa chỉ web không hợp lệ."),
    ("8939900001011", "Số kiểm tra của GTIN không đúng"),
    ("(01)" + GTIN + "(10)A(10)B", "Mã AI 10 xuất hiện hai lần"),
    ("(10)LOT(21)1", "Chuỗi GS1 không có GTIN (AI 01)."),
    ("junk(01)" + GTIN, "Không đọc được mã."),
    ("(01)" + GTIN + "junk(10)L", "GTIN chỉ được gồm chữ số"),
    ("(01)" + GTIN + "(1)L", "Chuỗi GS1 phải có dạng"),
    ("01" + GTIN + "99ABC", "Chuỗi GS1 có mã AI 99"),
    ("9" * 501, "Mã dài quá 500 ký tự."),
])
def test_what_cannot_be_read_says_why(text, message):
    with pytest.raises(GS1Error) as caught:
        read_code(text)
    assert message in caught.value.message
