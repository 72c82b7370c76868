"""Pure rendering: QR codes, EAN-13 barcodes and label sheets. No Flask, no database."""

from traceability.render.ean13 import ean13_png, ean13_svg
from traceability.render.labels import (
    CSV_COLUMNS,
    PRESETS,
    Label,
    LabelPreset,
    get_preset,
    labels_csv,
    labels_svg_zip,
    render_label_pdf,
    render_sheet_png,
)
from traceability.render.qr import EC_LEVELS, QrMatrix, matrix_svg, qr_matrix, qr_png, qr_svg

__all__ = [
    "CSV_COLUMNS",
    "EC_LEVELS",
    "PRESETS",
    "Label",
    "LabelPreset",
    "QrMatrix",
    "ean13_png",
    "ean13_svg",
    "get_preset",
    "labels_csv",
    "labels_svg_zip",
    "matrix_svg",
    "qr_matrix",
    "qr_png",
    "qr_svg",
    "render_label_pdf",
    "render_sheet_png",
]
