"""The producer's batch page writes quantities the reader's way, never in exponent form."""
from __future__ import annotations

from decimal import Decimal

from tests.factories import login, make_batch
from traceability.extensions import db


def test_batch_quantities_read_the_vietnamese_way_and_the_english_way(client, farm):
    halves = make_batch(farm.product, lot="TOI-02", quantity=Decimal("12.50"), unit="kg")
    round_hundreds = make_batch(farm.product, lot="TOI-03", quantity=Decimal("2.4E+2"), unit="kg")
    db.session.commit()
    login(client, farm.owner)
    vietnamese = client.get(f"/producer/batches/{halves.id}").get_data(as_text=True)
    assert "12,5 kg" in vietnamese and "12.5" not in vietnamese
    english = client.get(f"/producer/batches/{halves.id}?lang=en").get_data(as_text=True)
    assert "12.5 kg" in english and "12,5" not in english
    # The column gives back 240.000, whose normalize() used to print as 2.4E+2.
    page = client.get(f"/producer/batches/{round_hundreds.id}").get_data(as_text=True)
    assert "240 kg" in page and "E+2" not in page
