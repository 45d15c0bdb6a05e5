"""Outputs: CSV of aggregates, IATI activity XML, charts."""
