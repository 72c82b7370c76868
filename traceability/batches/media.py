"""Uploaded photos and documents: checked by decoding, resized, stripped of EXIF, content-addressed."""
from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import formats
from ..errors import Unavailable, field_error
from ..image_slots import NoFreeSlot, image_slots
from ..storage import FileStorage

LARGE_SIDE = 1600
SMALL_SIDE = 480
SMALL_SUFFIX = ".w480"
# Pixel bounds, checked from the file's header before a single pixel is decoded.
# A phone photo is 12 MP by default, and 48-50 MP in a camera's full-resolution mode
# (8064×6048, 8160×6120): 50 MP takes them all. A JPEG is decoded at 1/2, 1/4 or 1/8 of its
# size (libjpeg's scaled decoding, Image.draft), so its cost follows the 1600 px result rather
# than its pixel count. PNG and WebP cannot be decoded at reduced size: every pixel is held,
# and a WebP more than once, so their bounds are set by memory: 16 MP still takes a 4K or 5K
# screenshot and a 12 MP photo saved as PNG; a 10 MP WebP is more than a chat app sends.
# bench/images.py measures the worst case of each at about 160 MB above the worker's own
# memory (a progressive 50 MP JPEG, a 16 MP RGBA PNG, a 10 MP WebP); a plain 50 MP JPEG
# takes 30 MB. IMAGE_DECODE_SLOTS such decodes run at once on a host (image_slots.py).
MAX_PIXELS = {"JPEG": 50_000_000, "PNG": 16_000_000, "WEBP": 10_000_000}
JPEG_QUALITY = 85
GPS_IFD = 0x8825

SHRINKABLE_MODES = {"RGB", "RGBA", "L", "LA", "CMYK"}
PDF_TYPE = "application/pdf"

# Content-hashed names never change meaning, so they may be cached for a year.
HASHED_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}(\.w480)?\.(jpg|png|pdf)$")


@dataclass(frozen=True)
class StoredFile:
    """A file written to the media storage under `name`."""

    name: str
    content_type: str
    size_bytes: int
    sha256: str
    has_small: bool = False


def max_upload_bytes(config: dict) -> int:
    return int(config.get("MAX_UPLOAD_BYTES") or config.get("MAX_CONTENT_LENGTH") or 8 * 1024 * 1024)


def store_upload(data: bytes, storage: FileStorage, *, max_bytes: int, keep_location: bool = False,
                 allow_pdf: bool = True, field: str = "file") -> StoredFile:
    """Check and store an upload: an image (re-encoded) or, where allowed, a PDF document.

    Nothing is written unless the whole file is accepted.
    """
    if not data:
        raise field_error(field, _("Tệp trống hoặc chưa được chọn."))
    if len(data) > max_bytes:
        raise field_error(field, _("Tệp quá lớn: tối đa %(mb)s MB.",
                                   mb=formats.decimal(round(max_bytes / 1024 / 1024, 1), formats.current_locale())))
    if data.startswith(b"%PDF-"):
        if not allow_pdf:
            raise _not_an_image(field, pdf_too=False)
        return _store_pdf(data, storage, field)
    return _store_image(data, storage, keep_location, field, allow_pdf)


def _not_an_image(field: str, pdf_too: bool):
    if not pdf_too:
        return field_error(field, _("Chỉ nhận ảnh JPEG, PNG hoặc WebP."))
    return field_error(field, _("Tệp không phải là ảnh hợp lệ (JPEG, PNG, WebP) hoặc tài liệu PDF."))


def fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` shrunk (never grown) to fit a `side`×`side` box, keeping its proportions."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def decode_photo(data: bytes, field: str, side: int = LARGE_SIDE, *,
                 pdf_too: bool = False) -> Image.Image:
    """The photo in `data`, decoded and shrunk to fit `side` px: a 4xx naming `field` for a
    file that is not a JPEG, PNG or WebP image (the message mentions PDF when `pdf_too`, for
    a field that takes documents as well), or has more pixels than its format's bound.

    Image.open reads only the header, so the bound is checked before any pixel is decoded;
    the decode itself waits for one of the host's image slots.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in MAX_PIXELS:
                raise _not_an_image(field, pdf_too)
            limit = MAX_PIXELS[image.format]
            if image.width * image.height > limit:
                raise field_error(field, _("Ảnh quá lớn: tối đa %(mp)s triệu điểm ảnh.",
                                           mp=limit // 1_000_000))
            # A JPEG decodes straight to the smallest scale that still covers the result;
            # other formats ignore this.
            image.draft(None, fitted(image.size, side))
            try:
                with image_slots().hold():
                    # Decoding every pixel is the real type check: a renamed or truncated
                    # file fails here.
                    image.load()
                    if image.mode not in SHRINKABLE_MODES:
                        # Palette and 16-bit pixels would be shrunk by nearest neighbour.
                        image = image.convert("RGBA" if has_alpha(image) else "RGB")
                    # Shrunk at once, so the full-size pixels are let go inside the slot.
                    image.thumbnail((side, side), Image.Resampling.LANCZOS)
            except NoFreeSlot:
                raise field_error(field, _("Máy chủ đang xử lý nhiều ảnh cùng lúc. Vui lòng gửi "
                                           "lại sau ít giây."), Unavailable) from None
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, SyntaxError, ValueError, EOFError):
            raise _not_an_image(field, pdf_too) from None
    return image


def _store_image(data: bytes, storage: FileStorage, keep_location: bool, field: str,
                 pdf_too: bool) -> StoredFile:
    image = decode_photo(data, field, pdf_too=pdf_too)
    gps = image.getexif().get_ifd(GPS_IFD) if keep_location else {}
    # Bake the camera's rotation into the pixels: the Orientation tag goes with the rest.
    image = ImageOps.exif_transpose(image)
    exif = Image.Exif()
    if gps:
        exif[GPS_IFD] = dict(gps)
    if has_alpha(image):
        image, fmt, ext, content_type = image.convert("RGBA"), "PNG", ".png", "image/png"
    else:
        image, fmt, ext, content_type = image.convert("RGB"), "JPEG", ".jpg", "image/jpeg"

    def encode(side: int) -> bytes:
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        options: dict = {"exif": exif.tobytes()} if gps else {}
        if fmt == "JPEG":
            options.update(quality=JPEG_QUALITY, optimize=True)
        else:
            options.update(optimize=True)
        copy.save(out, fmt, **options)
        return out.getvalue()

    large, small = encode(LARGE_SIDE), encode(SMALL_SIDE)
    digest = hashlib.sha256(large).hexdigest()
    name = f"{digest[:2]}/{digest}{ext}"
    _write(storage, name, large)
    _write(storage, small_name(name), small)
    return StoredFile(name=name, content_type=content_type, size_bytes=len(large), sha256=digest,
                      has_small=True)


def _store_pdf(data: bytes, storage: FileStorage, field: str) -> StoredFile:
    if b"%%EOF" not in data[-2048:]:
        raise field_error(field, _("Tài liệu PDF bị hỏng hoặc không đầy đủ."))
    digest = hashlib.sha256(data).hexdigest()
    name = f"{digest[:2]}/{digest}.pdf"
    _write(storage, name, data)
    return StoredFile(name=name, content_type=PDF_TYPE, size_bytes=len(data), sha256=digest)


def small_name(name: str) -> str:
    """The 480 px variant's name: `ab/<hash>.jpg` → `ab/<hash>.w480.jpg`."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}{SMALL_SUFFIX}.{ext}" if dot else name + SMALL_SUFFIX


def _write(storage: FileStorage, name: str, data: bytes) -> None:
    """A file of the same content-hashed name is already right."""
    if not storage.exists(name):
        storage.put(name, data)
