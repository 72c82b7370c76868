"""What the domains' services share: one audit vocabulary and one not-found lookup."""
from __future__ import annotations

import pytest

from tests.factories import make_certificate, make_user
from traceability.errors import NotFound
from traceability.registry.models import Certificate
from traceability.services_common import ObjectType, audit, get_or_404, object_type


def test_every_audited_kind_of_object_has_one_name(db):
    from traceability.accounts.models import ApiToken, Handover, Membership, StaffInvitation, User
    from traceability.codes.models import LabelRun
    from traceability.oversight.models import Inspection
    from traceability.registry.models import Producer, Product

    models = [User, ApiToken, Membership, Handover, StaffInvitation, Producer, Product, Certificate,
              LabelRun, Inspection]
    assert sorted(object_type(model()) for model in models) == sorted(ObjectType)


def test_the_audit_log_names_the_object_and_its_producer(db):
    officer = make_user("officer")
    cert = make_certificate()
    entry = audit(officer, "certificate.register", cert, cert.product.producer_id, stars=cert.stars,
                  issued_on=cert.issued_on)
    assert (entry.object_type, entry.object_id, entry.producer_id) == ("certificate", cert.id,
                                                                       cert.product.producer_id)
    assert entry.details == {"stars": cert.stars, "issued_on": cert.issued_on.isoformat()}
    producer_entry = audit(None, "producer.update", cert.product.producer)
    assert (producer_entry.object_type, producer_entry.producer_id) == ("producer", cert.product.producer_id)


def test_an_object_outside_the_vocabulary_cannot_be_audited(db):
    from traceability.registry.models import Region

    with pytest.raises(ValueError):
        object_type(Region())


def test_a_missing_object_is_a_not_found_naming_it(db):
    with pytest.raises(NotFound) as err:
        get_or_404(Certificate, 424242, "giấy chứng nhận")
    assert err.value.message == "Không tìm thấy giấy chứng nhận #424242."
