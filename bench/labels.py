"""Benchmark: label-sheet PDF rendering against segno encoding the same URLs to SVG."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import segno
from quick import scaled

from traceability.render.labels import Label, render_label_pdf

HOST = "https://trace.example.vn"
GTIN14 = "08930000012340"  # 893 (GS1 Vietnam) prefix with a valid check digit
LOT = "LS2025-11"
PRODUCT = "Tỏi cô đơn Lý Sơn – đặc sản Quảng Ngãi"
KEY = b"bench-only-key-v1"


def serial(index: int) -> str:
    """A unit serial as the codes package makes them: index plus a short keyed tag."""
    digest = hmac.new(KEY, f"{GTIN14}|{LOT}|{index}".encode(), hashlib.sha256).digest()
    return f"{index}{base64.b32encode(digest).decode()[:6]}"


def unit_labels(count: int) -> Iterator[Label]:
    for index in range(1, count + 1):
        unit = serial(index)
        # Printed with its GTIN, as every run of a product with a GTIN is: an EAN-13 beside
        # each QR on this stock.
        yield Label(url=f"{HOST}/01/{GTIN14}/10/{LOT}/21/{unit}", product_name=PRODUCT,
                    lot=LOT, serial=unit, stars=4, gtin=GTIN14)


def time_pdf(count: int, preset: str, workers: int | None) -> tuple[float, int]:
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        rendered = render_label_pdf(unit_labels(count), preset, out, workers=workers)
        elapsed = time.perf_counter() - start
        size = out.tell()
    assert rendered == count
    return elapsed, size


def time_segno(count: int) -> float:
    urls = [label.url for label in unit_labels(count)]
    start = time.perf_counter()
    for url in urls:
        buffer = io.BytesIO()
        segno.make(url, error="m").save(buffer, kind="svg")
    return time.perf_counter() - start


def _descendant_peaks_kib(root: int) -> dict[int, int]:
    """Peak RSS (VmHWM) of every live descendant of `root`, read from Linux /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces; the parent pid follows its closing ")".
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    family, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in family} - family
        family |= found
        grew = bool(found)
    peaks: dict[int, int] = {}
    for pid in family - {root}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1])
        except OSError:
            continue
    return peaks


def _memory_child(count: int, preset: str, workers: int | None,
                  results: multiprocessing.Queue[tuple[float, int, int, int]]) -> None:
    # Pool workers are forked by the forkserver, not by this process, so RUSAGE_CHILDREN
    # misses them; a sampling thread reads their peaks from /proc while they live.
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            for pid, peak in _descendant_peaks_kib(os.getpid()).items():
                peaks[pid] = max(peak, peaks.get(pid, 0))

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc/self/status").exists():
        sampler.start()
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        render_label_pdf(unit_labels(count), preset, out, workers=workers)
        elapsed = time.perf_counter() - start
        size = out.tell()
    done.set()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results.put((elapsed, size, own, max(peaks.values(), default=0)))


def measure_memory(count: int, preset: str, workers: int | None) -> None:
    # A fresh spawned process, so nothing this script allocated counts against the run.
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_memory_child, args=(count, preset, workers, results))
    child.start()
    elapsed, size, own_kib, workers_kib = results.get()
    child.join()
    print(f"memory run: {count} labels, preset {preset}: {elapsed:.2f} s, "
          f"{count / elapsed:,.0f} labels/s, PDF {size / 1e6:.1f} MB")
    print(f"peak RSS: rendering process {own_kib / 1024:.1f} MB, "
          f"largest helper process (pool worker or forkserver) {workers_kib / 1024:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--preset", default="a4-3x8")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: automatic)")
    parser.add_argument("--memory", type=int, metavar="N",
                        help="only render an N-label PDF and report peak RSS")
    args = parser.parse_args()

    if args.memory:
        measure_memory(scaled(args.memory, 200, "labels"), args.preset, args.workers)
        return

    args.count = scaled(args.count, 100, "labels")
    pdf_seconds, size = time_pdf(args.count, args.preset, args.workers)
    print(f"PDF ({args.preset}): {args.count} labels in {pdf_seconds:.2f} s, "
          f"{args.count / pdf_seconds:,.0f} labels/s, {size / 1e6:.1f} MB")
    segno_seconds = time_segno(args.count)
    print(f"segno SVG encode only: {args.count} URLs in {segno_seconds:.2f} s, "
          f"{args.count / segno_seconds:,.0f} codes/s")
    print(f"ratio: {segno_seconds / pdf_seconds:.1f}")


if __name__ == "__main__":
    main()
