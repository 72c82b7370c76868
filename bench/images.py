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
from quick import QUICK  # noqa: E402


def _picture(size: tuple[int, int]) -> Image.Image:
    """A picture with gradients and lines: it compresses like a photo of a field, not like a
    blank page, and still fits the 8 MiB upload limit at these sizes."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 97):
        draw.line([(x, 0), (width - x, height)], fill=(30, 120 + x % 100, 40), width=3)
    return image


# (name, width, height, format, mode, save options); under BENCH_QUICK one JPEG, one PNG and
# one WebP, shrunk eightfold in each direction.
FILES: list[tuple[str, int, int, str, str, dict]] = [
    ("png", 7745, 7745, "PNG", "RGB", {"optimize": False}),
    ("png-rgba", 7745, 7745, "PNG", "RGBA", {}),
    ("jpeg", 7745, 7745, "JPEG", "RGB", {"quality": 85}),
    ("jpeg", 8160, 6120, "JPEG", "RGB", {"quality": 85}),
    ("jpeg-progressive", 8160, 6120, "JPEG", "RGB", {"quality": 85, "progressive": True}),
    ("png", 4000, 3000, "PNG", "RGB", {}),
    # The largest PNG (16 MP) and WebP (10 MP) accepted, with an alpha channel.
    ("png-rgba", 4896, 3264, "PNG", "RGBA", {}),
    ("webp-rgba", 4896, 3264, "WEBP", "RGBA", {"quality": 80}),
    ("webp-rgba", 3870, 2580, "WEBP", "RGBA", {"quality": 80}),
]


def make_files(folder: str) -> dict[str, str]:
    files = [FILES[3], FILES[6], FILES[8]] if QUICK else FILES
    if QUICK:
        print(f"BENCH_QUICK: {len(files)} small files instead of {len(FILES)} large ones;"
              " the figures mean nothing", flush=True)
    paths = {}
    for kind, width, height, fmt, mode, options in files:
        if QUICK:
            width, height = width // 8, height // 8
        name = f"{kind}-{width}x{height}"
        path = os.path.join(folder, f"{name}.{fmt.lower()}")
        if not os.path.exists(path):
            _picture((width, height)).convert(mode).save(path, fmt, **options)
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
    paths = make_files(folder)
    print(f"{'file':28} {'bytes':>10} {'seconds':>8} {'base MB':>8} {'peak MB':>8}  outcome")
    for name, path in paths.items():
        elapsed, base, peak, outcome, size = measure(path)
        print(f"{name:28} {size:>10} {elapsed:>8.2f} {base / 1024:>8.0f} {peak / 1024:>8.0f}  {outcome}")


if __name__ == "__main__":
    main()
