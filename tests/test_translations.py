"""The English catalog: every message is translated, the catalog is up to date with the
source, and no translation loses or invents a placeholder."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "traceability" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="en")


def test_every_message_has_an_english_translation():
    missing = [m.id for m in _catalog() if m.id and not m.string]
    assert missing == []


def test_the_catalog_holds_every_message_of_the_source(tmp_path):
    """messages.pot re-extracted now has no msgid the English catalog lacks."""
    import subprocess
    import sys

    pot = tmp_path / "now.pot"
    pybabel = str(Path(sys.executable).parent / "pybabel")
    subprocess.run([pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        source = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog() if m.id}
    assert sorted(source - known) == []


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
