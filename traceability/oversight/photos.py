"""Inspection photos: checked, shrunk and re-encoded as JPEG in the private store, never public."""
from __future__ import annotations

import io
import uuid
from typing import Any

from PIL import ImageOps

from .. import storage
from ..batches.media import decode_photo

MAX_SIDE = 1600
SUBDIR = "inspections"


def save_photo(upload: Any, field: str = "photo") -> str:
    """Return the photo's name in the private store. Re-encoding drops EXIF (GPS, camera)."""
    # The camera's rotation goes into the pixels, as EXIF does not survive the re-encoding.
    rgb = ImageOps.exif_transpose(decode_photo(upload.read(), field, MAX_SIDE)).convert("RGB")
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=82)
    name = f"{SUBDIR}/{uuid.uuid4().hex}.jpg"
    storage.private().put(name, out.getvalue())
    return name


def read_photo(name: str) -> bytes | None:
    """A stored photo's bytes, or None for a missing one or anything that is not a photo."""
    if not name.startswith(SUBDIR + "/"):
        return None
    try:
        with storage.private().open(name) as handle:
            return handle.read()
    except FileNotFoundError:
        return None
