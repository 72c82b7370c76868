"""GS1Error: a field name for machines, a Vietnamese message for people, English for logs."""

import pickle

import pytest

from traceability.gs1 import GS1Error, normalize_gtin


def test_a_gs1_error_is_a_value_error_whose_text_is_the_vietnamese_message() -> None:
    error = GS1Error("lot", "Số lô không được để trống.", "The lot is empty.")
    assert isinstance(error, ValueError)
    assert str(error) == "Số lô không được để trống."
    assert (error.field, error.message_en) == ("lot", "The lot is empty.")


def test_a_gs1_error_survives_pickling_with_all_its_fields() -> None:
    with pytest.raises(GS1Error) as caught:
        normalize_gtin("12345")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.field, copy.message, copy.message_en) == (
        caught.value.field,
        caught.value.message,
        caught.value.message_en,
    )
