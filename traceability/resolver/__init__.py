"""Resolver domain."""
