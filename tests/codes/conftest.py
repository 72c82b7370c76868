"""Fixtures for the codes tests: a producer with a licensed prefix, its owner and API headers."""
from __future__ import annotations

from collections.abc import Callable

import biip
import pytest

from tests.factories import make_producer, make_token, make_user
from traceability.accounts.models import User
from traceability.registry.models import Producer

PREFIX = "8934567"  # 7 digits: 100,000 item references


@pytest.fixture
def producer(db) -> Producer:
    return make_producer(gs1_company_prefix=PREFIX)


@pytest.fixture
def owner(producer: Producer) -> User:
    return make_user("producer", producer=producer)


@pytest.fixture
def bearer() -> Callable[[User], dict[str, str]]:
    def headers(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(user)}"}

    return headers


def _assert_digital_link(url: str, gtin14: str) -> None:
    parsed = biip.parse(url).gs1_digital_link_uri
    assert parsed is not None, url
    gtin_element = next(e for e in parsed.element_strings if e.ai.ai == "01")
    assert gtin_element.gtin_error is None
    assert gtin_element.value == gtin14


@pytest.fixture
def assert_digital_link() -> Callable[[str, str], None]:
    """biip, an independent parser, reads a URL as a Digital Link whose GTIN checks out."""
    return _assert_digital_link
