"""Security promises of the README's "Security" section: headers on every response, keys
refused at start-up, readiness, sign-in lock-out per account, the error contract for a
revoked token and for a database that went away."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import SERIAL_KEYS, make_test_app
from tests.factories import make_token, make_user
from traceability import create_app
from traceability.accounts.services import hash_password
from traceability.config import ConfigError
from traceability.extensions import db
from traceability.models_base import utcnow
from traceability.security import PAGE_POLICY

STRONG_SECRET = "q7Vd-2mK9xR_a8LpZ3wE0tYb6NcUfHj4sGiO1"


@pytest.mark.parametrize("path", ["/", "/login", "/livez", "/healthz", "/api/v1/openapi.json",
                                  "/01/08938500000014", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY
    assert "script-src" not in PAGE_POLICY and "frame-ancestors 'none'" in PAGE_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_the_trace_lane_pages_carry_the_same_headers(client, app):
    """The lane answers before Flask; the headers are added around it."""
    from traceability.security import SecurityHeaders

    assert isinstance(app.wsgi_app, SecurityHeaders) or any(
        isinstance(layer, SecurityHeaders) for layer in _layers(app.wsgi_app))


def _layers(wsgi_app):
    while wsgi_app is not None:
        yield wsgi_app
        wsgi_app = getattr(wsgi_app, "wsgi_app", None) or getattr(wsgi_app, "app", None)


def test_hsts_only_over_https_as_the_trusted_proxy_says(database_url):
    app = make_test_app(database_url, TRUSTED_PROXIES=1)
    client = app.test_client()
    forwarded = client.get("/livez", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
    assert forwarded.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/livez").headers


def test_the_api_docs_may_run_their_script_and_nothing_else_may(client):
    docs = client.get("/api/v1/docs")
    policy = docs.headers["Content-Security-Policy"]
    assert "script-src" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in client.get("/login").headers["Content-Security-Policy"]


@pytest.mark.parametrize("secret", ["x", "x" * 64, "dev-only-not-secret", "short-but-random-9f3"])
def test_production_refuses_a_weak_or_known_secret_key(monkeypatch, tmp_path, secret):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("SERIAL_KEYS", "1:" + "9f86d081884c7d659a2feaa0c55ad015")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    with pytest.raises(ConfigError, match="SECRET_KEY is too weak"):
        create_app()


@pytest.mark.parametrize("keys, message", [
    ("1:abcd", "at least 16"),                           # a 2-byte key
    ("1:ZGV2LW9ubHktc2VyaWFsLWtleS0x", "development"),   # the public development key
    ("one:9f86d081884c7d659a2feaa0c55ad015", "version"),
])
def test_production_refuses_short_malformed_or_public_serial_keys(monkeypatch, tmp_path, keys, message):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_SECRET)
    monkeypatch.setenv("SERIAL_KEYS", keys)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/p.sqlite3")
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_a_serial_key_version_that_does_not_exist_stops_start_up_in_any_environment():
    with pytest.raises(ConfigError, match="SERIAL_KEY_VERSION 7"):
        create_app({"TESTING": True, "SERIAL_KEYS": SERIAL_KEYS, "SERIAL_KEY_VERSION": 7,
                    "SECRET_KEY": "test"})


def test_healthz_reports_the_database_and_livez_only_the_process(client):
    ready = client.get("/healthz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok"}
    assert client.get("/livez").get_data(as_text=True) == "ok"


def test_healthz_is_a_503_when_the_database_is_unreachable(tmp_path):
    app = make_test_app("postgresql+psycopg://nobody@127.0.0.1:1/none",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unavailable"}
    assert response.headers["Retry-After"]


def test_a_database_that_went_away_is_a_503_with_retry_after_in_the_error_contract():
    app = make_test_app("postgresql+psycopg://nobody@127.0.0.1:1/none",
                        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    client = app.test_client()
    api = client.get("/api/v1/producers")
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "2"
    body = api.get_json()
    assert body["code"] == "service_unavailable" and body["status"] == 503
    assert "thử lại" in body["message"]
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "thử lại" in page.get_data(as_text=True)


@pytest.mark.parametrize("spelling", ["0926 606 409", "0926-606-409", "0926.606.409",
                                      " 0926606409 ", "(0926) 606 409"])
def test_sign_in_lock_out_counts_every_spelling_of_a_phone_as_one_account(client, spelling):
    make_user("producer", phone="0926606409", password_hash=hash_password("mat-khau-dung-1"))
    db.session.commit()
    variants = ["0926 606 409", "0926-606-409", "0926.606.409", "(0926)606409", "0926606409"]
    for number, login in enumerate(variants):  # each from another address
        response = client.post("/login", data={"login": login, "password": "sai"},
                               environ_base={"REMOTE_ADDR": f"10.0.{number}.1"})
        assert response.status_code == 400
    locked = client.post("/login", data={"login": spelling, "password": "mat-khau-dung-1"},
                         environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert locked.status_code == 429
    assert "tạm khóa" in locked.get_data(as_text=True)


def test_a_revoked_token_gets_the_error_contract_in_vietnamese(client):
    user = make_user("consultant")
    secret = make_token(user)
    db.session.commit()
    db.session.execute(sa.text("UPDATE api_tokens SET revoked_at = :now"), {"now": utcnow()})
    db.session.commit()
    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "unauthorized" and body["status"] == 401
    assert "thu hồi" in body["message"]
    assert "server could not verify" not in response.get_data(as_text=True)
