"""The GS1 package is pure Python: its tests run without the app and database fixtures."""

import pytest


@pytest.fixture(autouse=True)
def db() -> None:
    """Shadow the suite-wide autouse database fixture, which these tests never need."""
