"""The interactive API docs (Swagger UI) served from this host, so they work without internet.

Swagger UI's files come from the pinned `flask-swagger-ui` package, which ships the upstream
`swagger-ui-dist` build (Apache-2.0) and takes its version number. flask-smorest renders the
page (`/api/v1/docs`); its assets are served here from the installed package's folder under
a path that names the version, so a browser may keep them for a year: an upgrade changes
the path. Only flask-smorest's route for the page is used, not flask-swagger-ui's blueprint.
"""
from __future__ import annotations

import os
from importlib.metadata import version

from flask import Flask, abort, send_from_directory

ONE_YEAR = 365 * 24 * 3600
# What the docs page loads (flask-smorest's swagger_ui.html) and nothing else.
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})


def assets_folder() -> str:
    import flask_swagger_ui

    return os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")


def init_app(app: Flask) -> None:
    """Point flask-smorest's docs page at this host's copy of Swagger UI; before api.init_app,
    which reads OPENAPI_SWAGGER_UI_URL."""
    prefix = (app.config.get("OPENAPI_URL_PREFIX") or "/api/v1").rstrip("/")
    docs = app.config.get("OPENAPI_SWAGGER_UI_PATH") or "/docs"
    base = f"{prefix}{docs}/swagger-ui-{version('flask-swagger-ui')}/"
    app.config["OPENAPI_SWAGGER_UI_URL"] = base
    folder = assets_folder()

    def swagger_ui_asset(filename: str):  # type: ignore[no-untyped-def]
        if filename not in ASSETS:
            abort(404)
        response = send_from_directory(folder, filename, max_age=ONE_YEAR)
        response.cache_control.immutable = True
        return response

    app.add_url_rule(base + "<filename>", "swagger_ui_asset", swagger_ui_asset)
