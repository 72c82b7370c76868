"""The inspector's label check: a code typed in, or read from a photo of the label, and the
verification service's verdict on it (resolver/trace.py: verdict, the trace page's rules)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import zxingcpp
from flask import current_app
from flask_babel import gettext as _
from PIL import Image

from .. import formats
from ..accounts.models import User
from ..accounts.permissions import Action, can
from ..batches.media import decode_photo, has_alpha, max_upload_bytes
from ..errors import Unavailable, field_error
from ..gs1 import GS1Error, canonical_path
from ..gs1.scanned import ScannedCode, read_code
from ..image_slots import NoFreeSlot, image_slots
from ..resolver.trace import Verdict, verdict
from .services import require_inspector

# A label photo is decoded to fit this many pixels a side before its codes are looked for,
# more than a diary photo keeps (1600 px): a unit label's QR code (41 modules for a 90-character
# URL at level M) filling a fifth of the frame still has about 10 pixels a module.
PHOTO_SIDE = 2000
_FORMATS = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode,
            zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.EAN13,
            zxingcpp.BarcodeFormat.EAN8, zxingcpp.BarcodeFormat.UPCA,
            zxingcpp.BarcodeFormat.UPCE)


@dataclass
class LabelCheck:
    """A code as read, the verdict on it, and how much of it the user may see."""

    scanned: ScannedCode
    verdict: Verdict
    # The trace page's rule for its inspector block: the details (label run, certificate,
    # scans, the inspection button) only for those who may view the producer.
    in_scope: bool
    may_inspect: bool
    other_host: str | None  # the host the label's URI names, when it is not this service's

    @property
    def code(self) -> str:
        return canonical_path(self.scanned.link)


def check_code(user: User, text: str) -> LabelCheck:
    """The verdict on a code typed or pasted: 422 naming `code` for one that cannot be read."""
    require_inspector(user)
    try:
        scanned = read_code(text)
    except GS1Error as exc:
        raise field_error("code", exc.message) from None
    return _check(user, scanned)


def check_photo(user: User, data: bytes, field: str = "photo") -> LabelCheck:
    """The verdict on the code in a photo of a label: 422 naming `field` for a file that is
    not a photo within the upload limits, or one without a readable product code."""
    require_inspector(user)
    return _check(user, code_in_photo(data, field))


def _check(user: User, scanned: ScannedCode) -> LabelCheck:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = verdict(app, scanned.link)
    producer = found.res.product.producer if found.res.product is not None else None
    ours = urlsplit(app.config["PUBLIC_BASE_URL"]).hostname
    return LabelCheck(
        scanned, found,
        in_scope=producer is not None and can(user, Action.VIEW, producer),
        may_inspect=producer is not None and can(user, Action.INSPECT, producer),
        other_host=scanned.host if scanned.host not in (None, ours) else None)


def code_in_photo(data: bytes, field: str = "photo") -> ScannedCode:
    """The most specific product code in a photo (a unit's serial before a lot, a lot before
    a bare GTIN): its QR code, Data Matrix or EAN/UPC barcode. The photo goes through the
    same checks as a diary photo (size, format, pixel count from the header) and the host's
    image slots, for the decode and for the search alike."""
    limit = max_upload_bytes(current_app.config)
    if not data:
        raise field_error(field, _("Tệp trống hoặc chưa được chọn."))
    if len(data) > limit:
        raise field_error(field, _("Tệp quá lớn: tối đa %(mb)s MB.",
                                   mb=formats.decimal(round(limit / 1024 / 1024, 1), formats.current_locale())))
    image = decode_photo(data, field, PHOTO_SIDE)
    try:
        with image_slots().hold():
            barcodes = zxingcpp.read_barcodes(_grey(image), formats=_FORMATS)
    except NoFreeSlot:
        raise field_error(field, _("Máy chủ đang xử lý nhiều ảnh cùng lúc. Vui lòng gửi lại "
                                   "sau ít giây."), Unavailable) from None
    if not barcodes:
        raise field_error(field, _("Không tìm thấy mã QR hay mã vạch trong ảnh. Hãy chụp lại "
                                   "gần hơn, đủ sáng, rõ nét và thấy trọn mã."))
    read: list[ScannedCode] = []
    refusals: list[str] = []
    for barcode in barcodes:
        try:
            read.append(read_code(barcode.text))
        except GS1Error as exc:
            refusals.append(exc.message)
    if not read:
        raise field_error(field, _("Ảnh có mã nhưng không phải mã sản phẩm: %(reason)s",
                                   reason=refusals[0]))
    return max(read, key=_specificity)


def _specificity(scanned: ScannedCode) -> tuple[bool, bool]:
    return scanned.link.serial is not None, scanned.link.lot is not None


def _grey(image: Image.Image) -> Any:
    """Grey pixels for the reader, a transparent background made white (a QR code saved
    with a transparent quiet zone would otherwise read as dark on dark)."""
    if has_alpha(image):
        white = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(white, image.convert("RGBA"))
    return image.convert("L")
