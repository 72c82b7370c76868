"""Time and peak memory of reading crafted register files, each in a child process whose
address space is capped (so a file that would exhaust memory fails there, not on the host).

Usage: .venv/bin/python bench/imports.py [--cap-mb 1500] [--rows 1000000]

Prints one line per file: its size, the answer (the rows read, or the error), the seconds
and the child's peak resident memory.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quick import QUICK, scaled  # noqa: E402
from tests.oversight.crafted import billion_laughs, deflated_padding, row_xml, sheet, xlsx  # noqa: E402
from traceability.oversight.imports import COLUMNS  # noqa: E402

HEADINGS = [heading for _k, heading, _r in COLUMNS]
ROW = ["Hợp tác xã Thử", "4300000007", "", "Thôn 1", "X1", "Tỏi", "Thực phẩm", 4, 75, "1/QĐ", "",
       "15/03/2025", ""]


def files(rows: int, bomb_mb: int, members: int) -> dict[str, bytes]:
    header = [row_xml(1, HEADINGS), row_xml(2, ROW)]
    last_cell = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    numbers = (row_xml(n, [n, n, n]) if n > 1 else row_xml(1, HEADINGS) for n in range(1, rows + 1))
    quarter = (row_xml(n, [n]) if n > 1 else row_xml(1, HEADINGS) for n in range(1, rows // 4 + 1))
    laugh = b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    return {
        "dimension A1:XFD1048576": xlsx(sheet([*header, last_cell], dimension="A1:XFD1048576")),
        f"{rows:,} rows": xlsx(sheet(numbers)),
        f"{rows // 4:,} rows, 1 cell each": xlsx(sheet(quarter)),
        f"sheet inflating to {bomb_mb:,} MB": xlsx(sheet([*header, *deflated_padding(bomb_mb << 20)])),
        "billion laughs": xlsx(sheet([row_xml(1, HEADINGS), laugh], dimension="A1:M2",
                                     prolog=billion_laughs())),
        f"{members:,} members": xlsx(sheet(header),
                                     extra=[(f"xl/media/{i}.bin", b"") for i in range(members)]),
    }


def _measure(content: bytes, cap: int, answer: multiprocessing.Queue) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from traceability.errors import DomainError
    from traceability.oversight.sheets import read_table

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    try:
        headings, rows = read_table("bench.xlsx", content)
        outcome = f"{len(rows):,} rows read"
    except DomainError as exc:
        outcome = f"refused: {exc.message}"
    except BaseException as exc:  # what the user would get as a 500
        outcome = f"{type(exc).__name__}: {str(exc)[:80]}"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    answer.put(f"{seconds:6.2f} s  peak {peak:6.0f} MB (before reading {before:4.0f} MB)  {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-mb", type=int, default=1500)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    # Under BENCH_QUICK each file is still past its limit (16 MB inflated, 1,000 members),
    # and only three are read (a child process each): a refused dimension, rows read, a bomb.
    rows = scaled(args.rows, 20_000, "rows")
    bomb_mb = scaled(1024, 24, "MB inflated")
    members = scaled(20_000, 1_200, "ZIP members")
    crafted = list(files(rows, bomb_mb, members).items())
    if QUICK:
        print(f"BENCH_QUICK: 3 files read instead of {len(crafted)}", flush=True)
        crafted = [crafted[0], crafted[2], crafted[3]]
    for name, content in crafted:
        answer = context.Queue()
        child = context.Process(target=_measure, args=(content, args.cap_mb << 20, answer))
        child.start()
        child.join()
        result = answer.get() if not answer.empty() else f"child died with exit code {child.exitcode}"
        print(f"{name:28} {len(content) / 1024:8.0f} KB  {result}", flush=True)


if __name__ == "__main__":
    main()
