"""Inspection photos: checked, shrunk and re-encoded as JPEG in the media storage."""
from __future__ import annotations

import io
import uuid
from typing import Any

from .. import storage
from ..errors import field_error

MAX_SIDE = 1600
SUBDIR = "inspections"


def save_photo(upload: Any, field: str = "photo") -> str:
    """Return the photo's name in the media storage. Re-encoding drops EXIF (GPS, camera)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload.stream) as image:
            if image.format not in ("JPEG", "PNG", "WEBP"):
                raise field_error(field, "Ảnh phải là JPEG, PNG hoặc WebP.")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise field_error(field, "Tệp tải lên không phải là ảnh đọc được.") from None
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=82)
    name = f"{SUBDIR}/{uuid.uuid4().hex}.jpg"
    storage.media().put(name, out.getvalue())
    return name


def read_photo(name: str) -> bytes | None:
    """A stored photo's bytes, or None for a missing one or anything that is not a photo."""
    if not name.startswith(SUBDIR + "/"):
        return None
    try:
        with storage.media().open(name) as handle:
            return handle.read()
    except FileNotFoundError:
        return None
