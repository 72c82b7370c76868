"""Unit serials that a resolver can verify from a key alone, without storing a row per unit.

A serial is the unit's decimal index within its lot (1, 2, ..., no leading zeros) followed
by a 6-character tag: the first 30 bits of HMAC-SHA256(key, "{subject}\\x1f{lot}\\x1f{index}")
in the RFC 4648 base32 alphabet (A-Z, 2-7). ``subject`` is the GTIN-14 or the trace code;
``lot`` is "" for a label without a lot. The key version is not in the serial: it is kept
with the label run, so that rotating keys never changes the shape of a serial.

30 bits means one guess in about a billion succeeds: enough against made-up serials as
long as the resolver rate-limits verification, not a substitute for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping

from traceability.gs1.digital_link import QUALIFIER_MAX_LENGTH, validate_lot, validate_trace_code
from traceability.gs1.errors import N_, GS1Error
from traceability.gs1.gtin import is_valid_gtin, normalize_gtin

TAG_LENGTH = 6
MIN_KEY_BYTES = 16
# A serial is at most 20 characters, which leaves 14 digits for the index.
MAX_INDEX = 10 ** (QUALIFIER_MAX_LENGTH - TAG_LENGTH) - 1

_SERIAL_SHAPE = re.compile(rf"([1-9][0-9]*)([A-Z2-7]{{{TAG_LENGTH}}})")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_SEPARATOR = b"\x1f"
PREFIX_CACHE_SIZE = 4096


class SerialSigner:
    """Makes and checks unit serials with versioned HMAC keys."""

    def __init__(self, keys: Mapping[int, bytes], current_version: int) -> None:
        if current_version not in keys:
            raise ValueError(f"No serial key for the current version {current_version}")
        for version, key in keys.items():
            if len(key) < MIN_KEY_BYTES:
                raise ValueError(
                    f"Serial key version {version} is {len(key)} bytes; "
                    f"at least {MIN_KEY_BYTES} are needed"
                )
        self._keys = dict(keys)
        self.current_version = current_version
        self._prefixes: dict[tuple[int, str, str], hmac.HMAC] = {}

    def make(self, subject: str, lot: str, index: int, version: int | None = None) -> str:
        """The serial of unit ``index`` (1-based) of ``lot`` of ``subject``."""
        return next(iter_serials(self, subject, lot, index, 1, version))

    @staticmethod
    def split(serial: str) -> tuple[int, str]:
        """Split a serial into its index and tag; GS1Error(field="serial") when malformed."""
        match = _SERIAL_SHAPE.fullmatch(serial)
        if match is None or len(serial) > QUALIFIER_MAX_LENGTH:
            raise GS1Error(
                "serial",
                N_(
                    "Số sê-ri không đúng định dạng: phải là số thứ tự (không bắt đầu bằng 0) "
                    "rồi đến %(length)s ký tự kiểm tra (chữ in hoa A–Z hoặc số 2–7).",
                    length=TAG_LENGTH,
                ),
            )
        return int(match.group(1)), match.group(2)

    def verify(self, subject: str, lot: str, serial: str, version: int) -> bool:
        """Tell whether ``serial`` was made for this subject and lot with key ``version``.

        A malformed serial or an unknown version is simply not genuine (False); an invalid
        subject or lot is the caller's bug and raises GS1Error.
        """
        key = self._keys.get(version)
        if key is None:
            return False
        try:
            index, tag = self.split(serial)
        except GS1Error:
            return False
        mac = self._prefix(version, key, subject, lot).copy()
        mac.update(str(index).encode("ascii"))
        return hmac.compare_digest(_tag(mac.digest()), tag)

    def _prefix(self, version: int, key: bytes, subject: str, lot: str) -> hmac.HMAC:
        """The keyed HMAC state over "{subject}\\x1f{lot}\\x1f", kept for the lots being
        scanned (verification copies it and adds the index, as printing does)."""
        cache_key = (version, subject, lot)
        mac = self._prefixes.get(cache_key)
        if mac is None:
            if len(self._prefixes) >= PREFIX_CACHE_SIZE:
                self._prefixes.clear()
            mac = self._prefixes[cache_key] = _keyed_prefix(key, subject, lot)
        return mac

    def _key(self, version: int | None) -> bytes:
        chosen = self.current_version if version is None else version
        try:
            return self._keys[chosen]
        except KeyError:
            raise ValueError(f"No serial key for version {chosen}") from None


def iter_serials(
    signer: SerialSigner,
    subject: str,
    lot: str,
    first_index: int,
    count: int,
    version: int | None = None,
) -> Iterator[str]:
    """Yield the serials of units ``first_index`` .. ``first_index + count - 1`` of a lot.

    Arguments are checked at the call, not at the first ``next()``, so that a bad label
    run fails before anything is printed.
    """
    last_index = first_index + count - 1
    if first_index < 1 or count < 0 or last_index > MAX_INDEX:
        raise GS1Error("serial", N_("Số thứ tự tem phải từ 1 đến %(last)s.", last=MAX_INDEX))
    # HMAC over the shared "{subject}\x1f{lot}\x1f" prefix once; each unit only copies the
    # state and adds its index, which keeps 100,000-label runs fast.
    prefix = _keyed_prefix(signer._key(version), subject, lot)
    return _serials(prefix, first_index, last_index)


def _serials(prefix: hmac.HMAC, first_index: int, last_index: int) -> Iterator[str]:
    for index in range(first_index, last_index + 1):
        digits = str(index)
        mac = prefix.copy()
        mac.update(digits.encode("ascii"))
        yield digits + _tag(mac.digest())


def parse_keys(spec: str) -> dict[int, bytes]:
    """Read serial keys from configuration.

    Format: comma-separated ``version:secret`` items, e.g. ``"1:9f86d0...,2:q83vEjRW..."``.
    ``version`` is a positive integer; ``secret`` is hex when it is made only of hex digits
    (an even number of them), otherwise base64 (standard or URL-safe, padding optional).
    Each secret must decode to at least 16 bytes; 32 random bytes are recommended.
    Raises ValueError, which never quotes a secret.
    """
    keys: dict[int, bytes] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        version_text, separator, secret = item.partition(":")
        version_text, secret = version_text.strip(), secret.strip()
        if not separator or not version_text.isdigit() or int(version_text) < 1:
            raise ValueError(
                "Each serial key must be written 'version:secret' with a positive integer version"
            )
        version = int(version_text)
        if version in keys:
            raise ValueError(f"Serial key version {version} is given twice")
        key = _decode_secret(secret, version)
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"Serial key version {version} is {len(key)} bytes; "
                f"at least {MIN_KEY_BYTES} are needed"
            )
        keys[version] = key
    if not keys:
        raise ValueError("No serial keys configured")
    return keys


def _keyed_prefix(key: bytes, subject: str, lot: str) -> hmac.HMAC:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(_canonical_subject(subject).encode("ascii"))
    mac.update(_SEPARATOR)
    mac.update((validate_lot(lot) if lot else "").encode("ascii"))
    mac.update(_SEPARATOR)
    return mac


def _canonical_subject(subject: str) -> str:
    # A GTIN-13 at printing and a GTIN-14 at scanning must sign the same message. An
    # all-digit trace code that happens to be a valid GTIN is padded the same way on both
    # sides, so it still verifies; anything else is signed as a trace code.
    if is_valid_gtin(subject):
        return normalize_gtin(subject)
    return validate_trace_code(subject)


def _tag(digest: bytes) -> str:
    # Base32 of the first 4 bytes: each character carries 5 bits, so 6 characters are
    # exactly the first 30 bits of the digest.
    return base64.b32encode(digest[:4])[:TAG_LENGTH].decode("ascii")


def _decode_secret(secret: str, version: int) -> bytes:
    if _HEX.fullmatch(secret):
        return bytes.fromhex(secret)
    try:
        standard = secret.replace("-", "+").replace("_", "/")
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"Serial key version {version} is neither hex nor base64") from None
