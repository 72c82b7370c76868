"""Codes domain."""
