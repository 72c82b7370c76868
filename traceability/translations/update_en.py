"""Refresh the English catalog: extract the Vietnamese msgids, merge, fill from the glossary,
list what is still untranslated, compile. Run from the project root:
    .venv/bin/python traceability/translations/update_en.py
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYBABEL = str(Path(sys.executable).parent / "pybabel")


def main() -> None:
    subprocess.run([PYBABEL, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(HERE / "messages.pot"), "."], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([PYBABEL, "update", "--no-fuzzy-matching", "-i", str(HERE / "messages.pot"),
                    "-d", str(HERE), "-l", "en"], cwd=ROOT, check=True, capture_output=True)
    glossary = json.loads((HERE / "en_glossary.json").read_text(encoding="utf-8"))
    po_path = HERE / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as f:
        catalog = read_po(f, locale="en")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in glossary:
            message.string = glossary[key] if isinstance(message.id, str) else (glossary[key], glossary[key])
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(key)
    with po_path.open("wb") as f:
        write_po(f, catalog, width=100)
    subprocess.run([PYBABEL, "compile", "-d", str(HERE)], cwd=ROOT, check=True, capture_output=True)
    print(f"{len(catalog) - 1 - len(missing)} translated, {len(missing)} untranslated")


if __name__ == "__main__":
    main()
