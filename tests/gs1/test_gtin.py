"""GTIN check digits, validation and allocation under a GS1 Vietnam company prefix."""

import random

import pytest
from stdnum import ean

from traceability.gs1 import (
    GS1Error,
    check_digit,
    gtin13_display,
    is_valid_gtin,
    item_reference_capacity,
    make_gtin13,
    next_free_item_reference,
    normalize_gtin,
    validate_company_prefix,
)

GTIN_13 = "893456789012" + ean.calc_check_digit("893456789012")


def test_check_digit_agrees_with_stdnum_for_many_random_bodies() -> None:
    rng = random.Random(20240601)
    for body_length in (7, 11, 12, 13, 17):
        for _ in range(500):
            body = "".join(rng.choice("0123456789") for _ in range(body_length))
            assert check_digit(body) == ean.calc_check_digit(body), body


def test_every_random_gtin_normalizes_to_fourteen_digits_that_stdnum_accepts() -> None:
    rng = random.Random(7)
    for length in (8, 12, 13, 14):
        for _ in range(300):
            body = "".join(rng.choice("0123456789") for _ in range(length - 1))
            gtin = body + ean.calc_check_digit(body)
            normalized = normalize_gtin(gtin)
            assert normalized == gtin.zfill(14)
            assert ean.validate(normalized) == normalized


def test_a_wrong_check_digit_is_rejected_and_the_right_one_is_named() -> None:
    wrong = GTIN_13[:-1] + str((int(GTIN_13[-1]) + 1) % 10)
    with pytest.raises(GS1Error) as caught:
        normalize_gtin(wrong)
    assert caught.value.field == "gtin"
    assert caught.value.message == f"Số kiểm tra của GTIN không đúng (phải là {GTIN_13[-1]})."
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "Chưa nhập GTIN"),
        ("8934567890", "đang có 10"),
        ("89345678901", "đang có 11"),
        ("893456789012345", "đang có 15"),
        ("8934567-90128", "“-” ở vị trí 8"),
        (" 8934567890128", "dấu cách ở vị trí 1"),
        ("８９３４５６７８９０１２８", "ở vị trí 1"),  # full-width digits are not ASCII digits
    ],
)
def test_malformed_gtins_are_rejected_with_a_precise_message(value: str, words: str) -> None:
    with pytest.raises(GS1Error) as caught:
        normalize_gtin(value)
    assert caught.value.field == "gtin"
    assert words in caught.value.message


def test_is_valid_gtin_answers_without_raising() -> None:
    assert is_valid_gtin(GTIN_13)
    assert is_valid_gtin("96385074")
    assert not is_valid_gtin(GTIN_13[:-1] + "x")
    assert not is_valid_gtin(None)
    assert not is_valid_gtin(8934567890128)


def test_gtin13_display_drops_the_leading_zero_only_when_there_is_one() -> None:
    assert gtin13_display("0" + GTIN_13) == GTIN_13
    gtin14 = "1" + GTIN_13[:-1]
    gtin14 += ean.calc_check_digit(gtin14)
    assert gtin13_display(gtin14) is None


@pytest.mark.parametrize("prefix", ["8930001", "89300012", "893000123", "8930001234"])
def test_vietnamese_company_prefixes_of_seven_to_ten_digits_are_accepted(prefix: str) -> None:
    assert validate_company_prefix(prefix) == prefix
    assert item_reference_capacity(prefix) == 10 ** (12 - len(prefix))


@pytest.mark.parametrize(
    ("prefix", "words"),
    [
        ("8850001", "bắt đầu bằng 893"),
        ("893001", "đang có 6"),
        ("89300012345", "đang có 11"),
        ("893O001", "chỉ được gồm chữ số"),
        ("", "chỉ được gồm chữ số"),
    ],
)
def test_bad_company_prefixes_are_rejected(prefix: str, words: str) -> None:
    with pytest.raises(GS1Error) as caught:
        validate_company_prefix(prefix)
    assert caught.value.field == "company_prefix"
    assert words in caught.value.message


def test_make_gtin13_pads_the_item_reference_and_adds_the_check_digit() -> None:
    gtin = make_gtin13("8930001", 42)
    assert gtin.startswith("893000100042")
    assert len(gtin) == 13
    assert ean.validate(gtin) == gtin


def test_a_ten_digit_prefix_numbers_exactly_one_hundred_items() -> None:
    prefix = "8930001234"
    assert item_reference_capacity(prefix) == 100
    assert [make_gtin13(prefix, ref)[10:12] for ref in (0, 7, 99)] == ["00", "07", "99"]
    with pytest.raises(GS1Error) as caught:
        make_gtin13(prefix, 100)
    assert caught.value.field == "item_reference"
    assert "0 đến 99" in caught.value.message
    with pytest.raises(GS1Error):
        make_gtin13(prefix, -1)


def test_next_free_item_reference_fills_the_lowest_gap() -> None:
    prefix = "8930001234"
    assert next_free_item_reference(prefix, []) == 0
    assert next_free_item_reference(prefix, [0, 1, 2, 4]) == 3
    assert next_free_item_reference(prefix, (r for r in range(100) if r != 57)) == 57


def test_an_exhausted_prefix_is_reported_on_the_company_prefix() -> None:
    with pytest.raises(GS1Error) as caught:
        next_free_item_reference("8930001234", range(100))
    assert caught.value.field == "company_prefix"
    assert "đã dùng hết 100 mã sản phẩm" in caught.value.message
