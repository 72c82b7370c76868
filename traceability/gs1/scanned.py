"""Codes as a person types them or a barcode reader returns them: a Digital Link URI from
any host (with or without its scheme), a resolver path, a GS1 element string (human
readable with parentheses, or raw with FNC1 separators) or a bare GTIN or trace code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from traceability.gs1.digital_link import (
    DATE_ATTRIBUTES,
    GTIN_KEY,
    TRACE_CODE_KEY,
    TRACE_CODE_LENGTHS,
    DigitalLink,
    parse_path,
)
from traceability.gs1.errors import N_, GS1Error

MAX_CODE_LENGTH = 500
GROUP_SEPARATOR = "\x1d"  # FNC1 inside a raw element string
FIELD = "code"

# The application identifiers a label of this service can carry, with their fixed length
# (None: variable, up to 20 characters, ended by FNC1 or the end of the string).
_ELEMENTS: dict[str, int | None] = {"01": 14, "10": None, "21": None, "22": None,
                                    **{ai: 6 for ai in DATE_ATTRIBUTES}}
_QUALIFIER_FIELDS = {"10": "lot", "21": "serial", "22": "variant"}
_PARENTHESISED = re.compile(r"\((\d{2,4})\)([^(]*)")
_DIGITS = re.compile(r"\d+")
_SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9A-Za-z]")  # ]Q3, ]d2, ]C1, ]E0 ...
_HOST_PATH = re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?/")


@dataclass(frozen=True)
class ScannedCode:
    """A code read from a label: what it identifies, and the host of its URI when it was one
    (another host than the service's is worth a look: a copied label may point elsewhere)."""

    link: DigitalLink
    host: str | None = None


def read_code(text: str) -> ScannedCode:
    """Read what a person typed or pasted, or what a barcode said; GS1Error naming `code`."""
    code = text.strip()
    if not code:
        raise GS1Error(FIELD, N_("Chưa nhập mã."))
    if len(code) > MAX_CODE_LENGTH:
        raise GS1Error(FIELD, N_("Mã dài quá %(most)s ký tự.", most=MAX_CODE_LENGTH))
    lowered = code.lower()
    if lowered.startswith(("http://", "https://")):
        return _read_uri(code)
    if _HOST_PATH.match(code):  # a URI typed without its scheme: id.gs1.org/01/...
        return _read_uri("https://" + code)
    if code.startswith("/"):
        path, _sep, query = code.partition("?")
        return ScannedCode(parse_path(path, query))
    if code.startswith("("):
        return ScannedCode(_read_parenthesised(code))
    if _SYMBOLOGY_ID.match(code):
        code = code[3:]
    compact = re.sub(r"[\s-]", "", code)
    if _DIGITS.fullmatch(compact) and len(compact) <= 14:
        return ScannedCode(DigitalLink(gtin=compact))
    if code.startswith(GTIN_KEY) and len(code) >= 16:
        return ScannedCode(_read_raw(code))
    if code.isascii() and code.isalnum() and len(code) in TRACE_CODE_LENGTHS:
        return ScannedCode(DigitalLink(gtin=None, trace_code=code))
    raise GS1Error(FIELD, N_(
        "Không đọc được mã. Hãy nhập liên kết trên tem (https://…/01/…), đường dẫn /01/…, "
        "chuỗi GS1 dạng (01)…(10)…(21)…, GTIN hoặc mã truy xuất."))


def _read_uri(uri: str) -> ScannedCode:
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise GS1Error(FIELD, N_("Địa chỉ web không hợp lệ.")) from None
    host = (parts.hostname or "").lower()
    segments = parts.path.split("/")
    # A Digital Link may sit under a path prefix (https://example.com/dl/01/...); the first
    # primary key found starts it.
    for key in (GTIN_KEY, TRACE_CODE_KEY):
        if key in segments[1:-1]:
            start = segments.index(key, 1)
            break
    else:
        raise GS1Error(FIELD, N_(
            "Địa chỉ %(host)s không phải liên kết GS1 Digital Link của sản phẩm: không có "
            "phần /01/ hay /t/.", host=host or uri))
    try:
        link = parse_path("/" + "/".join(segments[start:]), parts.query)
    except GS1Error as exc:
        raise GS1Error(FIELD, N_("Địa chỉ %(host)s không phải liên kết GS1 Digital Link hợp lệ: "
                                 "%(reason)s", host=host, reason=exc.text)) from None
    return ScannedCode(link, host or None)


def _read_parenthesised(code: str) -> DigitalLink:
    """(01)08931234567894(10)LOT(21)SERIAL, as printed under a barcode; spaces between the
    elements are allowed, and elements this service does not use are passed over."""
    pairs = _PARENTHESISED.findall(code)
    if not pairs or "".join(f"({ai}){value}" for ai, value in pairs) != code:
        raise GS1Error(FIELD, N_("Chuỗi GS1 phải có dạng (01)GTIN(10)số lô(21)số sê-ri."))
    return _link([(ai, value.strip()) for ai, value in pairs if ai in _ELEMENTS])


def _read_raw(code: str) -> DigitalLink:
    """010893123456789410LOT<GS>21SERIAL: fixed-length elements run on, a variable-length
    one ends at FNC1 (the group separator) or at the end."""
    elements: list[tuple[str, str]] = []
    position = 0
    while position < len(code):
        ai = code[position:position + 2]
        if ai not in _ELEMENTS:
            raise GS1Error(FIELD, N_("Chuỗi GS1 có mã AI %(ai)s mà tem OCOP không dùng.", ai=ai))
        position += 2
        length = _ELEMENTS[ai]
        if length is None:
            end = code.find(GROUP_SEPARATOR, position)
            end = len(code) if end < 0 else end
            elements.append((ai, code[position:end]))
            position = end + 1
        else:
            elements.append((ai, code[position:position + length]))
            position += length
            if code[position:position + 1] == GROUP_SEPARATOR:
                position += 1
    return _link(elements)


def _link(elements: list[tuple[str, str]]) -> DigitalLink:
    values: dict[str, str] = {}
    for ai, value in elements:
        if ai in values:
            raise GS1Error(FIELD, N_("Mã AI %(ai)s xuất hiện hai lần trong chuỗi GS1.", ai=ai))
        values[ai] = value
    if GTIN_KEY not in values:
        raise GS1Error(FIELD, N_("Chuỗi GS1 không có GTIN (AI 01)."))
    return DigitalLink(
        gtin=values[GTIN_KEY],
        **{_QUALIFIER_FIELDS[ai]: values[ai] for ai in _QUALIFIER_FIELDS if ai in values},
        attributes={ai: values[ai] for ai in DATE_ATTRIBUTES if ai in values})
