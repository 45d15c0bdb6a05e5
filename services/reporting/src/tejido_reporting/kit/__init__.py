"""Helpers shared by the reporting service's domain packages (periods, territories, CSV, SQL upserts)."""
