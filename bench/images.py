"""Benchmark: time and peak memory of checking and storing one large uploaded photo.

Each file is stored by `batches.media.store_upload` in a freshly spawned process, so that the
peak RSS it reports is that upload's alone (the RSS before it starts is shown apart as
`base`). Usage: `.venv/bin/python bench/images.py [--keep DIR]`.
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw  # noqa: E402


def _picture(size: tuple[int, int]) -> Image.Image:
    """A picture with gradients and lines: it compresses like a photo of a field, not like a
    blank page, and still fits the 8 MiB upload limit at these sizes."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 97):
        draw.line([(x, 0), (width - x, height)], fill=(30, 120 + x % 100, 40), width=3)
    return image


def make_files(folder: str) -> dict[str, str]:
    files = {
        "png-7745x7745": (_picture((7745, 7745)), "PNG", {"optimize": False}),
        "png-rgba-7745x7745": (_picture((7745, 7745)).convert("RGBA"), "PNG", {}),
        "jpeg-7745x7745": (_picture((7745, 7745)), "JPEG", {"quality": 85}),
        "jpeg-8160x6120": (_picture((8160, 6120)), "JPEG", {"quality": 85}),
        "jpeg-progressive-8160x6120": (_picture((8160, 6120)), "JPEG",
                                       {"quality": 85, "progressive": True}),
        "png-4000x3000": (_picture((4000, 3000)), "PNG", {}),
        # The largest PNG (16 MP) and WebP (10 MP) accepted, with an alpha channel.
        "png-rgba-4896x3264": (_picture((4896, 3264)).convert("RGBA"), "PNG", {}),
        "webp-rgba-4896x3264": (_picture((4896, 3264)).convert("RGBA"), "WEBP", {"quality": 80}),
        "webp-rgba-3870x2580": (_picture((3870, 2580)).convert("RGBA"), "WEBP", {"quality": 80}),
    }
    paths = {}
    for name, (image, fmt, options) in files.items():
        path = os.path.join(folder, f"{name}.{fmt.lower()}")
        if not os.path.exists(path):
            image.save(path, fmt, **options)
        paths[name] = path
    return paths


def _status_kib(key: str) -> int:
    """A memory figure of this process from Linux /proc (kB)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+), so the peak is this upload's."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _store(path: str, queue) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import SERIAL_KEYS
    from traceability import create_app
    from traceability.batches.media import store_upload
    from traceability.errors import DomainError
    from traceability.storage import LocalFolderStorage

    with open(path, "rb") as handle:
        data = handle.read()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SERIAL_KEYS": SERIAL_KEYS,
                          "SQLALCHEMY_DATABASE_URI": "sqlite://", "UPLOAD_FOLDER": folder})
        with app.test_request_context("/"):
            base = _status_kib("VmRSS")
            _reset_peak()
            start = time.perf_counter()
            try:
                stored = store_upload(data, LocalFolderStorage(folder), max_bytes=64 << 20)
                outcome = f"stored {stored.size_bytes // 1024} KiB"
            except DomainError as exc:
                outcome = f"refused: {exc.message}"
            elapsed = time.perf_counter() - start
            peak = _status_kib("VmHWM")
    queue.put((elapsed, base, peak, outcome, len(data)))


def measure(path: str) -> tuple[float, int, int, str, int]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_store, args=(path, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", help="folder for the generated images (reused when present)")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="bench-images-")
    os.makedirs(folder, exist_ok=True)
    print(f"{'file':28} {'bytes':>10} {'seconds':>8} {'base MB':>8} {'peak MB':>8}  outcome")
    for name, path in make_files(folder).items():
        elapsed, base, peak, outcome, size = measure(path)
        print(f"{name:28} {size:>10} {elapsed:>8.2f} {base / 1024:>8.0f} {peak / 1024:>8.0f}  {outcome}")


if __name__ == "__main__":
    main()
