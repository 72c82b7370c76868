"""The serial-tag signer built once per process from the SERIAL_KEYS setting."""
from __future__ import annotations

from flask import Flask, current_app

from ..gs1 import SerialSigner, parse_keys


def get_signer(app: Flask | None = None) -> SerialSigner:
    """This app's serial signer; `app` spares the hot path a context-proxy lookup."""
    app = app or current_app
    signer = app.extensions.get("serial_signer")
    if signer is None:
        keys = parse_keys(app.config["SERIAL_KEYS"])
        version = app.config.get("SERIAL_KEY_VERSION") or max(keys)
        signer = app.extensions["serial_signer"] = SerialSigner(keys, version)
    return signer
