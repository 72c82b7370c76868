"""Behind a reverse proxy (TRUSTED_PROXIES): the client's address, not the proxy's, keys the
rate limits and the scans' network hash; without the setting, X-Forwarded-For is ignored."""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import make_test_app
from traceability.extensions import db
from traceability.resolver import services
from traceability.resolver.models import Scan

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _networks() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Scan.network_hash).order_by(Scan.id)))


def test_scans_hash_the_forwarded_client_behind_a_trusted_proxy(database_url, shelf):
    proxied = make_test_app(database_url, TRUSTED_PROXIES=1).test_client()
    for index in (20, 21):  # the first through Flask (no page shell yet), then the lane
        response = proxied.get(shelf.unit_page(index), environ_base=PROXY,
                               headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
        assert response.status_code == 200
    client_network = services.network_hash("198.51.100.7")
    assert _networks() == [client_network, client_network]


def test_forwarded_headers_are_ignored_without_trusted_proxies(client, shelf):
    for index in (22, 23):
        client.get(shelf.unit_page(index), environ_base=PROXY,
                   headers={"X-Forwarded-For": "198.51.100.7"})
    assert _networks() == [services.network_hash("10.0.0.2")] * 2


def test_rate_limits_count_each_client_behind_the_proxy(database_url, shelf):
    proxied = make_test_app(database_url, TRUSTED_PROXIES=1).test_client()

    def report(client_address: str) -> int:
        return proxied.post("/report", data={"code": shelf.lot_path, "message": "Tem mờ"},
                            environ_base=PROXY,
                            headers={"X-Forwarded-For": client_address}).status_code

    assert [report("198.51.100.7") for _ in range(6)] == [200] * 5 + [429]
    assert report("198.51.100.8") == 200  # another phone behind the same proxy
