"""The one error type of the GS1 package: which field is wrong, said in Vietnamese and English."""

from __future__ import annotations


class GS1Error(ValueError):
    """A GS1 value (GTIN, lot, serial, company prefix, URI path...) that breaks a rule.

    ``field`` is the machine name a form or an API error body points at; ``message`` is
    what the user reads (Vietnamese); ``message_en`` is for logs and English API clients.
    """

    field: str
    message: str
    message_en: str

    def __init__(self, field: str, message: str, message_en: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.message_en = message_en

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"GS1Error(field={self.field!r}, message={self.message!r})"

    # The default pickling replays ``args`` (the message only) into __init__, which
    # needs three arguments: errors crossing a process boundary would otherwise break.
    def __reduce__(self) -> tuple[type[GS1Error], tuple[str, str, str]]:
        return (type(self), (self.field, self.message, self.message_en))


def show_char(char: str) -> str:
    """Name a character in a Vietnamese message so a user can find it, even an invisible one."""
    if char == " ":
        return "dấu cách"
    if not char.isprintable():
        return f"U+{ord(char):04X}"
    return f"“{char}”"
