"""Uploaded photos and documents: checked by decoding, resized, stripped of EXIF, content-addressed."""
from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import field_error
from ..storage import FileStorage

LARGE_SIDE = 1600
SMALL_SIDE = 480
SMALL_SUFFIX = ".w480"
# Far below Pillow's own bomb limit: a phone photo is 12-50 MP; anything bigger is refused
# before its pixels are decoded.
MAX_PIXELS = 60_000_000
JPEG_QUALITY = 85
GPS_IFD = 0x8825

IMAGE_FORMATS = {"JPEG", "PNG", "WEBP"}
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
                                   mb=f"{max_bytes / 1024 / 1024:.1f}".rstrip("0").rstrip(".")))
    if data.startswith(b"%PDF-"):
        if not allow_pdf:
            raise field_error(field, _("Chỉ nhận ảnh JPEG, PNG hoặc WebP."))
        return _store_pdf(data, storage, field)
    return _store_image(data, storage, keep_location, field)


def _not_an_image(field: str):
    return field_error(field, _("Tệp không phải là ảnh hợp lệ (JPEG, PNG, WebP) hoặc tài liệu PDF."))


def _open_image(data: bytes, field: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in IMAGE_FORMATS:
                raise _not_an_image(field)
            if image.width * image.height > MAX_PIXELS:
                raise field_error(field, _("Ảnh quá lớn: tối đa %(mp)s triệu điểm ảnh.",
                                           mp=MAX_PIXELS // 1_000_000))
            # Decoding every pixel is the real type check: a renamed or truncated file fails here.
            image.load()
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, SyntaxError, ValueError, EOFError):
            raise _not_an_image(field) from None
    return image


def _store_image(data: bytes, storage: FileStorage, keep_location: bool, field: str) -> StoredFile:
    image = _open_image(data, field)
    gps = image.getexif().get_ifd(GPS_IFD) if keep_location else {}
    # Bake the camera's rotation into the pixels: the Orientation tag goes with the rest.
    image = ImageOps.exif_transpose(image)
    exif = Image.Exif()
    if gps:
        exif[GPS_IFD] = dict(gps)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if has_alpha:
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
