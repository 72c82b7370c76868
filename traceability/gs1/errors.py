"""The one error type of the GS1 package: which field is wrong, and why in the reader's language.

The package stays free of Flask: a message is a Vietnamese msgid marked with `N_` (so that
`pybabel extract` puts it in the catalog) with its parameters, and it is translated when it is
read, through the function the application installs with `use_translator` at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _vietnamese(msgid: str) -> str:
    return msgid


# msgid -> the text to show; the application installs one that follows the request's language.
_translate: Callable[[str], str] = _vietnamese


def use_translator(translate: Callable[[str], str] | None) -> None:
    """Install the function that translates a msgid (None: Vietnamese, the msgids themselves)."""
    global _translate
    _translate = translate or _vietnamese


@dataclass(frozen=True)
class Text:
    """A message to be translated when it is shown: a Vietnamese msgid with `%(name)s`
    placeholders and their values; a value may itself be a Text (the name of a field) or a
    tuple of them (a list, shown separated by commas)."""

    msgid: str
    params: dict[str, Any]

    def render(self, translate: Callable[[str], str] | None = None) -> str:
        translate = translate or _translate
        text = translate(self.msgid)
        if not self.params:
            return text
        return text % {key: _render(value, translate) for key, value in self.params.items()}


def _render(value: Any, translate: Callable[[str], str]) -> Any:
    if isinstance(value, Text):
        return value.render(translate)
    if isinstance(value, tuple):
        return ", ".join(str(_render(item, translate)) for item in value)
    return value


def N_(msgid: str, **params: Any) -> Text:  # noqa: N802  (gettext's name for a marked msgid)
    """Mark a Vietnamese msgid for the catalog; it is translated when the message is read."""
    return Text(msgid, params)


class GS1Error(ValueError):
    """A GS1 value (GTIN, lot, serial, company prefix, URI path...) that breaks a rule.

    ``field`` is the machine name a form or an API error body points at; ``text`` is the
    message, and ``message`` is that message in the reader's language: the request's inside
    the application, Vietnamese everywhere else.
    """

    field: str
    text: Text

    def __init__(self, field: str, text: Text) -> None:
        super().__init__(text.msgid)
        self.field = field
        self.text = text

    @property
    def message(self) -> str:
        return self.text.render()

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"GS1Error(field={self.field!r}, message={self.text.render(_vietnamese)!r})"

    # The default pickling replays ``args`` (the msgid only) into __init__, which needs the
    # field too: errors crossing a process boundary would otherwise break.
    def __reduce__(self) -> tuple[type[GS1Error], tuple[str, Text]]:
        return (type(self), (self.field, self.text))


def show_char(char: str) -> str | Text:
    """Name a character in a message so a user can find it, even an invisible one."""
    if char == " ":
        return N_("dấu cách")
    if not char.isprintable():
        return f"U+{ord(char):04X}"
    return f"“{char}”"
