"""The serial-tag signer, built once per app at start-up from the SERIAL_KEYS setting."""
from __future__ import annotations

from flask import Flask, current_app

from ..gs1 import SerialSigner, parse_keys


def init_app(app: Flask) -> None:
    """Parse the keys at start-up (config.check_serial_keys has refused bad ones already)."""
    keys = parse_keys(app.config["SERIAL_KEYS"])
    version = app.config.get("SERIAL_KEY_VERSION") or max(keys)
    app.extensions["serial_signer"] = SerialSigner(keys, version)


def get_signer(app: Flask | None = None) -> SerialSigner:
    """This app's serial signer; `app` spares the hot path a context-proxy lookup."""
    return (app or current_app).extensions["serial_signer"]  # type: ignore[no-any-return]
