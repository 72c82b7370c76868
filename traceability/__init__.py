"""OCOP Trace: QR traceability for Vietnam's OCOP programme."""
