"""The OCOP register API: public reads of regions, producers, products, certificates; set-up writes."""
from __future__ import annotations


import sqlalchemy as sa
from flask.views import MethodView
from flask_babel import gettext as _

from ..clock import local_today
from ..openapi import Blueprint
from ..pagination import paginate_select
from ..services_common import get_or_404
from .models import Certificate, Producer, Product, Region
from .schemas import (
    CertificateQuerySchema,
    CertificateSchema,
    ProducerCreateSchema,
    ProducerQuerySchema,
    ProducerSchema,
    ProducerUpdateSchema,
    ProductCreateSchema,
    ProductQuerySchema,
    ProductSchema,
    ProductUpdateSchema,
    RegionQuerySchema,
    RegionSchema,
)
from .services import (
    create_producer,
    create_product,
    region_in_force_condition,
    update_producer,
    update_product,
)
from .status import status_condition

blp = Blueprint("registry", __name__, url_prefix="/api/v1",
                description="The public OCOP register: regions, producers, products, certificates.")




@blp.route("/regions")
class Regions(MethodView):
    @blp.doc(security=[])
    @blp.arguments(RegionQuerySchema, location="query")
    @blp.response(200, RegionSchema(many=True))
    @blp.paginate()
    def get(self, args: dict, pagination_parameters):
        """List administrative units"""
        stmt = sa.select(Region).order_by(Region.code)
        if "level" in args:
            stmt = stmt.where(Region.level == args["level"])
        if "parent_id" in args:
            stmt = stmt.where(Region.parent_id == args["parent_id"])
        if "on" in args:
            stmt = stmt.where(region_in_force_condition(args["on"]))
        return paginate_select(stmt, pagination_parameters)


@blp.route("/regions/<int:region_id>")
class RegionById(MethodView):
    @blp.doc(security=[])
    @blp.response(200, RegionSchema)
    def get(self, region_id: int):
        """Get one administrative unit"""
        return get_or_404(Region, region_id, _("địa bàn"))


@blp.route("/producers")
class Producers(MethodView):
    @blp.doc(security=[])
    @blp.arguments(ProducerQuerySchema, location="query")
    @blp.response(200, ProducerSchema(many=True))
    @blp.paginate()
    def get(self, args: dict, pagination_parameters):
        """List OCOP producers"""
        stmt = sa.select(Producer).order_by(Producer.id)
        if "region_id" in args:
            stmt = stmt.where(Producer.region_id == args["region_id"])
        if "kind" in args:
            stmt = stmt.where(Producer.kind == args["kind"])
        if "q" in args:
            stmt = stmt.where(Producer.name.ilike(f"%{args['q']}%"))
        return paginate_select(stmt, pagination_parameters)

    @blp.arguments(ProducerCreateSchema)
    @blp.response(201, ProducerSchema)
    @blp.errors(403, 409)
    def post(self, data: dict):
        """Register a producer to set it up (consultant, officer, admin)"""
        from ..accounts.auth import api_user

        producer = create_producer(api_user(), data)
        return producer


@blp.route("/producers/<int:producer_id>")
class ProducerById(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ProducerSchema)
    def get(self, producer_id: int):
        """Get one producer"""
        return get_or_404(Producer, producer_id, _("chủ thể"))

    @blp.arguments(ProducerUpdateSchema)
    @blp.response(200, ProducerSchema)
    @blp.errors(403, 409)
    def patch(self, data: dict, producer_id: int):
        """Update a producer (those who may edit it)"""
        from ..accounts.auth import api_user

        user = api_user()
        producer = update_producer(user, get_or_404(Producer, producer_id, _("chủ thể")), data)
        return producer


@blp.route("/producers/<int:producer_id>/products")
class ProducerProducts(MethodView):
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    @blp.errors(403, 409)
    def post(self, data: dict, producer_id: int):
        """Add a product to a producer (those who may edit it)"""
        from ..accounts.auth import api_user

        user = api_user()
        product = create_product(user, get_or_404(Producer, producer_id, _("chủ thể")), data)
        return product


@blp.route("/products")
class Products(MethodView):
    @blp.doc(security=[])
    @blp.arguments(ProductQuerySchema, location="query")
    @blp.response(200, ProductSchema(many=True))
    @blp.paginate()
    def get(self, args: dict, pagination_parameters):
        """List OCOP products"""
        stmt = sa.select(Product).order_by(Product.id)
        if "producer_id" in args:
            stmt = stmt.where(Product.producer_id == args["producer_id"])
        if "group" in args:
            stmt = stmt.where(Product.group == args["group"])
        if "region_id" in args:
            stmt = stmt.join(Producer).where(Producer.region_id == args["region_id"])
        return paginate_select(stmt, pagination_parameters)


@blp.route("/products/<int:product_id>")
class ProductById(MethodView):
    @blp.doc(security=[])
    @blp.response(200, ProductSchema)
    def get(self, product_id: int):
        """Get one product"""
        return get_or_404(Product, product_id, _("sản phẩm"))

    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    @blp.errors(403, 409)
    def patch(self, data: dict, product_id: int):
        """Update a product; an assigned GTIN never changes"""
        from ..accounts.auth import api_user

        user = api_user()
        product = update_product(user, get_or_404(Product, product_id, _("sản phẩm")), data)
        return product


@blp.route("/certificates")
class Certificates(MethodView):
    @blp.doc(security=[])
    @blp.arguments(CertificateQuerySchema, location="query")
    @blp.response(200, CertificateSchema(many=True))
    @blp.paginate()
    def get(self, args: dict, pagination_parameters):
        """List OCOP certificates"""
        stmt = sa.select(Certificate).order_by(Certificate.id)
        if "product_id" in args:
            stmt = stmt.where(Certificate.product_id == args["product_id"])
        if "stars" in args:
            stmt = stmt.where(Certificate.stars == args["stars"])
        if "status" in args:
            stmt = stmt.where(status_condition(args["status"], local_today()))
        return paginate_select(stmt, pagination_parameters)


@blp.route("/certificates/<int:certificate_id>")
class CertificateById(MethodView):
    @blp.doc(security=[])
    @blp.response(200, CertificateSchema)
    def get(self, certificate_id: int):
        """Get one certificate"""
        return get_or_404(Certificate, certificate_id, _("giấy chứng nhận"))
