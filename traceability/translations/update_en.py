"""Refresh the English catalog from the source and the glossary.

Run from anywhere, with the project's virtualenv:

    .venv/bin/python traceability/translations/update_en.py

It re-extracts the Vietnamese msgids into messages.pot, merges them into
en/LC_MESSAGES/messages.po (no fuzzy matching), fills every entry found in
en_glossary.json (msgid -> English; for a plural entry the key is the singular msgid and
the value a list [singular, plural]), prints the msgids that are still untranslated,
checks the placeholders and compiles messages.mo. The exit status is 1 when something is
left untranslated or a translation does not match its msgid: add the missing English to
en_glossary.json and run it again.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
POT = HERE / "messages.pot"
PO = HERE / "en" / "LC_MESSAGES" / "messages.po"
GLOSSARY = HERE / "en_glossary.json"
PYBABEL = str(Path(sys.executable).parent / "pybabel")


def pybabel(*args: str) -> None:
    done = subprocess.run([PYBABEL, *args], cwd=ROOT, capture_output=True, text=True)
    # pybabel logs its progress on stderr; only warnings and errors are worth showing.
    for line in done.stderr.splitlines():
        if line.startswith(("warning", "error", "WARNING", "ERROR")) or done.returncode:
            print(line, file=sys.stderr)
    if done.returncode:
        raise SystemExit(f"pybabel {args[0]} failed")


def english_for(message, glossary: dict):  # type: ignore[no-untyped-def]
    """The glossary's English for a catalog entry, or None."""
    if isinstance(message.id, str):
        value = glossary.get(message.id)
        return value if isinstance(value, str) and value else None
    value = glossary.get(message.id[0])
    if isinstance(value, list) and len(value) == 2 and all(value):
        return tuple(value)
    return None


def is_translated(message) -> bool:  # type: ignore[no-untyped-def]
    strings = (message.string,) if isinstance(message.string, str) else message.string
    return bool(strings) and all(strings)


def main() -> int:
    # _t: the periodic report's call-time gettext (traceability/oversight/reports.py).
    pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "_t",
            "-o", str(POT.relative_to(ROOT)), ".")
    pybabel("update", "-i", str(POT.relative_to(ROOT)), "-d", str(HERE.relative_to(ROOT)),
            "-l", "en", "--no-fuzzy-matching")

    glossary = json.loads(GLOSSARY.read_text(encoding="utf-8"))
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    catalog.fuzzy = False
    untranslated, not_in_glossary = [], []
    for message in catalog:
        if not message.id:
            continue
        english = english_for(message, glossary)
        if english is not None:
            message.string = english
        elif is_translated(message):
            not_in_glossary.append(message.id)
        message.flags.discard("fuzzy")
        if not is_translated(message):
            untranslated.append(message.id)
    catalog.revision_date = datetime.now(timezone.utc)
    with PO.open("wb") as f:
        write_po(f, catalog)

    problems = [(message.id, error) for message, errors in catalog.check() for error in errors]
    pybabel("compile", "-d", str(HERE.relative_to(ROOT)))

    total = sum(1 for message in catalog if message.id)
    print(f"{total} messages: {total - len(untranslated)} translated, "
          f"{len(untranslated)} untranslated.")
    for msgid in untranslated:
        print(f"  untranslated: {msgid!r}")
    for msgid in not_in_glossary:
        print(f"  translated in messages.po but not in en_glossary.json (kept): {msgid!r}")
    for msgid, error in problems:
        print(f"  placeholder problem in {msgid!r}: {error}")
    return 1 if untranslated or problems else 0


if __name__ == "__main__":
    sys.exit(main())
