"""GTIN check digits and validation, and GTIN-13 allocation under a Vietnamese company prefix."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from traceability.gs1.errors import N_, GS1Error, show_char

GTIN_LENGTHS = (8, 12, 13, 14)
VIETNAM_GS1_PREFIX = "893"
COMPANY_PREFIX_LENGTHS = range(7, 11)


def check_digit(body: str) -> str:
    """Return the GS1 mod-10 check digit of ``body``: a GTIN, GLN or SSCC minus its last digit."""
    if not body or not body.isascii() or not body.isdigit():
        raise GS1Error("gtin", N_("Phần thân của mã chỉ được gồm chữ số."))
    # Weights alternate 3, 1, 3, ... starting from the digit next to the check digit.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


@lru_cache(maxsize=4096)
def normalize_gtin(value: str) -> str:
    """Validate a GTIN-8, -12, -13 or -14 and return its 14-digit form.

    Nothing is stripped: a space is reported like any other bad character, so forms should
    strip their input first. Valid GTINs are remembered (a province has a few thousand
    products, and every scan of a label checks its GTIN); a bad one raises each time.
    """
    gtin = value
    if not gtin:
        raise GS1Error("gtin", N_("Chưa nhập GTIN."))
    for position, char in enumerate(gtin, start=1):
        if not ("0" <= char <= "9"):
            raise GS1Error(
                "gtin",
                N_(
                    "GTIN chỉ được gồm chữ số; ký tự %(char)s ở vị trí %(position)s không hợp lệ.",
                    char=show_char(char),
                    position=position,
                ),
            )
    if len(gtin) not in GTIN_LENGTHS:
        raise GS1Error(
            "gtin",
            N_("GTIN phải có 8, 12, 13 hoặc 14 chữ số (đang có %(length)s).", length=len(gtin)),
        )
    expected = check_digit(gtin[:-1])
    if gtin[-1] != expected:
        raise GS1Error(
            "gtin", N_("Số kiểm tra của GTIN không đúng (phải là %(expected)s).", expected=expected)
        )
    return gtin.zfill(14)


def is_valid_gtin(value: object) -> bool:
    """Tell whether ``value`` is a valid GTIN-8, -12, -13 or -14."""
    if not isinstance(value, str):
        return False
    try:
        normalize_gtin(value)
    except GS1Error:
        return False
    return True


def gtin13_display(gtin14: str) -> str | None:
    """Return the 13-digit form printed under an EAN-13 bar code, or None for a true GTIN-14."""
    gtin = normalize_gtin(gtin14)
    return gtin[1:] if gtin[0] == "0" else None


def validate_company_prefix(prefix: str) -> str:
    """Validate a GS1 Vietnam company prefix (893 followed by 4 to 7 digits) and return it."""
    value = prefix
    if not value.isascii() or not value.isdigit():
        raise GS1Error("company_prefix", N_("Mã doanh nghiệp GS1 chỉ được gồm chữ số."))
    if not value.startswith(VIETNAM_GS1_PREFIX):
        raise GS1Error("company_prefix", N_("Mã doanh nghiệp GS1 Việt Nam phải bắt đầu bằng 893."))
    if len(value) not in COMPANY_PREFIX_LENGTHS:
        raise GS1Error(
            "company_prefix",
            N_("Mã doanh nghiệp GS1 phải có từ 7 đến 10 chữ số (đang có %(length)s).", length=len(value)),
        )
    return value


def item_reference_capacity(prefix: str) -> int:
    """How many GTIN-13s a company prefix can number: 12 digits minus the prefix length."""
    capacity: int = 10 ** (12 - len(validate_company_prefix(prefix)))
    return capacity


def make_gtin13(prefix: str, item_reference: int) -> str:
    """Build the GTIN-13 for ``item_reference`` under ``prefix``, check digit included."""
    prefix = validate_company_prefix(prefix)
    capacity = item_reference_capacity(prefix)
    if isinstance(item_reference, bool) or not isinstance(item_reference, int):
        raise TypeError("item_reference must be an int")
    if not 0 <= item_reference < capacity:
        raise GS1Error(
            "item_reference",
            N_(
                "Số tham chiếu sản phẩm phải từ 0 đến %(last)s: mã doanh nghiệp %(prefix)s chỉ "
                "đánh số được %(capacity)s sản phẩm.",
                last=capacity - 1,
                prefix=prefix,
                capacity=capacity,
            ),
        )
    body = prefix + str(item_reference).zfill(12 - len(prefix))
    return body + check_digit(body)


def next_free_item_reference(prefix: str, used: Iterable[int]) -> int:
    """Return the lowest item reference not in ``used``; raise when the prefix is exhausted."""
    capacity = item_reference_capacity(prefix)
    taken = set(used)
    for candidate in range(capacity):
        if candidate not in taken:
            return candidate
    raise GS1Error(
        "company_prefix",
        N_(
            "Mã doanh nghiệp %(prefix)s đã dùng hết %(capacity)s mã sản phẩm; cần đăng ký thêm "
            "mã doanh nghiệp với GS1 Việt Nam.",
            prefix=prefix,
            capacity=capacity,
        ),
    )
