"""Batches API: a product's batches, the production diary, attachments, chain checks, EPCIS."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from .. import formats, idempotency, storage
from ..accounts.auth import api_user
from ..accounts.permissions import Action
from ..errors import error_response
from ..extensions import db
from ..openapi import Blueprint
from ..pagination import paginate_select
from . import services
from .epcis import MEDIA_TYPE, batch_document
from .media import max_upload_bytes, store_upload
from .schemas import (
    AttachmentSchema,
    AttachmentUploadSchema,
    BatchCreateSchema,
    BatchSchema,
    ChainSchema,
    EventCreateSchema,
    EventSchema,
)

# "batches" is the producer UI's blueprint (views.py); Flask needs distinct names.
blp = Blueprint("batches_api", __name__, url_prefix="/api/v1",
                description="Batches (lots) and their append-only, hash-chained production diary.")
IN_FLIGHT = "A request with the same Idempotency-Key is still being processed"




@blp.errorhandler(RequestEntityTooLarge)
def upload_too_large(exc: RequestEntityTooLarge):
    limit = max_upload_bytes(current_app.config)
    message = _("Tệp quá lớn: tối đa %(mb)s MB.",
                mb=formats.decimal(round(limit / 1024 / 1024, 1), formats.current_locale()))
    return error_response(413, "payload_too_large", message, {"file": [message]})


@blp.route("/products/<int:product_id>/batches")
class ProductBatches(MethodView):
    @blp.response(200, BatchSchema(many=True))
    @blp.errors(403)
    @blp.paginate()
    def get(self, product_id: int, pagination_parameters):
        """List a product's batches"""
        product = services.get_product(api_user(), product_id)
        return paginate_select(services.batches_of(product), pagination_parameters)

    @blp.arguments(BatchCreateSchema)
    @blp.response(201, BatchSchema)
    @blp.errors(descriptions={403: "The caller may not edit this producer"})
    def post(self, data: dict, product_id: int):
        """Open a batch (lot) of a product"""
        user = api_user()
        product = services.get_product(user, product_id)
        batch = services.new_batch(user, product, data)
        return batch


@blp.route("/batches/<int:batch_id>")
class BatchById(MethodView):
    @blp.response(200, BatchSchema)
    @blp.errors(403)
    def get(self, batch_id: int):
        """Get one batch"""
        return services.get_batch(api_user(), batch_id)


@blp.route("/batches/<int:batch_id>/events")
class BatchEvents(MethodView):
    @blp.response(200, EventSchema(many=True))
    @blp.errors(403)
    @blp.paginate()
    def get(self, batch_id: int, pagination_parameters):
        """List a batch's diary, oldest step first"""
        batch = services.get_batch(api_user(), batch_id)
        return paginate_select(services.events_of(batch), pagination_parameters)

    @blp.arguments(EventCreateSchema)
    @blp.arguments(idempotency.IdempotencyKeyHeader, location="headers")
    @blp.response(201, EventSchema)
    @blp.errors(descriptions={403: "The caller may not edit this producer", 409: IN_FLIGHT})
    def post(self, data: dict, headers: dict, batch_id: int):
        """Record a production step (or, with corrects_id, a correction of one)

        The diary is append-only: nothing is ever edited or deleted. A correction is a new
        step that points at the one it corrects; both stay visible. Send an `Idempotency-Key`
        to make a retry safe.
        """
        user = api_user()
        batch = services.get_batch(user, batch_id, Action.EDIT)
        replay = idempotency.claim(user, headers.get("key"))
        if replay is not None:
            return replay
        event = services.record_event(user, batch, data)
        return event


@blp.route("/batches/<int:batch_id>/events/<int:event_id>")
class EventById(MethodView):
    @blp.response(200, EventSchema)
    @blp.errors(403)
    def get(self, batch_id: int, event_id: int):
        """Get one diary step"""
        return services.get_event(api_user(), batch_id, event_id)


@blp.route("/batches/<int:batch_id>/events/<int:event_id>/attachments")
class EventAttachments(MethodView):
    @blp.arguments(AttachmentUploadSchema, location="form_and_files")
    @blp.arguments(idempotency.IdempotencyKeyHeader, location="headers")
    @blp.response(201, AttachmentSchema)
    @blp.errors(403, descriptions={409: IN_FLIGHT, 413: "The file is larger than the upload limit"})
    def post(self, upload: dict, headers: dict, batch_id: int, event_id: int):
        """Attach a photo or document to a diary step

        Photos are checked by decoding them, resized to at most 1600 px (plus a 480 px
        variant at `?w=480`) and stripped of EXIF data; the GPS position is kept only when
        `keep_location` is true. PDF documents (lab results) are stored as they are.
        """
        user = api_user()
        event = services.get_event(user, batch_id, event_id, Action.EDIT)
        replay = idempotency.claim(user, headers.get("key"))
        if replay is not None:
            return replay
        stored = store_upload(upload["file"].read(), storage.media(),
                              max_bytes=max_upload_bytes(current_app.config),
                              keep_location=upload["keep_location"])
        attachment = services.add_attachment(user, event, stored)
        return attachment


@blp.route("/batches/<int:batch_id>/chain")
class BatchChain(MethodView):
    @blp.response(200, ChainSchema)
    @blp.errors(403)
    def get(self, batch_id: int):
        """Verify a batch's hash chain

        `first_broken` names the first event whose stored hash or link does not match its
        recorded facts: the place where the diary was altered.
        """
        return services.chain_report(services.get_batch(api_user(), batch_id))


@blp.route("/batches/<int:batch_id>/epcis")
class BatchEpcis(MethodView):
    @blp.response(200, {"type": "object"}, content_type=MEDIA_TYPE,
                  description="EPCIS 2.0 JSON-LD document")
    @blp.errors(403)
    def get(self, batch_id: int):
        """Export a batch's diary as an EPCIS 2.0 JSON-LD document"""
        batch = services.get_batch(api_user(), batch_id)
        return epcis_response(batch)


def epcis_response(batch: Any, *, public: bool = False):
    """The batch's EPCIS document: the full one, or with `public` only what the public trace
    page shows."""
    events = list(db.session.scalars(services.events_of(batch)))
    document = batch_document(
        batch, events, base_url=current_app.config["PUBLIC_BASE_URL"],
        media_url=lambda name: url_for("batches.media", name=name, _external=True),
        public=public)
    response = jsonify(document)
    response.mimetype = MEDIA_TYPE
    return response
