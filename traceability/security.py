"""Security headers on every response, the trace lane's included.

A WSGI middleware rather than an `after_request` hook: the trace lane answers the commonest
scan before Flask builds a request, and its pages must carry the same headers. The headers
are fixed strings chosen once at start-up, so adding them costs a list append per response.

- Content-Security-Policy: the pages run no script at all; styles are inline (the trace
  page is one small file for slow phones), images come from this host or `data:`. The API
  docs (Swagger UI) are the one place that runs script, from this host's files.
- `frame-ancestors 'none'` and X-Frame-Options: DENY, so a signed-in form cannot be framed.
- X-Content-Type-Options: nosniff; Referrer-Policy: the origin only, never a serial URL.
- Strict-Transport-Security only on a request that arrived over HTTPS (as the trusted
  proxy says, see TRUSTED_PROXIES), never on plain HTTP where it would be ignored anyway.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from flask import Flask

PAGE_POLICY = ("default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HSTS = "max-age=31536000; includeSubDomains"
COMMON = (("X-Content-Type-Options", "nosniff"),
          ("X-Frame-Options", "DENY"),
          ("Referrer-Policy", "strict-origin-when-cross-origin"))


# The API docs page (Swagger UI, served from this host by apidocs.py) is the one page that
# runs script: its files and a short inline script that starts it; nothing from elsewhere.
DOCS_POLICY = ("default-src 'none'; script-src 'self' 'unsafe-inline'; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
               "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'")


class SecurityHeaders:
    """Adds the headers above to every response that does not set them itself."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app
        prefix = app.config.get("OPENAPI_URL_PREFIX") or "/api/v1"
        docs = app.config.get("OPENAPI_SWAGGER_UI_PATH")
        self.docs_paths = (prefix.rstrip("/") + docs,) if docs else ()
        self.page = (*COMMON, ("Content-Security-Policy", PAGE_POLICY))
        self.docs = (*COMMON, ("Content-Security-Policy", DOCS_POLICY))

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        extra = self.docs if self.docs_paths and path.startswith(self.docs_paths) else self.page
        https = environ.get("wsgi.url_scheme") == "https"

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _value in headers}
            added = [h for h in extra if h[0].lower() not in present]
            if https and "strict-transport-security" not in present:
                added.append(("Strict-Transport-Security", HSTS))
            # A new list: the caller's may be shared (a cached answer's headers).
            return start_response(status, [*headers, *added], exc_info)

        return self.wsgi_app(environ, start)
