"""The English catalog: every message of the public pages is translated, and no translation
loses or invents a placeholder."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "traceability" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PUBLIC = ("templates/resolver/", "templates/base.html", "templates/errors/", "templates/site/",
          "traceability/errors.py", "traceability/resolver/", "templates/accounts/",
          "traceability/accounts/", "templates/producer/", "traceability/batches/",
          "traceability/codes/")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="en")


def test_every_message_of_the_public_pages_has_an_english_translation():
    missing = [m.id for m in _catalog() if m.id and not m.string
               and any(any(p in path for p in PUBLIC) for path, _ in m.locations)]
    assert missing == []


def test_translations_keep_their_placeholders():
    for message in _catalog():
        if message.id and message.string:
            source = message.id if isinstance(message.id, str) else message.id[0]
            target = message.string if isinstance(message.string, str) else message.string[0]
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source


def test_the_trace_page_reads_in_english_when_asked(client, db):
    from tests.factories import make_batch, make_certificate, make_product

    product = make_product(gtin="08939900001010", name_vi="Tỏi Lý Sơn", name_en="Ly Son garlic")
    make_certificate(product, stars=5, score=None)
    make_batch(product, lot="L1")
    db.session.commit()
    html = client.get("/01/08939900001010/10/L1?lang=en").get_data(as_text=True)
    assert "Production diary" in html and "OCOP 5 stars — valid" in html and "Ly Son garlic" in html
    assert "Nhật ký sản xuất" not in html
