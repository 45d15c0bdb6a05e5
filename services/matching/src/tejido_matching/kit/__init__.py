"""Helpers shared by the matching service's domains (profile reader, vocabularies)."""
