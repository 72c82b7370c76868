"""GS1 identifiers for OCOP Trace: GTINs, Digital Link URIs and verifiable unit serials."""

from traceability.gs1.digital_link import (
    DATE_ATTRIBUTES,
    SET_82,
    DigitalLink,
    build_uri,
    canonical_path,
    gs1_date,
    parse_path,
    validate_lot,
    validate_serial,
    validate_trace_code,
    validate_variant,
)
from traceability.gs1.errors import GS1Error
from traceability.gs1.gtin import (
    check_digit,
    gtin13_display,
    is_valid_gtin,
    item_reference_capacity,
    make_gtin13,
    next_free_item_reference,
    normalize_gtin,
    validate_company_prefix,
)
from traceability.gs1.serials import SerialSigner, iter_serials, parse_keys

__all__ = [
    "DATE_ATTRIBUTES",
    "SET_82",
    "DigitalLink",
    "GS1Error",
    "SerialSigner",
    "build_uri",
    "canonical_path",
    "check_digit",
    "gs1_date",
    "gtin13_display",
    "is_valid_gtin",
    "item_reference_capacity",
    "iter_serials",
    "make_gtin13",
    "next_free_item_reference",
    "normalize_gtin",
    "parse_keys",
    "parse_path",
    "validate_company_prefix",
    "validate_lot",
    "validate_serial",
    "validate_trace_code",
    "validate_variant",
]
