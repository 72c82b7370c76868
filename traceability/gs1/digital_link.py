"""GS1 Digital Link URIs (uncompressed, syntax 1.x) and the service's own /t/ trace-code links."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import NamedTuple
from urllib.parse import quote, unquote

from traceability.gs1.errors import N_, GS1Error, Text, show_char
from traceability.gs1.gtin import normalize_gtin

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
SET_82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
QUALIFIER_MAX_LENGTH = 20
TRACE_CODE_LENGTHS = range(4, 17)

GTIN_KEY = "01"
TRACE_CODE_KEY = "t"
_BAD_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote() leaves as it is


class _Element(NamedTuple):
    field: str
    name: Text  # inside a sentence
    title: Text  # at the start of one


# Key qualifiers in the only order the Digital Link grammar allows:
# gtin-path = gtin-comp [cpv-comp] [lot-comp] [ser-comp]. Each is optional.
_QUALIFIERS: dict[str, _Element] = {
    "22": _Element("variant", N_("mã biến thể"), N_("Mã biến thể")),
    "10": _Element("lot", N_("số lô"), N_("Số lô")),
    "21": _Element("serial", N_("số sê-ri"), N_("Số sê-ri")),
}
_QUALIFIER_ORDER = {"01": ("22", "10", "21"), "t": ("10", "21")}
_TRACE_CODE = N_("mã truy xuất")
_KEY_NAMES = {GTIN_KEY: "GTIN", TRACE_CODE_KEY: _TRACE_CODE}

# The data attributes this service reads from the query string; other AIs are ignored.
DATE_ATTRIBUTES: dict[str, _Element] = {
    "11": _Element("production_date", N_("ngày sản xuất"), N_("Ngày sản xuất")),
    "15": _Element(
        "best_before_date", N_("sử dụng tốt nhất trước ngày"), N_("Sử dụng tốt nhất trước ngày")
    ),
    "17": _Element("expiry_date", N_("hạn sử dụng"), N_("Hạn sử dụng")),
}


@dataclass(frozen=True)
class DigitalLink:
    """What a label's QR code identifies: a GTIN (or a trace code) with optional qualifiers.

    Exactly one of ``gtin`` and ``trace_code`` is set. Values are validated on creation;
    ``gtin`` is stored in its 14-digit form and ``trace_code`` in upper case.
    ``attributes`` holds the date attributes by AI ("11", "15", "17") as YYMMDD strings.
    """

    gtin: str | None
    lot: str | None = None
    serial: str | None = None
    variant: str | None = None
    trace_code: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if (self.gtin is None) == (self.trace_code is None):
            raise GS1Error("gtin", N_("Liên kết cần đúng một mã định danh: GTIN hoặc mã truy xuất."))
        if self.gtin is not None:
            object.__setattr__(self, "gtin", normalize_gtin(self.gtin))
        else:
            assert self.trace_code is not None
            object.__setattr__(self, "trace_code", validate_trace_code(self.trace_code))
            if self.variant is not None:
                raise GS1Error("variant", N_("Chỉ sản phẩm có GTIN mới có mã biến thể (AI 22)."))
        if self.variant is not None:
            validate_variant(self.variant)
        if self.lot is not None:
            validate_lot(self.lot)
        if self.serial is not None:
            validate_serial(self.serial)
        attributes = dict(self.attributes)
        for ai, value in attributes.items():
            _date_attribute(ai, value)
        # A private copy, so that the caller's dict cannot change a frozen link.
        object.__setattr__(self, "attributes", attributes)

    @property
    def subject(self) -> str:
        """The primary identifier: the GTIN-14, or the trace code."""
        return self.gtin if self.gtin is not None else str(self.trace_code)

    def walk_up(self) -> list[DigitalLink]:
        """This link and each coarser one up to the bare identifier, most specific first.

        The order in which a resolver falls back when a qualifier has no entry of its own.
        Attributes are dropped: they never select an entry.
        """
        chain = [replace(self, attributes={})]
        if self.serial is not None:
            chain.append(replace(chain[-1], serial=None))
        if self.lot is not None:
            chain.append(replace(chain[-1], lot=None))
        if self.variant is not None:
            chain.append(replace(chain[-1], variant=None))
        return chain


def validate_lot(value: str) -> str:
    """Validate a batch/lot number (AI 10): 1–20 characters of set 82."""
    return _validate_set_82(value, _QUALIFIERS["10"])


def validate_serial(value: str) -> str:
    """Validate a serial number (AI 21): 1–20 characters of set 82."""
    return _validate_set_82(value, _QUALIFIERS["21"])


def validate_variant(value: str) -> str:
    """Validate a consumer product variant (AI 22): 1–20 characters of set 82."""
    return _validate_set_82(value, _QUALIFIERS["22"])


def validate_trace_code(value: str) -> str:
    """Validate a trace code (4–16 of A–Z, 0–9; lower case accepted) and return it upper-cased."""
    if len(value) not in TRACE_CODE_LENGTHS:
        raise GS1Error(
            "trace_code",
            N_("Mã truy xuất phải có từ 4 đến 16 ký tự (đang có %(length)s).", length=len(value)),
        )
    for position, char in enumerate(value, start=1):
        if not (char.isascii() and char.isalnum()):
            raise GS1Error(
                "trace_code",
                N_(
                    "Mã truy xuất chỉ gồm chữ cái A–Z và chữ số; ký tự %(char)s ở vị trí "
                    "%(position)s không hợp lệ.",
                    char=show_char(char),
                    position=position,
                ),
            )
    # People type codes read off a label in lower case; the canonical form is upper case.
    return value.upper()


def gs1_date(value: str, today: dt.date | None = None) -> dt.date:
    """Read a GS1 YYMMDD date: day 00 means the month's last day; century per GenSpecs 7.12."""
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise GS1Error(
            "date",
            N_("Ngày phải có dạng YYMMDD (6 chữ số, ví dụ 261231), không phải “%(value)s”.", value=value),
        )
    yy, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    # The two-digit year lies between 49 years back and 50 years ahead of today.
    this_year = (today or dt.date.today()).year
    century = this_year - this_year % 100
    difference = yy - this_year % 100
    if difference >= 51:
        century -= 100
    elif difference <= -50:
        century += 100
    year = century + yy
    if not 1 <= month <= 12:
        raise GS1Error(
            "date", N_("Tháng %(month)s không hợp lệ (phải từ 01 đến 12).", month=value[2:4])
        )
    last_day = calendar.monthrange(year, month)[1]
    if day > last_day:
        raise GS1Error(
            "date",
            N_(
                "Tháng %(month)s/%(year)s không có ngày %(day)s.",
                month=f"{month:02d}",
                year=year,
                day=value[4:],
            ),
        )
    return dt.date(year, month, day or last_day)


def canonical_path(link: DigitalLink) -> str:
    """The link's path in canonical form (14-digit GTIN, fixed qualifier order, percent-encoded)."""
    if link.gtin is not None:
        segments = ["", GTIN_KEY, link.gtin]
    else:
        segments = ["", TRACE_CODE_KEY, str(link.trace_code)]
    for ai, value in (("22", link.variant), ("10", link.lot), ("21", link.serial)):
        if value is not None:
            # Only A-Z a-z 0-9 - . _ of set 82 may stay as they are; quote() with no safe
            # characters encodes every other one, "/" included, with upper-case hex.
            segments += [ai, value if _UNRESERVED.fullmatch(value) else quote(value, safe="")]
    return "/".join(segments)


def build_uri(base_url: str, link: DigitalLink) -> str:
    """The uncompressed URI printed in the QR code: base URL, canonical path, date attributes."""
    base = base_url.rstrip("/")
    if not base.lower().startswith(("https://", "http://")) or "?" in base or "#" in base:
        raise ValueError(f"base_url must be an http(s) URL without query or fragment: {base_url!r}")
    uri = base + canonical_path(link)
    if link.attributes:
        uri += "?" + "&".join(f"{ai}={link.attributes[ai]}" for ai in sorted(link.attributes))
    return uri


def parse_path(path: str, query: str | None = "") -> DigitalLink:
    """Parse a request path (``/01/...`` or ``/t/...``) and its query string into a DigitalLink.

    ``path`` must be the raw path, still percent-encoded, relative to the resolver root:
    WSGI's PATH_INFO (Flask's ``request.path``) is already decoded, so a lot "A/B" sent as
    ``A%2FB`` would arrive there as two segments. One trailing slash is tolerated; GTIN-8,
    -12 and -13 are accepted and stored as GTIN-14. Raises GS1Error naming the bad field.
    """
    if path.endswith("/") and len(path) > 1:
        path = path[:-1]
    raw_segments = path.split("/")
    if raw_segments[0] != "" or len(raw_segments) < 2:
        raise _path_error(
            N_("Đường dẫn phải bắt đầu bằng /01/{GTIN} hoặc /t/{%(code)s}.", code=_TRACE_CODE)
        )
    segments = [_decode_segment(raw) for raw in raw_segments[1:]]
    primary = segments[0]
    if primary not in _QUALIFIER_ORDER:
        raise _path_error(
            N_(
                "Đường dẫn phải bắt đầu bằng /01/{GTIN} hoặc /t/{%(code)s}, không phải /%(found)s/.",
                code=_TRACE_CODE,
                found=primary,
            )
        )
    if len(segments) == 1:
        raise _path_error(
            N_("Thiếu %(what)s sau /%(key)s/.", what=_KEY_NAMES[primary], key=primary)
        )
    identifier = segments[1]
    allowed = _QUALIFIER_ORDER[primary]
    qualifiers: dict[str, str] = {}
    for index in range(2, len(segments), 2):
        ai = segments[index]
        _check_qualifier_position(primary, ai, allowed, qualifiers)
        if index + 1 == len(segments):
            raise _path_error(
                N_("Thiếu giá trị sau /%(ai)s/ (%(name)s).", ai=ai, name=_QUALIFIERS[ai].name)
            )
        qualifiers[ai] = segments[index + 1]
    attributes = _parse_attributes(query or "")
    return DigitalLink(
        gtin=identifier if primary == GTIN_KEY else None,
        trace_code=identifier if primary == TRACE_CODE_KEY else None,
        variant=qualifiers.get("22"),
        lot=qualifiers.get("10"),
        serial=qualifiers.get("21"),
        attributes=attributes,
    )


def _check_qualifier_position(
    primary: str, ai: str, allowed: tuple[str, ...], seen: dict[str, str]
) -> None:
    if ai == "":
        raise _path_error(N_("Đường dẫn có dấu “/” thừa."))
    if ai in seen or ai == primary:
        name = _QUALIFIERS[ai].name if ai in _QUALIFIERS else N_("mã định danh")
        raise _path_error(
            N_("Mã AI %(ai)s (%(name)s) xuất hiện hai lần trong đường dẫn.", ai=ai, name=name)
        )
    if ai in allowed and all(allowed.index(a) < allowed.index(ai) for a in seen):
        return  # in its place: the checks below only find out what to say
    order = tuple(_named_ai(a) for a in allowed)
    if ai not in allowed:
        raise _path_error(
            N_(
                "Mã AI “%(ai)s” không được dùng trong đường dẫn này: sau %(key)s chỉ có "
                "%(order)s, theo đúng thứ tự đó.",
                ai=ai,
                key=_KEY_NAMES[primary],
                order=order,
            )
        )
    later = [a for a in seen if allowed.index(a) > allowed.index(ai)]
    if later:
        raise _path_error(
            N_(
                "Sai thứ tự trong đường dẫn: %(ai)s phải đứng trước %(later)s; thứ tự đúng là "
                "%(order)s.",
                ai=_named_ai(ai),
                later=_named_ai(later[0]),
                order=order,
            )
        )


def _named_ai(ai: str) -> Text:
    """A qualifier's AI with its name, as in "10 (số lô)"."""
    return N_("%(ai)s (%(name)s)", ai=ai, name=_QUALIFIERS[ai].name)


def _parse_attributes(query: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    if not query:
        return attributes
    # The Digital Link grammar separates query parameters with "&" or ";".
    for parameter in re.split(r"[&;]", query.removeprefix("?")):
        key, _, value = parameter.partition("=")
        key = unquote(key)
        # Non-numeric keys (linkType, lang, context...) belong to the resolver, not to us.
        if not key.isascii() or not key.isdigit():
            continue
        if key in _QUALIFIERS or key == GTIN_KEY:
            name = _QUALIFIERS[key].name if key in _QUALIFIERS else "GTIN"
            raise _path_error(
                N_(
                    "Mã AI %(ai)s (%(name)s) phải nằm trong đường dẫn, không đặt sau dấu “?”.",
                    ai=key,
                    name=name,
                )
            )
        element = DATE_ATTRIBUTES.get(key)
        if element is None:
            continue  # a valid GS1 data attribute (weight, price...) that this service ignores
        if key in attributes:
            raise GS1Error(
                element.field,
                N_("Mã AI %(ai)s (%(name)s) xuất hiện hai lần.", ai=key, name=element.name),
            )
        attributes[key] = _date_attribute(key, unquote(value))
    return attributes


def _date_attribute(ai: str, value: str) -> str:
    element = DATE_ATTRIBUTES.get(ai)
    if element is None:
        raise GS1Error(
            "attributes",
            N_("Mã AI %(ai)s không phải thuộc tính ngày được hỗ trợ (11, 15, 17).", ai=ai),
        )
    try:
        gs1_date(value)
    except GS1Error as error:
        raise GS1Error(
            element.field,
            N_("%(name)s (AI %(ai)s): %(reason)s", name=element.title, ai=ai, reason=error.text),
        ) from None
    return value


def _decode_segment(raw: str) -> str:
    if "%" not in raw:
        return raw  # the common case: nothing to decode
    bad = _BAD_PERCENT_ESCAPE.search(raw)
    if bad:
        raise _path_error(
            N_(
                "Đường dẫn có mã hoá phần trăm sai: “%(escape)s” (dấu “%%” phải được viết là %%25).",
                escape=raw[bad.start() : bad.start() + 3],
            )
        )
    # Invalid UTF-8 becomes U+FFFD, which the set-82 check then names with its position.
    return unquote(raw, errors="replace")


def _validate_set_82(value: str, element: _Element) -> str:
    if 0 < len(value) <= QUALIFIER_MAX_LENGTH and SET_82.issuperset(value):
        return value  # valid: the checks below only find out what to say
    if not value:
        raise GS1Error(element.field, N_("%(name)s không được để trống.", name=element.title))
    if len(value) > QUALIFIER_MAX_LENGTH:
        raise GS1Error(
            element.field,
            N_(
                "%(name)s dài tối đa %(most)s ký tự (đang có %(length)s).",
                name=element.title,
                most=QUALIFIER_MAX_LENGTH,
                length=len(value),
            ),
        )
    for position, char in enumerate(value, start=1):
        if char not in SET_82:
            raise GS1Error(
                element.field,
                N_(
                    "%(name)s có ký tự không hợp lệ %(char)s ở vị trí %(position)s; chỉ được dùng "
                    "chữ cái không dấu (A–Z, a–z), chữ số và các ký hiệu "
                    "! \" %% & ' ( ) * + , - . / : ; < = > ? _.",
                    name=element.title,
                    char=show_char(char),
                    position=position,
                ),
            )
    return value


def _path_error(text: Text) -> GS1Error:
    return GS1Error("path", text)
