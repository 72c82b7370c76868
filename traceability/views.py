"""Site-wide pages: home, language switch, health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, make_response, redirect, render_template, request, url_for

from .extensions import db
from .registry.models import Certificate, Producer, Product

blp = Blueprint("site", __name__)


@blp.get("/")
def home():
    counts = {
        "producers": db.session.scalar(sa.select(sa.func.count(Producer.id))),
        "products": db.session.scalar(sa.select(sa.func.count(Product.id))),
        "certificates": db.session.scalar(sa.select(sa.func.count(Certificate.id))),
    }
    return render_template("site/index.html", counts=counts)


@blp.get("/lang/<code>")
def switch_language(code: str):
    """Remember the reader's language; only local paths are accepted as the way back."""
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = make_response(redirect(target))
    if code in ("vi", "en"):
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@blp.get("/livez")
def live():
    """Liveness: the process answers. A constant (and the benchmark's baseline route)."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@blp.get("/healthz")
def health():
    """Readiness for load balancers: the database answers a query, or this is a 503."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        database, status = "ok", 200
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        database, status = "unavailable", 503
    headers = {"Cache-Control": "no-store"}
    if status == 503:
        headers["Retry-After"] = "5"
    return jsonify({"status": "ok" if status == 200 else "unavailable", "database": database}), \
        status, headers


@blp.app_context_processor
def language_links():
    def lang_url(code: str) -> str:
        return url_for("site.switch_language", code=code, next=request.full_path.rstrip("?"))

    return {"lang_url": lang_url}
