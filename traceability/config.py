"""Settings read from the environment; the SQLite file under instance/ is the embedded default."""
from __future__ import annotations

import os
from pathlib import Path

import click

# Values that only development and the tests may fall back to. In production a missing
# secret is a start-up error, never a silent default (see check_secrets).
_DEV_SECRET_KEY = "dev-only-not-secret"
_DEV_SERIAL_KEYS = "1:ZGV2LW9ubHktc2VyaWFsLWtleS0x"  # base64 of "dev-only-serial-key-1"

REQUIRED_SECRETS = ("SECRET_KEY", "SERIAL_KEYS")
# A SECRET_KEY signs sessions and CSRF tokens and keys the scans' network hashes: it must be
# long and random. These are refused outright (the development default, placeholders).
MIN_SECRET_KEY_CHARS = 32
MIN_SECRET_KEY_DISTINCT = 12
KNOWN_SECRET_KEYS = frozenset({_DEV_SECRET_KEY, "changeme", "change-me", "secret", "dev", "x"})


class ConfigError(click.ClickException):
    """A setting is missing or malformed; start-up stops with this message. A ClickException,
    so that the `flask` command prints it as one line ("Error: ...") instead of a traceback."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _count(value: str | None, name: str) -> int:
    if not value:
        return 0
    if not value.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {value!r}")
    return int(value)


def load_config(instance_path: str) -> dict:
    """Build the settings dict from the process environment."""
    env = os.environ
    app_env = env.get("APP_ENV", "production")
    dev = app_env in {"development", "test"}
    default_db = "sqlite:///" + str(Path(instance_path) / "ocop_trace.sqlite3")
    config = {
        "APP_ENV": app_env,
        "SECRET_KEY": env.get("SECRET_KEY") or (_DEV_SECRET_KEY if dev else None),
        "SERIAL_KEYS": env.get("SERIAL_KEYS") or (_DEV_SERIAL_KEYS if dev else None),
        "SERIAL_KEY_VERSION": int(env.get("SERIAL_KEY_VERSION", "0")) or None,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(env.get("DATABASE_URL") or default_db),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Shared by the workers of one host (see ratelimit_storage.py); Redis for several hosts.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI")
        or "sqlite:///" + str(Path(instance_path) / "ratelimits.sqlite3"),
        # How many reverse proxies stand in front and append to X-Forwarded-For/-Proto. 0
        # (the default) ignores those headers: anyone can send them.
        "TRUSTED_PROXIES": _count(env.get("TRUSTED_PROXIES"), "TRUSTED_PROXIES"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), not dev),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_BYTES", str(8 * 1024 * 1024))),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER", str(Path(instance_path) / "uploads")),
        # Files the service makes for later download (print jobs); not under UPLOAD_FOLDER,
        # which /media/ serves to anyone.
        "GENERATED_FOLDER": env.get("GENERATED_FOLDER", str(Path(instance_path) / "generated")),
        # Label downloads above this many labels are refused with a pointer to print jobs:
        # measured through gunicorn on 2 busy cores, 5,000 labels take 4-12 s as PDF or SVG
        # ZIP, and two at once 21 s, inside gunicorn's 30 s timeout (README, "Print jobs").
        "LABEL_DOWNLOAD_MAX_LABELS": _count(env.get("LABEL_DOWNLOAD_MAX_LABELS"),
                                            "LABEL_DOWNLOAD_MAX_LABELS") or 5_000,
        "PRINT_JOBS_IN_WEB_WORKERS": _bool(env.get("PRINT_JOBS_IN_WEB_WORKERS"), True),
        "PRINT_JOB_KEEP_DAYS": _count(env.get("PRINT_JOB_KEEP_DAYS"), "PRINT_JOB_KEEP_DAYS") or 7,
        "PRINT_JOB_POLL_SECONDS": 2.0,
        "PRINT_JOB_PROGRESS_SECONDS": 2.0,
        "PRINT_JOB_STALE_SECONDS": 120.0,
        "PRIVATE_FOLDER": env.get("PRIVATE_FOLDER", str(Path(instance_path) / "private")),
        # Images decoded at once on one host, by all its workers together (image_slots.py).
        "IMAGE_DECODE_SLOTS": _count(env.get("IMAGE_DECODE_SLOTS"), "IMAGE_DECODE_SLOTS") or 2,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "OCOP_FOUR_STAR_TARGET_PER_COMMUNE": int(env.get("OCOP_FOUR_STAR_TARGET_PER_COMMUNE", "1")),
        "SCAN_COPY_MAX_SCANS": int(env.get("SCAN_COPY_MAX_SCANS", "20")),
        "SCAN_COPY_MAX_NETWORKS": int(env.get("SCAN_COPY_MAX_NETWORKS", "5")),
        # Scans are written in batches this often (seconds); 0 writes each before the page returns.
        "SCAN_LOG_FLUSH_SECONDS": float(env.get("SCAN_LOG_FLUSH_SECONDS", "0" if dev else "0.2")),
        "SMTP_HOST": env.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USER": env.get("SMTP_USER"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS")),
        "MAIL_FROM": env.get("MAIL_FROM", "OCOP Trace <no-reply@localhost>"),
        "API_TITLE": "OCOP Trace API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Swagger UI from this host (apidocs.py sets OPENAPI_SWAGGER_UI_URL), never a CDN.
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},  # no badge from swagger.io
        "API_SPEC_OPTIONS": {
            "info": {"description": "GS1 codes, trace data, production diaries and OCOP oversight."},
        },
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }
    return config


def normalize_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def check_secrets(config: dict) -> None:
    """Fail start-up with a clear message when a secret is missing outside dev and tests."""
    missing = [name for name in REQUIRED_SECRETS if not config.get(name)]
    if missing:
        raise ConfigError(
            "Missing required setting(s): " + ", ".join(missing)
            + ". Set them in the environment (see README.md, 'Configuration'),"
            " or set APP_ENV=development for a local run (`make run` does, in .flaskenv)."
        )
    secret = config["SECRET_KEY"]
    if secret in KNOWN_SECRET_KEYS or len(secret) < MIN_SECRET_KEY_CHARS \
            or len(set(secret)) < MIN_SECRET_KEY_DISTINCT:
        raise ConfigError(
            f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_CHARS} random characters,"
            " for example the output of `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    if config["SERIAL_KEYS"] == _DEV_SERIAL_KEYS:
        raise ConfigError("SERIAL_KEYS is the public development key: generate your own"
                          " (see README.md, 'Configuration')")
    check_serial_keys(config)


def check_serial_keys(config: dict) -> None:
    """Serial keys are parsed at start-up: a malformed or short key stops the service here,
    not at the first unit scan."""
    from .gs1 import parse_keys

    try:
        keys = parse_keys(config["SERIAL_KEYS"] or "")
    except ValueError as exc:
        raise ConfigError(f"SERIAL_KEYS: {exc}") from None
    version = config.get("SERIAL_KEY_VERSION")
    if version and version not in keys:
        raise ConfigError(f"SERIAL_KEY_VERSION {version} is not among the versions in SERIAL_KEYS")
