"""Helpers shared by the registry's domain packages: text normalization, field-level changes, field types."""
