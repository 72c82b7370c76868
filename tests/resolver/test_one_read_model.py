"""One trace read model, two doors: the trace lane (a WSGI middleware, no Flask context) and
Flask's route read the request their own way and ask the same trace.page(). For every kind
of page, in Vietnamese and in English, their answers are byte-identical: status, every
header, body, and the scan row they log. Scans are kept aside and the clock stopped, so
that both doors see the same scans and the same time."""
from __future__ import annotations

from datetime import datetime, timezone

import flask_wtf.csrf
import pytest
from werkzeug.test import run_wsgi_app

from tests.factories import login, make_user
from tests.resolver.conftest import GTIN
from traceability.accounts.models import User
from traceability.extensions import db
from traceability.gs1 import parse_path
from traceability.resolver import trace
from traceability.resolver.lane import TraceLane
from traceability.resolver.scanlog import ScanLog
from traceability.security import SecurityHeaders

NOW = datetime(2026, 11, 29, 3, 4, 5, tzinfo=timezone.utc)
LOCALES = ("vi", "en")


@pytest.fixture()
def scans(app, monkeypatch) -> list[dict]:
    rows: list[dict] = []
    monkeypatch.setattr(ScanLog, "add", lambda self, row: rows.append(row))
    monkeypatch.setattr(trace, "utcnow", lambda: NOW)
    # The warning pages' report form carries a CSRF token, a random value kept in a session
    # cookie: one value, and no cookie (templates find it as a global and, through
    # render_template, from a context processor).
    monkeypatch.setitem(app.jinja_env.globals, "csrf_token", lambda: "TOKEN")
    monkeypatch.setattr(flask_wtf.csrf, "generate_csrf", lambda: "TOKEN")
    return rows


def _forged(shelf) -> str:
    serial = shelf.serial(5)
    return shelf.unit_page(5).replace(serial, serial[:-1] + ("A" if serial[-1] != "A" else "B"))


# kind: (method, path, whether the lane answers it once the page's parts are cached)
KINDS = {
    "redirect to the default link": lambda s: ("GET", s.unit_path(5) + "?x=1&x=2", True),
    "redirect, HEAD": lambda s: ("HEAD", s.lot_path, True),
    "genuine unit": lambda s: ("GET", s.unit_page(5), True),
    "genuine unit, HEAD": lambda s: ("HEAD", s.unit_page(6), True),
    "lot page": lambda s: ("GET", s.lot_page, True),
    "lot page, 304": lambda s: ("GET", s.lot_page, True),
    "product page": lambda s: ("GET", f"/trace/01/{GTIN}", True),
    "unknown lot walk-up": lambda s: ("GET", f"/trace/01/{GTIN}/10/NOLOT", True),
    "serial under an unknown lot": lambda s: ("GET", f"/trace/01/{GTIN}/10/NOLOT/21/{s.serial(5)}", True),
    "forged serial": lambda s: ("GET", _forged(s), False),
    "copy-flagged serial": lambda s: ("GET", s.unit_page(7), False),
    "unknown product": lambda s: ("GET", "/01/08939900009993", False),
    "unknown product's page": lambda s: ("GET", "/trace/01/08939900009993", False),
    "linkset": lambda s: ("GET", s.unit_path(8) + "?linkType=linkset", False),
    "link type": lambda s: ("GET", s.unit_path(8) + "?linkType=gs1:pip&x=1", False),
}
STATUS = {"lot page, 304": 304, "unknown product": 404, "unknown product's page": 404,
          "link type": 307, "redirect to the default link": 307, "redirect, HEAD": 307}
REDIRECTS = ("redirect to the default link", "redirect, HEAD")  # they log no scan
DOORS_ONLY = ("linkset", "link type") + REDIRECTS  # no page: nothing to render
# Something of each kind's page that does not depend on the language.
MARK = {
    "genuine unit": '<p class="alert ok">', "lot page": '<p id="bao-cao"><a href="/report?code=',
    "product page": "<dt>GTIN</dt>", "unknown lot walk-up": "NOLOT",
    "serial under an unknown lot": '<p class="alert">', "forged serial": 'action="/report"',
    "copy-flagged serial": 'action="/report"', "unknown product": 'action="/report"',
    "unknown product's page": 'action="/report"', "linkset": '"anchor"',
}


def _answer(response) -> tuple:
    return response.status_code, sorted(response.headers.items()), response.get_data()


def _served(app, page, environ) -> tuple:
    """The model's page as a client gets it: through the middleware around both doors
    (security headers), as the lane's and Flask's answers are."""
    body, status, headers = run_wsgi_app(SecurityHeaders(app, page), dict(environ))
    return int(status.split()[0]), sorted(headers.items()), b"".join(body)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_lane_and_flask_answer_alike(app, shelf, scans, flask_requests, monkeypatch,
                                         kind, locale):
    method, path, lane_answers = KINDS[kind](shelf)
    if kind == "copy-flagged serial":
        monkeypatch.setitem(app.config, "SCAN_COPY_MAX_NETWORKS", 0)
    headers = {"Accept-Language": locale}
    by_lane = app.test_client()
    by_flask = app.test_client()
    by_flask.set_cookie("session", "anonymous")  # the lane leaves it to Flask: may be signed in
    warm_up = by_flask.get(path, headers=headers)  # renders and caches the page's parts
    if kind == "lot page, 304":
        headers["If-None-Match"] = warm_up.headers["ETag"]
    flask_requests.clear()

    lane_answer = by_lane.open(path, method=method, headers=headers)
    lane_answered = not flask_requests
    flask_answer = by_flask.open(path, method=method, headers=headers)

    assert lane_answered == lane_answers and len(flask_requests) == 2 - lane_answered
    assert _answer(lane_answer) == _answer(flask_answer)
    if kind in REDIRECTS:
        assert scans == []
    else:
        assert len(scans) == 3 and scans[1] == scans[2]  # warm-up, lane, Flask
    if not lane_answers and kind not in DOORS_ONLY:
        # The lane leaves these to Flask only because it cannot render them: the model given
        # the lane's reading of the request, where templates can be rendered, builds Flask's page.
        environ = dict(lane_answer.request.environ)
        with app.app_context(), app.request_context(environ):
            reader = trace.Reader.from_environ(
                environ, parse_path(trace.code_path(path), ""), app)
            page = trace.page(app, reader, render=True)
        assert _served(app, page, environ) == _answer(flask_answer)
        assert scans[3] == scans[2]
    assert lane_answer.status_code == STATUS.get(kind, 200)
    page = warm_up.get_data(as_text=True)
    assert MARK.get(kind, "") in page
    if kind not in DOORS_ONLY:
        assert f'<html lang="{locale}">' in page
    if method == "HEAD" and kind not in REDIRECTS:
        assert lane_answer.get_data() == b"" and int(lane_answer.headers["Content-Length"]) > 1000


@pytest.mark.parametrize("locale", LOCALES)
def test_the_inspector_page_is_the_models_page(app, client, shelf, scans, locale):
    """A signed-in reader always goes to Flask; what Flask serves an inspector is the read
    model's page for that inspector, nothing added or left out."""
    login(client, make_user("inspector", regions=[shelf.producer.region]))
    user_id = db.session.scalars(db.select(User.id).where(User.role == "inspector")).one()
    lane = TraceLane(app, app.wsgi_app)
    for path in (shelf.unit_page(9), shelf.lot_page, _forged(shelf)):
        by_flask = client.get(path, headers={"Accept-Language": locale})
        assert by_flask.status_code == 200 and 'class="card inspect"' in by_flask.get_data(as_text=True)
        environ = dict(by_flask.request.environ)  # what Flask's route was given
        assert lane.answer(dict(environ)) is None
        with app.app_context(), app.request_context(environ):
            reader = trace.Reader.from_environ(environ, parse_path(trace.code_path(path), ""), app,
                                               inspector=db.session.get(User, user_id))
            page = trace.page(app, reader, render=True)
        assert _served(app, page, environ) == _answer(by_flask)
        assert scans[-2] == scans[-1]
