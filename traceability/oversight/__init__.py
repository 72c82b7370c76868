"""Oversight domain."""
