"""Inspection photos: checked, shrunk and re-encoded as JPEG under the upload folder."""
from __future__ import annotations

import os
import uuid
from typing import Any

from flask import current_app

from ..errors import field_error

MAX_SIDE = 1600
SUBDIR = "inspections"


def save_photo(upload: Any, field: str = "photo") -> str:
    """Return the path relative to UPLOAD_FOLDER. Re-encoding drops EXIF (GPS, camera)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload.stream) as image:
            if image.format not in ("JPEG", "PNG", "WEBP"):
                raise field_error(field, "Ảnh phải là JPEG, PNG hoặc WebP.")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise field_error(field, "Tệp tải lên không phải là ảnh đọc được.") from None
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], SUBDIR)
    os.makedirs(folder, exist_ok=True)
    name = f"{uuid.uuid4().hex}.jpg"
    rgb.save(os.path.join(folder, name), "JPEG", quality=82)
    return f"{SUBDIR}/{name}"


def photo_path(relative: str) -> str | None:
    """The absolute path of a stored photo, or None for anything outside the folder."""
    if not relative.startswith(SUBDIR + "/") or ".." in relative:
        return None
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], relative)
    return path if os.path.isfile(path) else None
