"""Photo uploads: real image check, size limit, resizing, EXIF and GPS handling; serving /media."""
from __future__ import annotations

import io
import os
import re
import struct
import time
import zlib

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image

from tests.factories import make_token
from traceability.batches import media
from traceability.batches.models import Attachment
from traceability.batches.services import append_event
from traceability.errors import ValidationFailed
from traceability.extensions import db
from traceability.models_base import utcnow
from traceability.storage import LocalFolderStorage

from .conftest import call, jpeg_bytes, png_bytes

LIMIT = 8 * 1024 * 1024


@pytest.fixture()
def in_request(app):
    """Messages are translated for the request's language, so direct calls need one."""
    with app.test_request_context("/"):
        yield


def _open(folder: str, name: str) -> Image.Image:
    with open(os.path.join(folder, *name.split("/")), "rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def test_photo_is_resized_and_stripped_of_exif_and_gps_by_default(upload_folder):
    stored = media.store_upload(jpeg_bytes((2400, 1800)), LocalFolderStorage(upload_folder),
                                max_bytes=LIMIT)
    large = _open(upload_folder, stored.name)
    small = _open(upload_folder, media.small_name(stored.name))
    assert large.format == "JPEG" and large.size == (1600, 1200)
    assert small.size == (480, 360)
    for image in (large, small):
        exif = image.getexif()
        assert dict(exif) == {}
        assert exif.get_ifd(ExifTags.IFD.GPSInfo) == {}


def test_gps_is_kept_only_when_the_producer_opts_in(upload_folder):
    stored = media.store_upload(jpeg_bytes(), LocalFolderStorage(upload_folder), max_bytes=LIMIT,
                                keep_location=True)
    exif = _open(upload_folder, stored.name).getexif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
    assert tuple(float(x) for x in gps[ExifTags.GPS.GPSLatitude]) == (15.0, 22.0, 30.5)
    # Only the location survives: camera make and model are still removed.
    assert ExifTags.Base.Make not in exif and ExifTags.Base.Model not in exif


def test_camera_rotation_is_baked_into_the_pixels(upload_folder):
    stored = media.store_upload(jpeg_bytes((1200, 800), orientation=6),
                                LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    image = _open(upload_folder, stored.name)
    assert image.size == (800, 1200)
    assert ExifTags.Base.Orientation not in image.getexif()


def test_stored_name_is_the_content_hash(upload_folder):
    import hashlib

    stored = media.store_upload(jpeg_bytes(), LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    with open(os.path.join(upload_folder, *stored.name.split("/")), "rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == stored.sha256
    assert stored.name == f"{stored.sha256[:2]}/{stored.sha256}.jpg"
    assert stored.size_bytes == len(content)


def test_transparent_png_stays_png(upload_folder):
    stored = media.store_upload(png_bytes(), LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    assert stored.content_type == "image/png"
    assert _open(upload_folder, stored.name).mode == "RGBA"


@pytest.mark.parametrize("data", [
    b"",
    b"GIF89a not really",
    b"just some text, named photo.jpg",
    jpeg_bytes()[:2000],  # truncated: the header is fine, the pixels are not
    b"%PDF-1.7 but never finished",
])
def test_non_images_are_refused_and_nothing_is_written(upload_folder, in_request, data):
    with pytest.raises(ValidationFailed) as caught:
        media.store_upload(data, LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    assert "file" in caught.value.errors
    assert not os.path.exists(upload_folder) or not any(os.scandir(upload_folder))


def test_oversized_and_too_many_pixels_are_refused(upload_folder, in_request, monkeypatch):
    data = jpeg_bytes()
    with pytest.raises(ValidationFailed, match="Tệp quá lớn"):
        media.store_upload(data, LocalFolderStorage(upload_folder), max_bytes=len(data) - 1)
    monkeypatch.setitem(media.MAX_PIXELS, "PNG", 1000)
    with pytest.raises(ValidationFailed, match="triệu điểm ảnh"):
        media.store_upload(png_bytes((64, 48)), LocalFolderStorage(upload_folder), max_bytes=LIMIT)


def test_pdf_lab_report_is_stored_as_is(upload_folder):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    stored = media.store_upload(pdf, LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    assert stored.content_type == "application/pdf" and stored.name.endswith(".pdf")


# --- bounded decoding: pixels checked from the header, JPEG decoded small, slots per host ---


def _png_of(width: int, height: int) -> bytes:
    """A valid, fully decodable RGB PNG of that size: blank rows compress to almost nothing,
    so a 60 MP picture fits in a few hundred KB (the file the attack used)."""
    compressor = zlib.compressobj(1)
    row = b"\0" * (1 + width * 3)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims `width`×`height` (its data ends long before)."""
    data = bytearray(jpeg_bytes((64, 48), with_gps=False))
    frame = data.index(b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture(scope="module")
def png_7745() -> bytes:
    return _png_of(7745, 7745)


@pytest.fixture()
def decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    """The size of every image whose pixels get decoded, as the decoder is asked for them."""
    from PIL import ImageFile

    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def spy(self):  # type: ignore[no-untyped-def]
        if self.tile:
            sizes.append(self.size)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return sizes


def test_a_7745_square_png_is_refused_from_its_header_without_decoding(
        upload_folder, in_request, png_7745, decoded_sizes):
    assert len(png_7745) < LIMIT and 7745 * 7745 < 60_000_000  # under the old bound
    started = time.perf_counter()
    with pytest.raises(ValidationFailed, match="tối đa 16 triệu điểm ảnh") as caught:
        media.store_upload(png_7745, LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    assert time.perf_counter() - started < 1
    assert list(caught.value.errors) == ["file"]
    assert decoded_sizes == []
    assert not os.path.exists(upload_folder)


def test_a_jpeg_beyond_50_megapixels_is_refused_from_its_header(upload_folder, in_request,
                                                                decoded_sizes):
    with pytest.raises(ValidationFailed, match="tối đa 50 triệu điểm ảnh") as caught:
        media.store_upload(_jpeg_claiming(8200, 6200), LocalFolderStorage(upload_folder),
                           max_bytes=LIMIT)
    assert list(caught.value.errors) == ["file"] and decoded_sizes == []


def test_a_50_megapixel_phone_photo_is_decoded_at_a_quarter_of_its_size(upload_folder,
                                                                         decoded_sizes):
    # 8160×6120, a 50 MP sensor's full resolution (its scan data is short; libjpeg fills it in).
    stored = media.store_upload(_jpeg_claiming(8160, 6120), LocalFolderStorage(upload_folder),
                                max_bytes=LIMIT)
    assert decoded_sizes == [(2040, 1530)]  # 1/8 would be smaller than the 1600 px result
    assert _open(upload_folder, stored.name).size == (1600, 1200)


def test_a_large_jpeg_is_decoded_at_reduced_scale(upload_folder, decoded_sizes):
    stored = media.store_upload(jpeg_bytes((4000, 3000)), LocalFolderStorage(upload_folder),
                                max_bytes=LIMIT)
    # Half size is the smallest scale that still covers 1600×1200.
    assert decoded_sizes == [(2000, 1500)]
    assert _open(upload_folder, stored.name).size == (1600, 1200)
    assert _open(upload_folder, media.small_name(stored.name)).size == (480, 360)


def test_a_palette_png_is_shrunk_smoothly_and_keeps_its_transparency(upload_folder):
    image = Image.new("P", (2000, 1000), 1)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0, 0, 0] * 254)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    stored = media.store_upload(out.getvalue(), LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    assert stored.content_type == "image/png"
    result = _open(upload_folder, stored.name)
    assert result.size == (1600, 800) and result.mode == "RGBA"


def test_the_producer_form_shows_the_pixel_bound_under_its_photo_field(client, farm, row_counter,
                                                                        decoded_sizes):
    from .conftest import login

    login(client, farm.owner)
    before = row_counter()
    response = client.post(f"/producer/batches/{farm.batch.id}/record", data={
        "kind": "packing", "attachment": (io.BytesIO(_jpeg_claiming(9000, 7000)), "IMG.jpg")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'name="attachment".*?Ảnh quá lớn: tối đa 50 triệu điểm ảnh\.', page, re.S)
    assert decoded_sizes == [] and row_counter() == before


def test_no_slot_free_on_the_host_is_a_503_naming_the_file(app, client, farm, step, row_counter,
                                                            monkeypatch, decoded_sizes):
    from traceability.image_slots import HostSlots

    slots = HostSlots(app.extensions["image_slots"].folder + "-test", 1, wait_seconds=0.2)
    monkeypatch.setitem(app.extensions, "image_slots", slots)
    before = row_counter()
    with slots.hold():  # another request, in this or another worker, is decoding
        response = _upload(client, farm, step, jpeg_bytes())
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "file" in response.get_json()["errors"]
    assert decoded_sizes == [] and row_counter() == before
    assert _upload(client, farm, step, jpeg_bytes()).status_code == 201  # the slot is free again


# --- through the API ---------------------------------------------------------------------


@pytest.fixture()
def step(farm):
    event = append_event(farm.batch, {"kind": "lab_test", "occurred_at": utcnow(),
                                      "details": {"result": "Đạt"}})
    token = make_token(farm.owner)
    db.session.commit()
    return event, token


def _upload(client, farm, step, data: bytes, name: str = "a.jpg", **form):
    event, token = step
    return call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events/{event.id}/attachments",
                token, data={"file": (io.BytesIO(data), name), **form},
                content_type="multipart/form-data")


def test_api_upload_strips_gps_unless_keep_location(client, farm, step, upload_folder):
    plain = _upload(client, farm, step, jpeg_bytes()).get_json()
    kept = _upload(client, farm, step, jpeg_bytes(), keep_location="true").get_json()
    rows = {a.sha256: a for a in db.session.scalars(sa.select(Attachment))}
    assert _open(upload_folder, rows[plain["sha256"]].path).getexif().get_ifd(
        ExifTags.IFD.GPSInfo) == {}
    assert _open(upload_folder, rows[kept["sha256"]].path).getexif().get_ifd(
        ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLongitudeRef] == "E"


def test_api_refuses_a_non_image_naming_the_field(client, farm, step, row_counter, upload_folder):
    before = row_counter()
    response = _upload(client, farm, step, b"<?php echo 'hi'; ?>", "photo.jpg")
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]
    assert row_counter() == before


def test_api_refuses_an_oversized_upload(app, client, farm, step, row_counter, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 20_000)
    before = row_counter()
    response = _upload(client, farm, step, jpeg_bytes((2400, 1800)) + b"\0" * 30_000)
    assert response.status_code == 413
    assert "file" in response.get_json()["errors"]
    assert row_counter() == before


def test_api_refuses_a_missing_file(client, farm, step, row_counter):
    event, token = step
    before = row_counter()
    response = call(client, "POST", f"/api/v1/batches/{farm.batch.id}/events/{event.id}/attachments",
                    token, data={"keep_location": "true"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]
    assert row_counter() == before


def test_api_refuses_a_bad_keep_location(client, farm, step, row_counter):
    before = row_counter()
    response = _upload(client, farm, step, jpeg_bytes(), keep_location="có lẽ")
    assert response.status_code == 422
    assert "keep_location" in response.get_json()["errors"]
    assert row_counter() == before


# --- serving ---------------------------------------------------------------------------


def test_media_serves_both_sizes_with_long_cache_for_hashed_names(client, upload_folder):
    stored = media.store_upload(jpeg_bytes(), LocalFolderStorage(upload_folder), max_bytes=LIMIT)
    with client.get(f"/media/{stored.name}") as large:
        assert large.status_code == 200 and large.mimetype == "image/jpeg"
        assert "immutable" in large.headers["Cache-Control"]
        assert "max-age=31536000" in large.headers["Cache-Control"]
        assert large.headers["X-Content-Type-Options"] == "nosniff"
        assert Image.open(io.BytesIO(large.data)).size == (1600, 1200)
    with client.get(f"/media/{stored.name}?w=480") as small:
        assert Image.open(io.BytesIO(small.data)).size == (480, 360)


def test_other_files_get_a_short_cache(client, upload_folder):
    os.makedirs(os.path.join(upload_folder, "products"), exist_ok=True)
    with open(os.path.join(upload_folder, "products", "toi.png"), "wb") as handle:
        handle.write(png_bytes())
    with client.get("/media/products/toi.png") as response:
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/media/../config.py", "/media/%2e%2e/secret",
                                  "/media/nothing-here.jpg", "/media//etc/passwd"])
def test_media_never_leaves_the_upload_folder(client, upload_folder, path):
    # Werkzeug merges a doubled slash with a redirect; wherever it lands, nothing is served.
    assert client.get(path, follow_redirects=True).status_code == 404
