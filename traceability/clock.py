"""Today's date where the certificates are issued (Vietnam), for every status decision."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def local_today() -> date:
    return datetime.now(VIETNAM).date()
