"""The trace lane: the commonest scans answered before Flask builds a request.

Nearly every request a label brings is the same: an anonymous phone opening a code's Digital
Link URI, redirected to its default link, the trace page, which it then opens. Flask's
request machinery around these (a request context, URL matching, the rate limiter's and
CSRF's before-request hooks, the session, teardown) cost as much CPU as the page itself.
This WSGI middleware reads such a request from the WSGI environ and asks the trace read
model (trace.page) for its answer without any Flask context; the model answers the
redirect, and pages from its cached page parts. Whatever it does not answer — a signed-in
reader (who may be an inspector), a linkset or link type request, a syntax error, a forged
or copied serial, an unknown product, a page part not cached yet, any error — goes on to
Flask unchanged, whose route asks the same model.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask

from ..gs1 import GS1Error, parse_path
from . import trace

PREFIXES = ("/01/", "/t/", trace.PAGE_PREFIX + "/01/", trace.PAGE_PREFIX + "/t/")


class TraceLane:
    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        # A reader carrying one of these may be signed in: Flask-Login decides, not the lane.
        self.cookies = (app.config.get("SESSION_COOKIE_NAME") or "session",
                        app.config.get("REMEMBER_COOKIE_NAME") or "remember_token")

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") \
                and environ.get("PATH_INFO", "").startswith(PREFIXES):
            page = self.answer(environ)
            if page is not None:
                return page(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> trace.Page | None:
        """The read model's page, or None to let Flask answer."""
        query = environ.get("QUERY_STRING", "")
        # Percent-encoded parameters might spell linkType: Flask decodes and decides.
        if "linkType" in query or "%" in query or "linkset" in environ.get("HTTP_ACCEPT", ""):
            return None
        cookie = environ.get("HTTP_COOKIE", "")
        if cookie and any(name in cookie for name in self.cookies):
            return None
        try:
            link = parse_path(trace.code_path(trace.raw_path(environ)), query)
        except GS1Error:
            return None  # Flask's route explains the error (400)
        app = self.app
        try:
            return trace.page(app, trace.Reader.from_environ(environ, link, app), render=False)
        except Exception:  # noqa: BLE001 -- Flask's door answers (and reports) instead
            app.logger.exception("trace lane failed for %s; answering through Flask",
                                 environ.get("PATH_INFO"))
            return None
