"""OCOP Trace: QR traceability for Vietnam's OCOP programme ("mỗi xã một sản phẩm")."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie
from werkzeug.routing import IntegerConverter

from .config import check_secrets, check_serial_keys, load_config
from .schemas_common import MAX_ID


class DatabaseIdConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _install_template_gettext(app: Flask) -> None:
    """Templates look translations up in catalogs loaded once per process and language.
    Flask-Babel's callables resolve the translations object through several context proxies
    on every `_()` call, which on the trace page cost more than the page's SQL."""
    from babel.support import NullTranslations, Translations
    from flask_babel import get_locale

    directory = os.path.join(app.root_path, "translations")
    catalogs: dict[str, NullTranslations] = {}

    def catalog() -> NullTranslations:
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        found = catalogs.get(locale)
        if found is None:
            found = catalogs[locale] = Translations.load(directory, [locale])
        return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True,
    )


def _install_gs1_translator() -> None:
    """GS1 errors (gs1/ knows nothing of Flask) read in the request's language, through the
    same catalog as every other message; outside a request they stay Vietnamese."""
    from flask import has_request_context
    from flask_babel import gettext

    from .gs1.errors import use_translator

    use_translator(lambda msgid: gettext(msgid) if has_request_context() else msgid)


def select_locale() -> str:
    """?lang= beats the lang cookie beats Accept-Language; Vietnamese by default."""
    from flask import current_app, has_request_context

    if not has_request_context():  # CLI commands, mail jobs: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return locale_from_environ(request.environ, current_app.config)


def locale_from_environ(environ: dict[str, Any], config: Any) -> str:
    """select_locale's choice read from a WSGI environ alone (the trace lane has no request).

    Parses only what is there: werkzeug's request.args and request.cookies build an exception
    object for every missing key looked up, which on the trace page added up."""
    languages = config["LANGUAGES"]
    query = environ.get("QUERY_STRING", "")
    if "lang=" in query:
        chosen = parse_qs(query).get("lang", [None])[0]
        if chosen in languages:
            return chosen
    cookie = environ.get("HTTP_COOKIE", "")
    if "lang=" in cookie:
        chosen = parse_cookie(cookie).get("lang")
        if chosen in languages:
            return chosen
    return _best_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""), tuple(languages)) \
        or config["BABEL_DEFAULT_LOCALE"]


@lru_cache(maxsize=512)
def _best_language(header: str, languages: tuple[str, ...]) -> str | None:
    """The best of `languages` for an Accept-Language header (phones send few distinct ones)."""
    if not header:
        return None
    return parse_accept_header(header, LanguageAccept).best_match(languages)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_config(app.instance_path))
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Vietnamese stays readable
    # Primary keys are 32-bit integers: a larger id in a URL is a 404, not a driver overflow.
    app.url_map.converters["int"] = DatabaseIdConverter
    if config:
        app.config.update(config)
    if app.config.get("TESTING"):
        app.config["APP_ENV"] = "test"
    if app.config["APP_ENV"] not in {"development", "test"}:
        check_secrets(app.config)
    else:
        check_serial_keys(app.config)

    from . import models  # noqa: F401  (every model registered before mappers configure)
    from .accounts import auth  # noqa: F401  (registers the login loaders)
    from .errors import register_error_handlers
    from .extensions import api, babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    _install_template_gettext(app)
    _install_gs1_translator()
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from . import apidocs

    apidocs.init_app(app)  # before api.init_app: where the docs page loads Swagger UI from
    api.init_app(app)

    from . import image_slots, storage, web

    storage.init_app(app)
    from .codes import keys, print_jobs

    keys.init_app(app)
    print_jobs.init_app(app)  # built here, started after gunicorn's fork (gunicorn.conf.py)
    image_slots.init_app(app)
    web.init_app(app)
    _register_blueprints(app)
    from .resolver import infra
    from .resolver.lane import TraceLane

    infra.init_app(app)  # the trace path's engine, scan log and caches (resolver/infra.py)

    app.wsgi_app = TraceLane(app, app.wsgi_app)  # type: ignore[method-assign]
    from .security import SecurityHeaders

    # Around the lane, so that its pages carry the same headers as Flask's.
    app.wsgi_app = SecurityHeaders(app, app.wsgi_app)  # type: ignore[method-assign]
    if app.config.get("TRUSTED_PROXIES"):
        # Outermost, so that the lane, the rate limits and the scans' network hashes all
        # see the client's address, not the proxy's.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # After api.init_app: flask-smorest's app-wide HTTPException handler would answer
    # public pages with JSON; ours keeps HTML outside /api/.
    register_error_handlers(app)
    _register_template_helpers(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """The HTML blueprints, and the API's (flask-smorest, mounted under /api/v1)."""
    from .accounts import api as accounts_api
    from .accounts import views as accounts_views
    from .batches import api as batches_api
    from .batches import views as batches_views
    from .codes import api as codes_api
    from .extensions import api, csrf
    from .oversight import api as oversight_api
    from .oversight import views as oversight_views
    from .registry import api as registry_api
    from .registry import views as registry_views
    from .resolver import views as resolver_views
    from .views import blp as site

    for module in (registry_api, accounts_api, batches_api, codes_api, oversight_api):
        # The API authenticates with bearer tokens, not cookies: CSRF does not apply.
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
    for module in (accounts_views, batches_views, registry_views, resolver_views, oversight_views):
        app.register_blueprint(module.blp)
    app.register_blueprint(site)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from . import formats
    from .registry.status import status_label

    formats.init_app(app)  # number, decimal, date, datetime: the Vietnamese way, or English
    app.add_template_filter(status_label, "certificate_status_label")

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        return {"current_locale": str(get_locale() or "vi")}
