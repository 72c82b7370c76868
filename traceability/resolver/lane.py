"""The trace lane: the commonest scan answered before Flask builds a request.

Nearly every request a label brings is the same: an anonymous phone opening a genuine unit's
trace page. Flask's request machinery around that page (a request context, URL matching,
the rate limiter's and CSRF's before-request hooks, the session, teardown) cost as much CPU
as the page itself. This WSGI middleware hands such a request straight to the resolver's fast
path (views.fast_trace_page), without any Flask context; whatever the fast path does
not answer — a signed-in reader (who may be an inspector), a linkset or link type request,
a syntax error, a forged or copied serial, a page shell not cached yet, any error — goes on
to Flask unchanged, which answers it exactly as before.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask

from ..gs1 import GS1Error, canonical_path, parse_path

PREFIXES = ("/01/", "/t/")


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
            response = self.answer(environ)
            if response is not None:
                return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def answer(self, environ: dict[str, Any]) -> Any:
        """The fast path's response, or None to let Flask answer."""
        query = environ.get("QUERY_STRING", "")
        # Percent-encoded parameters might spell linkType: Flask decodes and decides.
        if "linkType" in query or "%" in query or "linkset" in environ.get("HTTP_ACCEPT", ""):
            return None
        cookie = environ.get("HTTP_COOKIE", "")
        if cookie and any(name in cookie for name in self.cookies):
            return None
        from .views import fast_trace_page, raw_path

        try:
            link = parse_path(raw_path(environ), query)
        except GS1Error:
            return None  # Flask's route explains the error (400)
        app = self.app
        try:
            if "trace_autocommit" in app.extensions and "scan_log" in app.extensions:
                # The fast path takes `app` as an argument and needs no context (pushing
                # and popping one cost a tenth of the lane's time) once this process's
                # read engine and scan log exist; making them needs one.
                return fast_trace_page(environ, link, canonical_path(link), render=False, app=app)
            with app.app_context():
                return fast_trace_page(environ, link, canonical_path(link), render=False, app=app)
        except Exception:  # noqa: BLE001 -- Flask's path answers (and reports) instead
            self.app.logger.exception("trace lane failed for %s; answering through Flask",
                                      environ.get("PATH_INFO"))
            return None
