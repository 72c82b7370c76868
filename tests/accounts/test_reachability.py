"""Every staff task is reachable from its role's home in at most two clicks: this test signs
each role in, follows the links of the pages it sees (GET only, this host only) and names
the pages it reached."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from tests.factories import (
    login,
    make_batch,
    make_certificate,
    make_producer,
    make_product,
    make_region,
    make_user,
)
from traceability.accounts.home import home_url
from traceability.extensions import db

MAX_CLICKS = 2

# The pages each role's work needs (README: "Accounts, roles and the handover", "Production
# diary", "Oversight"), by endpoint.
TASKS = {
    "producer": {
        "batches.dashboard", "batches.product_list", "batches.product_detail", "batches.batch_list",
        "batches.batch_detail", "batches.record_step", "batches.labels", "accounts.staff",
        "accounts.tokens", "accounts.account",
    },
    "consultant": {
        "setup.producer_list", "setup.new_producer", "setup.producer", "setup.edit_producer",
        "setup.new_product", "setup.product", "batches.dashboard", "batches.product_detail", "batches.batch_detail", "batches.labels",
        "batches.new_batch", "accounts.handover", "accounts.tokens",
    },
    "officer": {
        "setup.producer_list", "setup.new_producer", "setup.producer", "oversight.producer",
        "oversight.dashboard", "oversight.follow_up", "oversight.products", "oversight.product",
        "oversight.notices", "oversight.proposals", "oversight.report_form", "oversight.import_upload",
        "oversight.inspector_home", "accounts.officer_handovers", "accounts.tokens",
    },
    "inspector": {
        "oversight.inspector_home", "oversight.inspector_products", "oversight.new_inspection",
        "oversight.verify_label",
        "accounts.tokens",
    },
}


def _world(role: str):
    region = make_region()
    producer = make_producer(region=region)
    product = make_product(producer=producer)
    make_certificate(product, stars=4, score=Decimal("80"),
                     issued_on=date.today() - timedelta(days=1050),
                     expires_on=date.today() + timedelta(days=40))
    make_batch(product)
    user = make_user(role, regions=[region] if role in ("officer", "inspector") else None,
                     producer=producer if role in ("producer", "consultant") else None)
    db.session.commit()
    return user


def _links(html: str) -> Iterable[str]:
    for href in re.findall(r'<a\s[^>]*href="([^"]+)"', html):
        href = unescape(href)
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue  # another host, or a fragment
        yield parts.path + (f"?{parts.query}" if parts.query else "")


def _endpoint(app, url: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(url).path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _reached(client, app, start: str) -> dict[str, int]:
    """Endpoint -> fewest clicks from `start`, following HTML links up to MAX_CLICKS."""
    reached: dict[str, int] = {}
    seen = {start}
    frontier = [start]
    for clicks in range(MAX_CLICKS + 1):
        following: list[str] = []
        for url in frontier:
            endpoint = _endpoint(app, url)
            if endpoint is None:
                continue
            reached.setdefault(endpoint, clicks)
            if clicks == MAX_CLICKS or endpoint.startswith(("resolver.", "batches.media")) \
                    or url.startswith("/api/"):
                continue
            answer = client.get(url)
            if answer.status_code != 200 or not answer.mimetype == "text/html":
                continue
            for link in _links(answer.get_data(as_text=True)):
                if link not in seen:
                    seen.add(link)
                    following.append(link)
        frontier = following
    return reached


@pytest.mark.parametrize("role", sorted(TASKS))
def test_every_task_of_the_role_is_at_most_two_clicks_from_its_home(app, client, role):
    user = _world(role)
    login(client, user)
    with app.test_request_context():
        home = home_url(user)
    reached = _reached(client, app, home)
    missing = sorted(TASKS[role] - set(reached))
    assert not missing, f"{role}: not reachable in {MAX_CLICKS} clicks from {home}: {missing}"
