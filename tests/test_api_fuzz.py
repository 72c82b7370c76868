"""Every operation of the OpenAPI document, fed generated (mostly wrong) input by schemathesis:
never a 5xx, and every 4xx JSON body keeps the error contract {code, status, message, errors}."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.factories import make_token, make_user


def test_no_api_input_gets_a_server_error(app, db):
    admin = make_user("admin")
    token = make_token(admin)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(headers=headers)
            where = (case.method, case.formatted_path, response.content[:300])
            assert response.status_code < 500, where
            if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
                    "application/json"):
                body = response.json()
                assert {"code", "status", "message", "errors"} <= set(body), where
                assert body["status"] == response.status_code, where

        check()
