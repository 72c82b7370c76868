"""GS1Error: a field name for machines, a message for people in their language (Vietnamese
unless the application installs a translator), one msgid per message for the catalog."""

import pickle
from collections.abc import Iterator

import pytest

from traceability.gs1 import GS1Error, normalize_gtin, parse_path
from traceability.gs1.errors import N_, use_translator


@pytest.fixture()
def english_words() -> Iterator[dict[str, str]]:
    """A translator that knows a few msgids, installed for one test."""
    words: dict[str, str] = {}
    use_translator(lambda msgid: words.get(msgid, msgid))
    yield words
    use_translator(None)


def test_a_gs1_error_is_a_value_error_whose_text_is_the_vietnamese_message() -> None:
    error = GS1Error("lot", N_("Số lô không được để trống."))
    assert isinstance(error, ValueError)
    assert str(error) == error.message == "Số lô không được để trống."
    assert error.field == "lot"


def test_a_gs1_error_survives_pickling_with_all_its_fields() -> None:
    with pytest.raises(GS1Error) as caught:
        normalize_gtin("12345")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.field, copy.message, copy.text) == (
        caught.value.field,
        caught.value.message,
        caught.value.text,
    )


def test_the_message_is_translated_when_read_names_and_reasons_included(english_words) -> None:
    with pytest.raises(GS1Error) as caught:
        parse_path("/01/08939900001010", "17=261232")
    assert caught.value.message == "Hạn sử dụng (AI 17): Tháng 12/2026 không có ngày 32."
    english_words.update({
        "Hạn sử dụng": "Expiry date",
        "%(name)s (AI %(ai)s): %(reason)s": "%(name)s (AI %(ai)s): %(reason)s",
        "Tháng %(month)s/%(year)s không có ngày %(day)s.": "%(month)s/%(year)s has no day %(day)s.",
    })
    assert caught.value.message == "Expiry date (AI 17): 12/2026 has no day 32."
    assert str(caught.value) == caught.value.message


def test_a_list_of_names_is_translated_item_by_item(english_words) -> None:
    with pytest.raises(GS1Error) as caught:
        parse_path("/t/ABCD/22/V", "")
    assert "sau mã truy xuất chỉ có 10 (số lô), 21 (số sê-ri), theo đúng" in caught.value.message
    english_words.update({"số lô": "batch number", "số sê-ri": "serial number"})
    assert "chỉ có 10 (batch number), 21 (serial number), theo đúng" in caught.value.message
