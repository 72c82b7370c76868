"""Start-up refuses to run in production without its secrets."""
from __future__ import annotations

import pytest

from traceability import create_app
from traceability.config import ConfigError, normalize_database_url


def test_production_start_up_fails_clearly_without_secrets(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SERIAL_KEYS", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY.*SERIAL_KEYS"):
        create_app()


def test_production_start_up_works_with_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "q7Vd-2mK9xR_a8LpZ3wE0tYb6NcUfHj4sGiO1")
    monkeypatch.setenv("SERIAL_KEYS", "1:" + "9f86d081884c7d659a2feaa0c55ad015")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    app = create_app()
    assert app.config["SECRET_KEY"] == "q7Vd-2mK9xR_a8LpZ3wE0tYb6NcUfHj4sGiO1"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_postgres_urls_use_the_psycopg3_driver():
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x") == "sqlite:///x"


def test_trusted_proxies_must_be_a_count(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "yes")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app({"TESTING": True})
