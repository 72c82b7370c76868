"""Oversight fixtures: a province with two communes, an officer and an inspector per region,
and a real local SMTP server that keeps what it receives."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from tests.factories import make_region, make_user
from traceability.registry.models import RegionLevel


@pytest.fixture(autouse=True)
def fresh_user_per_request(app):
    """The test's app context outlives each request, and Flask-Login caches the caller in
    `g`: forget it at the start of every request, as a real server would."""
    from flask import g, request_started

    def forget(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


@pytest.fixture()
def area(db):
    """Province P with communes A and B; officer/inspector of A, officer of B, an admin."""
    province = make_region(level=RegionLevel.PROVINCE, name="Tỉnh Thử")
    a = make_region(parent_id=province.id, name="Xã A")
    b = make_region(parent_id=province.id, name="Xã B")
    return SimpleNamespace(
        province=province, a=a, b=b,
        officer=make_user("officer", regions=[a]),
        officer_b=make_user("officer", regions=[b]),
        inspector=make_user("inspector", regions=[a]),
        admin=make_user("admin"),
    )


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def smtp_server(app, monkeypatch) -> Iterator[_Collector]:
    """A real SMTP server on 127.0.0.1; the app is pointed at it for the test."""
    from aiosmtpd.controller import Controller

    collector = _Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "SMTP_USER", None)
    monkeypatch.setitem(app.config, "MAIL_FROM", "Văn phòng OCOP <ocop@example.vn>")
    collector.port = port  # type: ignore[attr-defined]
    yield collector
    controller.stop()


@pytest.fixture()
def sign_in():
    """Kept for the oversight tests' readability: tests.factories.login does the work."""
    from tests.factories import login

    return login
