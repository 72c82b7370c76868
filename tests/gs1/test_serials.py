"""Unit serials: index plus an HMAC tag, verifiable with versioned keys and no row per unit."""

import base64
import hashlib
import hmac
import time

import pytest
from stdnum import ean

from traceability.gs1 import (
    DigitalLink,
    GS1Error,
    SerialSigner,
    build_uri,
    iter_serials,
    parse_keys,
)

KEY_1 = bytes(range(32))
KEY_2 = bytes(range(100, 132))
GTIN_13 = "893456789012" + ean.calc_check_digit("893456789012")
GTIN_14 = "0" + GTIN_13
LOT = "L2026/01"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@pytest.fixture
def signer() -> SerialSigner:
    return SerialSigner({1: KEY_1}, current_version=1)


def expected_tag(key: bytes, subject: str, lot: str, index: int) -> str:
    """The tag as the format describes it, computed bit by bit without the module's code."""
    digest = hmac.new(key, f"{subject}\x1f{lot}\x1f{index}".encode(), hashlib.sha256).digest()
    first_30_bits = int.from_bytes(digest[:4], "big") >> 2
    return "".join(BASE32[(first_30_bits >> shift) & 31] for shift in (25, 20, 15, 10, 5, 0))


def test_a_serial_is_the_index_then_the_first_30_bits_of_the_hmac(signer: SerialSigner) -> None:
    serial = signer.make(GTIN_14, LOT, 42)
    assert serial == "42" + expected_tag(KEY_1, GTIN_14, LOT, 42)
    assert signer.split(serial) == (42, serial[2:])


def test_a_genuine_serial_verifies(signer: SerialSigner) -> None:
    serial = signer.make(GTIN_14, LOT, 7)
    assert signer.verify(GTIN_14, LOT, serial, 1)


def test_gtin_13_and_gtin_14_subjects_make_the_same_serial(signer: SerialSigner) -> None:
    assert signer.make(GTIN_13, LOT, 3) == signer.make(GTIN_14, LOT, 3)
    assert signer.verify(GTIN_13, LOT, signer.make(GTIN_14, LOT, 3), 1)


def test_an_altered_tag_fails(signer: SerialSigner) -> None:
    serial = signer.make(GTIN_14, LOT, 7)
    last = serial[-1]
    altered = serial[:-1] + ("A" if last != "A" else "B")
    assert not signer.verify(GTIN_14, LOT, altered, 1)


def test_a_tag_moved_to_another_index_fails(signer: SerialSigner) -> None:
    index, tag = signer.split(signer.make(GTIN_14, LOT, 7))
    assert not signer.verify(GTIN_14, LOT, f"{index + 1}{tag}", 1)


def test_a_serial_from_another_lot_or_product_fails(signer: SerialSigner) -> None:
    serial = signer.make(GTIN_14, LOT, 7)
    assert not signer.verify(GTIN_14, "L2026/02", serial, 1)
    assert not signer.verify(GTIN_14, "", serial, 1)
    assert not signer.verify("AB12CD34", LOT, serial, 1)


def test_the_wrong_or_an_unknown_key_version_fails() -> None:
    signer = SerialSigner({1: KEY_1, 2: KEY_2}, current_version=1)
    serial = signer.make(GTIN_14, LOT, 7)
    assert not signer.verify(GTIN_14, LOT, serial, 2)
    assert not signer.verify(GTIN_14, LOT, serial, 3)


def test_after_rotation_old_serials_still_verify_with_their_version() -> None:
    before = SerialSigner({1: KEY_1}, current_version=1)
    old_serial = before.make(GTIN_14, LOT, 7)
    after = SerialSigner({1: KEY_1, 2: KEY_2}, current_version=2)
    assert after.verify(GTIN_14, LOT, old_serial, 1)
    new_serial = after.make(GTIN_14, LOT, 7)
    assert new_serial != old_serial
    assert after.verify(GTIN_14, LOT, new_serial, 2)
    assert after.make(GTIN_14, LOT, 7, version=1) == old_serial


def test_trace_code_subjects_and_lotless_labels_are_signed_too(signer: SerialSigner) -> None:
    serial = signer.make("ab12cd34", "", 1)
    assert serial == "1" + expected_tag(KEY_1, "AB12CD34", "", 1)
    assert signer.verify("AB12CD34", "", serial, 1)


@pytest.mark.parametrize("code", ["23456789", "23456785"])  # the second is a valid GTIN-8
def test_all_digit_trace_codes_sign_and_verify(signer: SerialSigner, code: str) -> None:
    serial = signer.make(code, LOT, 9)
    assert signer.verify(code, LOT, serial, 1)


@pytest.mark.parametrize(
    "serial",
    [
        "",
        "ABCDEF",
        "0ABCDEF",
        "01ABCDEF",
        "1abcdef",
        "1ABCDE1",
        "1ABCDE",
        "1 ABCDEF",
        "123456789012345ABCDEF",
        "-1ABCDEF",
        "1ABCDEFG",
    ],
)
def test_malformed_serials_do_not_split_and_do_not_verify(
    signer: SerialSigner, serial: str
) -> None:
    with pytest.raises(GS1Error) as caught:
        signer.split(serial)
    assert caught.value.field == "serial"
    assert "không đúng định dạng" in caught.value.message
    assert not signer.verify(GTIN_14, LOT, serial, 1)


def test_the_longest_index_keeps_the_serial_within_20_characters(signer: SerialSigner) -> None:
    serial = signer.make(GTIN_14, LOT, 10**14 - 1)
    assert len(serial) == 20
    assert signer.verify(GTIN_14, LOT, serial, 1)
    with pytest.raises(GS1Error) as caught:
        signer.make(GTIN_14, LOT, 10**14)
    assert caught.value.field == "serial"


def test_indexes_start_at_one(signer: SerialSigner) -> None:
    with pytest.raises(GS1Error):
        signer.make(GTIN_14, LOT, 0)
    with pytest.raises(GS1Error):
        iter_serials(signer, GTIN_14, LOT, 0, 10)  # raised at the call, before any next()


def test_every_serial_fits_a_digital_link(signer: SerialSigner) -> None:
    for serial in iter_serials(signer, GTIN_14, LOT, 1, 50):
        link = DigitalLink(gtin=GTIN_14, lot=LOT, serial=serial)
        assert build_uri("https://trace.example.vn", link).endswith("/21/" + serial)


def test_a_100000_label_run_is_fast_and_matches_make_one_by_one(signer: SerialSigner) -> None:
    started = time.perf_counter()
    serials = list(iter_serials(signer, GTIN_14, LOT, 1, 100_000))
    elapsed = time.perf_counter() - started
    assert len(set(serials)) == 100_000
    assert serials[0] == signer.make(GTIN_14, LOT, 1)
    assert serials[-1] == signer.make(GTIN_14, LOT, 100_000)
    assert elapsed < 5  # about 0.2 s on a laptop; generous so that slow CI does not flake


def test_iter_serials_uses_the_requested_version() -> None:
    signer = SerialSigner({1: KEY_1, 2: KEY_2}, current_version=2)
    assert list(iter_serials(signer, GTIN_14, LOT, 5, 2, version=1)) == [
        "5" + expected_tag(KEY_1, GTIN_14, LOT, 5),
        "6" + expected_tag(KEY_1, GTIN_14, LOT, 6),
    ]
    with pytest.raises(ValueError, match="version 9"):
        signer.make(GTIN_14, LOT, 1, version=9)


def test_parse_keys_reads_hex_and_base64_with_or_without_padding() -> None:
    key_3 = b"\xfb" * 20  # URL-safe base64 differs from the standard one for these bytes
    unpadded = base64.urlsafe_b64encode(key_3).decode().rstrip("=")
    spec = f" 1:{KEY_1.hex()} , 2:{base64.b64encode(KEY_2).decode()},3:{unpadded}"
    assert parse_keys(spec) == {1: KEY_1, 2: KEY_2, 3: key_3}


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "No serial keys"),
        (f"1:{(b'short').hex()}", "at least 16"),
        (f"{KEY_1.hex()}", "version:secret"),
        (f"0:{KEY_1.hex()}", "positive"),
        (f"x:{KEY_1.hex()}", "version:secret"),
        (f"1:{KEY_1.hex()},1:{KEY_2.hex()}", "given twice"),
        ("1:not*base64*or*hex*at*all", "neither hex nor base64"),
    ],
)
def test_parse_keys_rejects_bad_specs_without_quoting_the_secret(spec: str, words: str) -> None:
    with pytest.raises(ValueError, match=words) as caught:
        parse_keys(spec)
    assert KEY_1.hex() not in str(caught.value)


def test_a_signer_needs_its_current_key_and_long_enough_keys() -> None:
    with pytest.raises(ValueError, match="current version 2"):
        SerialSigner({1: KEY_1}, current_version=2)
    with pytest.raises(ValueError, match="at least 16"):
        SerialSigner({1: KEY_1, 2: b"short"}, current_version=1)
