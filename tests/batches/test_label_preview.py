"""The labels page: choose the stock, see the first sheet as it will print, download it."""
from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from tests.factories import make_batch, make_product, make_user
from traceability.codes.models import LabelLevel
from traceability.codes.services import issue_label_run, iter_run_labels
from traceability.extensions import db
from traceability.gs1 import make_gtin13

from .conftest import login

PREFIX = "8939922"


def _codes(png: bytes) -> dict[zxingcpp.BarcodeFormat, list[str]]:
    image = Image.open(io.BytesIO(png)).convert("L")
    image = image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)
    found: dict[zxingcpp.BarcodeFormat, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format, []).append(result.text)
    return found


def test_the_newest_run_is_previewed_and_another_stock_can_be_chosen(client, farm):
    farm.producer.gs1_company_prefix = PREFIX
    product = make_product(farm.producer, gtin=make_gtin13(PREFIX, 1), name_vi="Tỏi cô đơn")
    batch = make_batch(product, lot="TOI-02")
    older = issue_label_run(batch, level=LabelLevel.LOT)
    newer = issue_label_run(batch, level=LabelLevel.UNIT, count=30)
    db.session.commit()
    login(client, farm.owner)
    url = f"/producer/batches/{batch.id}/labels"

    page = client.get(url).get_data(as_text=True)
    assert f'src="/producer/label-runs/{newer.id}/preview.png?preset=a4-3x8"' in page
    assert f"/producer/label-runs/{older.id}/preview.png" not in page
    assert f'href="/api/v1/label-runs/{newer.id}/labels.pdf?preset=a4-3x8"' in page
    assert f'action="{url}#run-{older.id}"' in page and "<script" not in page

    chosen = client.get(f"{url}?run={older.id}&preset=roll-50x30").get_data(as_text=True)
    assert f'src="/producer/label-runs/{older.id}/preview.png?preset=roll-50x30"' in chosen
    assert f'href="/api/v1/label-runs/{older.id}/labels.pdf?preset=roll-50x30"' in chosen
    assert re.search(r'<option value="roll-50x30" selected>', chosen)
    # An unknown stock in the address falls back to the default one.
    fallback = client.get(f"{url}?run={older.id}&preset=a5").get_data(as_text=True)
    assert f"/producer/label-runs/{older.id}/preview.png?preset=a4-3x8" in fallback

    preview = client.get(f"/producer/label-runs/{newer.id}/preview.png?preset=a4-3x8")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    assert preview.headers["Cache-Control"] == "private, no-cache"
    found = _codes(preview.data)
    first_sheet = [label.url for label in iter_run_labels(newer)][:24]
    assert sorted(found[zxingcpp.BarcodeFormat.QRCode]) == sorted(first_sheet)
    assert client.get(f"/producer/label-runs/{newer.id}/preview.png?preset=a4-3x8",
                      headers={"If-None-Match": preview.headers["ETag"]}).status_code == 304

    roll = client.get(f"/producer/label-runs/{older.id}/preview.png?preset=roll-50x30")
    assert _codes(roll.data)[zxingcpp.BarcodeFormat.EAN13] == [make_gtin13(PREFIX, 1)]


def test_a_preview_needs_a_known_stock_and_the_right_to_view(client, farm, other_farm):
    run = issue_label_run(farm.batch, level=LabelLevel.UNIT, count=3)
    foreign = issue_label_run(other_farm.batch, level=LabelLevel.UNIT, count=3)
    db.session.commit()
    assert client.get(f"/producer/label-runs/{run.id}/preview.png").status_code == 302  # sign in
    login(client, farm.staff)
    assert client.get(f"/producer/label-runs/{run.id}/preview.png").status_code == 200
    bad = client.get(f"/producer/label-runs/{run.id}/preview.png?preset=a5")
    assert bad.status_code == 422 and "Khổ tem không hợp lệ." in bad.get_data(as_text=True)
    assert client.get(f"/producer/label-runs/{foreign.id}/preview.png").status_code == 403
    assert client.get("/producer/label-runs/999999/preview.png").status_code == 404
    inspector = make_user("inspector", regions=[farm.producer.region])
    db.session.commit()
    login(client, inspector)
    assert client.get(f"/producer/label-runs/{run.id}/preview.png").status_code == 200
