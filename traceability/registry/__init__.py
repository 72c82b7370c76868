"""Registry domain."""
