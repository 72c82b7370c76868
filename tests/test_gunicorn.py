"""What `make run` and the image serve with, checked on a real gunicorn: an access log
without personal data (gunicorn.conf.py), and rate limits shared by the workers.

The access log holds no personal data:
a real gunicorn serves a unit scan and a claim link, and its log is read back."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 2,
             access_log: str = "/dev/null") -> Iterator[str]:
    """A real gunicorn serving wsgi:app in development mode, with the project's gunicorn.conf.py
    read from the working directory as in `make run`; yields its URL once /livez answers."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--access-logfile", access_log, "wsgi:app"],
        cwd=ROOT, env={**os.environ, "APP_ENV": "development", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/livez", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(10)


def test_gunicorn_access_log_has_no_address_agent_query_serial_or_claim_secret(database_url, tmp_path):
    log = tmp_path / "access.log"
    with gunicorn({"DATABASE_URL": database_url, "TRUSTED_PROXIES": "1"}, workers=1,
                  access_log=str(log)) as base:
        for path in ("/01/08938500000014/10/LOT-7/21/42ABCDEF?lang=en&ref=0926606409",
                     "/claim/s3cr3t-claim-token", "/invite/s3cr3t-invite-token"):
            request = urllib.request.Request(base + path, headers={
                "User-Agent": "Zalo-Android/Nguyen-Van-A", "X-Forwarded-For": "203.113.7.9",
                "Referer": "https://zalo.me/chat/0926606409"})
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError:
                pass
        for _ in range(50):
            if log.exists() and log.read_text().count("\n") >= 4:
                break
            time.sleep(0.1)
    text = log.read_text()
    assert "/01/08938500000014/10/LOT-7/21/-" in text  # the operator still sees the route
    assert "/claim/-" in text and "/invite/-" in text
    for personal in ("127.0.0.1", "203.113.7.9", "Zalo", "Nguyen", "42ABCDEF", "0926606409",
                     "lang=en", "s3cr3t", "zalo.me"):
        assert personal not in text, personal


def test_rate_limits_hold_across_two_workers_on_the_embedded_default(database_url, tmp_path):
    """`make run` serves with two workers and no Redis: /verify's 60 a minute must be 60 in
    all, not 60 per worker (each worker counting in its own memory let 120 through)."""
    with gunicorn({"DATABASE_URL": database_url,
                   "RATELIMIT_STORAGE_URI": f"sqlite:///{tmp_path}/limits.sqlite3"}) as base:
        statuses = []
        for _ in range(70):
            try:
                statuses.append(urllib.request.urlopen(
                    base + "/verify/01/08938500000014", timeout=5).status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
    assert statuses.count(429) == 10


def test_the_default_rate_limit_store_is_a_file_shared_by_the_workers(monkeypatch):
    from traceability.config import load_config

    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    assert load_config("/srv/ocop/instance")["RATELIMIT_STORAGE_URI"] == \
        "sqlite:////srv/ocop/instance/ratelimits.sqlite3"
