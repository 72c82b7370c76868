"""Fixtures for the production diary: a producer with staff, uploads in a temporary folder, images."""
from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import ExifTags, Image

from tests.factories import make_batch, make_producer, make_product, make_user
from traceability.extensions import db


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(upload_folder: str) -> None:
    """Every diary test writes its uploads to its own folder (tests/conftest.py)."""


@dataclass
class Farm:
    producer: Any
    product: Any
    batch: Any
    owner: Any
    staff: Any


@pytest.fixture()
def farm() -> Farm:
    producer = make_producer(address="Thôn Đông, xã An Hải, huyện Lý Sơn")
    product = make_product(producer, name_vi="Tỏi cô đơn Lý Sơn")
    batch = make_batch(product, lot="TOI-01", unit="kg")
    owner = make_user("producer", producer=producer, full_name="Chủ hộ An")
    staff = make_user("producer", producer=producer, membership="staff", full_name="Nhân viên Bình")
    db.session.commit()
    return Farm(producer, product, batch, owner, staff)


@pytest.fixture()
def other_farm() -> Farm:
    producer = make_producer(name="Hợp tác xã Khác")
    product = make_product(producer, name_vi="Mạch nha")
    batch = make_batch(product, lot="MN-01")
    owner = make_user("producer", producer=producer)
    staff = make_user("producer", producer=producer, membership="staff")
    db.session.commit()
    return Farm(producer, product, batch, owner, staff)


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    exif[ExifTags.Base.Model] = "Phone 1"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (15.0, 22.0, 30.5),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (109.0, 7.0, 1.0),
    }
    return exif


def jpeg_bytes(size: tuple[int, int] = (2400, 1800), *, with_gps: bool = True,
               orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (30, 120, 40))
    for x in range(0, size[0], 50):  # some detail, so JPEG does not compress to nothing
        image.putpixel((x, x % size[1]), (255, 0, 0))
    exif = gps_exif() if with_gps else Image.Exif()
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def count_rows(*models: Any) -> tuple[int, ...]:
    db.session.expire_all()
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models)


@pytest.fixture()
def row_counter() -> Iterator[Any]:
    from traceability.batches.models import Attachment, Batch, DiaryEvent

    yield lambda: count_rows(Batch, DiaryEvent, Attachment)


def call(client: Any, method: str, url: str, token: str | None = None, **kwargs: Any) -> Any:
    """One API request as the holder of `token` (anonymous without one).

    The test's app context is shared with the request, so Flask-Login's per-context cache
    of the current user is dropped first; otherwise a second identity would see the first.
    """
    from flask import g

    g.pop("_login_user", None)
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(url, method=method, headers=headers, **kwargs)


def login(client: Any, user: Any) -> None:
    """Kept as this package's name for tests.factories.login."""
    from tests.factories import login as factory_login

    factory_login(client, user)
