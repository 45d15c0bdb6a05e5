"""Screening of organizations and key people against watch lists, with an adjudication queue."""
