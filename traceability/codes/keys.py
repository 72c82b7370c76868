"""The serial-tag signer built once per process from the SERIAL_KEYS setting."""
from __future__ import annotations

from flask import current_app

from ..gs1 import SerialSigner, parse_keys


def get_signer() -> SerialSigner:
    signer = current_app.extensions.get("serial_signer")
    if signer is None:
        keys = parse_keys(current_app.config["SERIAL_KEYS"])
        version = current_app.config.get("SERIAL_KEY_VERSION") or max(keys)
        signer = current_app.extensions["serial_signer"] = SerialSigner(keys, version)
    return signer
