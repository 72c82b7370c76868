"""BENCH_QUICK=1: each benchmark runs briefly on less work and prints its usual lines, to
check that it works (tests/test_readme_commands.py runs the README's commands so); the figures
of such a run mean nothing."""
from __future__ import annotations

import os

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def scaled(full: int, quick: int, what: str) -> int:
    """`full`, or under BENCH_QUICK the smaller `quick`, said in the output."""
    if QUICK and full > quick:
        print(f"BENCH_QUICK: {quick:,} {what} instead of {full:,}; the figures mean nothing",
              flush=True)
        return quick
    return full
